import hashlib

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.core.lookups import cached
from portal.core.models import SiteSettings
from portal.core.segmentation import segment_query
from portal.service_requests import answers

from .queries import PagesInOrder, matching_page_ids

RESULTS_PER_PAGE = 10
MAX_QUERY_LENGTH = 100
# Only the newest matches are listed: a resident looking further than this
# narrows the query instead, and the search stays one index pass however
# large the site grows.
MAX_RESULTS = 200
# Answers from 回应公开 shown above the pages, newest first: the listing there
# holds the rest.
ANSWERS_SHOWN = 3


def search(request):
    """Search news, talks and campaign pages, and the answers published on
    回应公开; Chinese queries are segmented the same way as the indexed text."""
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    terms = segment_query(query)
    results_page = None
    truncated = False
    found_answers, answers_page, more_answers = [], None, False
    if terms:
        # A query's matches change only with content: kept per content generation.
        ids = cached(
            "search",
            lambda: matching_page_ids(terms, MAX_RESULTS),
            hashlib.sha256(terms.encode()).hexdigest(),
        )
        truncated = len(ids) > MAX_RESULTS
        results_page = Paginator(ids[:MAX_RESULTS], RESULTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        results_page.object_list = PagesInOrder(results_page.object_list)
        answers_page = cached("answers-page", answers.live_page)
        if answers_page is not None and results_page.number == 1:
            answer_ids = cached(
                "search-answers",
                lambda: answers.matching_ids(terms, ANSWERS_SHOWN),
                hashlib.sha256(terms.encode()).hexdigest(),
            )
            more_answers = len(answer_ids) > ANSWERS_SHOWN
            found_answers = answers.in_order(answer_ids[:ANSWERS_SHOWN])
    return render(
        request,
        "search/search.html",
        {
            "query": query,
            "terms": terms,
            "crisis": SiteSettings.for_request(request).mentions_crisis(query),
            "results": results_page,
            "answers": found_answers,
            "answers_page": answers_page,
            "more_answers": more_answers,
            "truncated": truncated,
            "max_results": MAX_RESULTS,
            "page_title": _("“%(query)s”的搜索结果") % {"query": query} if query else _("站内搜索"),
        },
    )

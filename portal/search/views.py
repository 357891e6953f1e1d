import hashlib

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from wagtail.models import Page

from portal.core.lookups import cached
from portal.core.models import SiteSettings
from portal.core.segmentation import segment_query

RESULTS_PER_PAGE = 10
MAX_QUERY_LENGTH = 100
# Only the newest matches are listed: a resident looking further than this
# narrows the query instead, and the search stays one index pass however
# large the site grows.
MAX_RESULTS = 200


def searchable_pages():
    from portal.campaigns.models import CampaignPage
    from portal.news.models import NewsPage
    from portal.talks.models import TalkPage

    return Page.objects.live().public().type(NewsPage, TalkPage, CampaignPage)


def matching_page_ids(terms):
    """The ids of pages holding every term, newest first, at most MAX_RESULTS + 1
    (the extra one tells whether there were more).

    The database backends rank by relevance with one index look-up per matched
    page, which grows with the square of the matches; newest first needs one
    pass, and with every term required the newest match is what residents
    looking for a notice want."""
    results = (
        searchable_pages()
        .order_by("-first_published_at", "-id")
        .search(terms, operator="and", order_by_relevance=False)
    )
    return list(results[: MAX_RESULTS + 1].get_queryset().values_list("pk", flat=True))


def search(request):
    """Search news, talks and campaign pages; Chinese queries are segmented the
    same way as the indexed text."""
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    terms = segment_query(query)
    results_page = None
    truncated = False
    if terms:
        # A query's matches change only with content: kept per content generation.
        ids = cached(
            "search", lambda: matching_page_ids(terms), hashlib.sha256(terms.encode()).hexdigest()
        )
        truncated = len(ids) > MAX_RESULTS
        results_page = Paginator(ids[:MAX_RESULTS], RESULTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        shown = Page.objects.filter(pk__in=results_page.object_list).specific().in_bulk()
        results_page.object_list = [shown[pk] for pk in results_page.object_list if pk in shown]
    return render(
        request,
        "search/search.html",
        {
            "query": query,
            "crisis": SiteSettings.for_request(request).mentions_crisis(query),
            "results": results_page,
            "truncated": truncated,
            "max_results": MAX_RESULTS,
            "page_title": _("“%(query)s”的搜索结果") % {"query": query} if query else _("站内搜索"),
        },
    )

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from wagtail.models import Page

from portal.core.segmentation import segment_query

RESULTS_PER_PAGE = 10
MAX_QUERY_LENGTH = 100


def searchable_pages():
    from portal.campaigns.models import CampaignPage
    from portal.news.models import NewsPage
    from portal.talks.models import TalkPage

    return Page.objects.live().public().type(NewsPage, TalkPage, CampaignPage)


def search(request):
    """Search news, talks and campaign pages; Chinese queries are segmented the
    same way as the indexed text."""
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    terms = segment_query(query)
    results_page = None
    if terms:
        results = (
            searchable_pages().specific().search(terms, operator="and", order_by_relevance=True)
        )
        paginator = Paginator(results, RESULTS_PER_PAGE)
        try:
            results_page = paginator.page(request.GET.get("page", 1))
        except PageNotAnInteger:
            results_page = paginator.page(1)
        except EmptyPage:
            results_page = paginator.page(paginator.num_pages)
    return render(
        request,
        "search/search.html",
        {
            "query": query,
            "results": results_page,
            "page_title": _("“%(query)s”的搜索结果") % {"query": query} if query else _("站内搜索"),
        },
    )

"""What site search reads: the pages residents can find and the ids of those
matching a query."""

from wagtail.models import Page

from portal.campaigns.models import CampaignPage
from portal.news.models import NewsPage
from portal.talks.models import TalkPage


def searchable_pages():
    """The pages search finds: live public news, talks and campaigns."""
    return Page.objects.live().public().type(NewsPage, TalkPage, CampaignPage)


def matching_page_ids(terms, limit):
    """The ids of pages holding every term, newest first, at most ``limit`` + 1
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
    return list(results[: limit + 1].get_queryset().values_list("pk", flat=True))


def pages_in_order(ids):
    """The specific pages for ``ids``, in that order; a page gone since the ids
    were kept is left out."""
    shown = Page.objects.filter(pk__in=ids).specific().in_bulk()
    return [shown[pk] for pk in ids if pk in shown]


class PagesInOrder:
    """The pages of ``pages_in_order(ids)``, read only when first iterated: the
    search template keeps the listed results per content generation, query and
    page number, and a kept list asks nothing. Its length is that of ``ids``."""

    def __init__(self, ids):
        self.ids = list(ids)

    def __len__(self):
        return len(self.ids)

    def __iter__(self):
        return iter(pages_in_order(self.ids))

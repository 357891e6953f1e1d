"""The site map, for search engines (/sitemap.xml) and for people (/sitemap/)."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.contrib.sitemaps import Sitemap as PageSitemap
from wagtail.models import Page, Site

# A section with more children than this is listed by its own page (a news
# index with thousands of items), not item by item.
LISTED_CHILDREN = 12


class ServiceSitemap(Sitemap):
    """Public pages that are views, not Wagtail pages: the counselling rooms
    and the self-check's landing page (its questions are posted, not crawled).
    Their addresses start like the pages' do, from the default site's root."""

    changefreq = "weekly"

    def items(self):
        return ["counseling:rooms", "counseling:selfcheck"]

    def location(self, item):
        return reverse(item)

    def get_urls(self, page=1, site=None, protocol=None):
        default = Site.objects.filter(is_default_site=True).first()
        if default is not None:
            root = urlsplit(default.root_url)
            protocol, site = root.scheme, SimpleNamespace(domain=root.netloc)
        return super().get_urls(page=page, site=site, protocol=protocol)


class PagesSitemap(PageSitemap):
    """Wagtail's page sitemap, with each page's own fields left unread: an
    address and a date are base Page fields, and reading every page type's
    table cost one query per page type (no page type here changes its
    sitemap entry)."""

    def items(self):
        return super().items().specific(defer=True)


SITEMAPS = {"pages": PagesSitemap, "services": ServiceSitemap}


def site_map(request):
    """Every section of the site and its pages, two levels deep, as a page."""
    site = Site.find_for_request(request)
    home = site.root_page if site else None
    sections = list(home.get_children().live().public()) if home else []
    small = [section for section in sections if 0 < section.numchild <= LISTED_CHILDREN]
    children = {}
    if small:
        under_small = Q()
        for section in small:
            under_small |= Q(path__startswith=section.path)
        pages = Page.objects.live().public().filter(under_small, depth=home.depth + 2)
        for page in pages.order_by("path"):
            children.setdefault(page.path[: len(small[0].path)], []).append(page)
    tree = [(section, children.get(section.path, [])) for section in sections]
    return render(
        request,
        "core/site_map.html",
        {"home": home, "tree": tree, "page_title": _("网站地图")},
    )

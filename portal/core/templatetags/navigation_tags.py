from django import template
from wagtail.models import Page, Site

from portal.core.lookups import cached

register = template.Library()

LINK_FIELDS = ("title", "url_path", "path", "depth", "show_in_menus", "content_type")


def _site_root(request):
    """The current site's root page, looked up once per request."""
    if not hasattr(request, "_site_root_page"):
        site = Site.find_for_request(request)
        request._site_root_page = site.root_page if site else None
    return request._site_root_page


def _top_level_pages(request):
    """The live children of the site root, fetched once per content change for
    the menu and the footer."""
    if not hasattr(request, "_top_level_pages"):
        root = _site_root(request)
        request._top_level_pages = (
            cached(
                "top-level-pages",
                lambda: list(root.get_children().live().only(*LINK_FIELDS)),
                root.pk,
            )
            if root
            else []
        )
    return request._top_level_pages


@register.inclusion_tag("tags/main_menu.html", takes_context=True)
def main_menu(context):
    request = context["request"]
    current = context.get("page")
    return {
        "root": _site_root(request),
        "items": [page for page in _top_level_pages(request) if page.show_in_menus],
        "current_path": current.path if current else "",
        "request": request,
    }


@register.inclusion_tag("tags/breadcrumbs.html", takes_context=True)
def breadcrumbs(context):
    page = context.get("page")
    ancestors = []
    if page is not None and page.depth > 2:
        # A preview of a page not saved yet has nothing to be cached under.
        ancestors = (
            cached("breadcrumbs", lambda: _ancestors(page), page.path)
            if page.pk
            else _ancestors(page)
        )
    return {"ancestors": ancestors, "page": page, "request": context["request"]}


def _ancestors(page):
    return list(
        Page.objects.ancestor_of(page).filter(depth__gte=2).only("title", "url_path", "path")
    )


@register.simple_tag(takes_context=True)
def footer_pages(context):
    """Pages under the site root whose type belongs in the footer: the plain
    pages (about, privacy, accessibility) and 我要反映."""
    return [
        page
        for page in _top_level_pages(context["request"])
        if getattr(page.specific_class, "shown_in_footer", False)
    ]

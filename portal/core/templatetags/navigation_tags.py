from django import template
from wagtail.models import Page, Site

register = template.Library()


def _site_root(request):
    """The current site's root page, looked up once per request."""
    if not hasattr(request, "_site_root_page"):
        site = Site.find_for_request(request)
        request._site_root_page = site.root_page if site else None
    return request._site_root_page


@register.inclusion_tag("tags/main_menu.html", takes_context=True)
def main_menu(context):
    request = context["request"]
    root = _site_root(request)
    current = context.get("page")
    items = (
        list(root.get_children().live().in_menu().only("title", "url_path", "path", "depth"))
        if root
        else []
    )
    return {
        "root": root,
        "items": items,
        "current_path": current.path if current else "",
        "request": request,
    }


@register.inclusion_tag("tags/breadcrumbs.html", takes_context=True)
def breadcrumbs(context):
    page = context.get("page")
    ancestors = []
    if page is not None and page.depth > 2:
        ancestors = list(
            Page.objects.ancestor_of(page)
            .filter(depth__gte=2)
            .only("title", "url_path", "path", "depth")
        )
    return {"ancestors": ancestors, "page": page, "request": context["request"]}


@register.simple_tag(takes_context=True)
def footer_pages(context):
    """Plain pages under the site root (about, privacy, accessibility) for the footer."""
    from portal.core.models import StandardPage

    request = context["request"]
    root = _site_root(request)
    if root is None:
        return []
    return list(
        StandardPage.objects.child_of(root).live().only("title", "url_path", "path", "depth")
    )

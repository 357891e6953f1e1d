"""``{% contentcache name [vary_on ...] %}…{% endcontentcache %}``: a template
fragment kept per content generation.

Like Django's ``{% cache %}`` as Wagtail's ``{% wagtailcache %}`` uses it
(rendered afresh in previews), keyed also by the current site and by the
page-cache generation (portal.core.pagecache), which moves on whenever anything
pages show is published or saved, and read through the request's read-ahead.
For the parts of every page that depend only on content: the footer, the menu,
the breadcrumbs and article bodies."""

from django import template
from django.core.cache.utils import make_template_fragment_key
from django.template.exceptions import TemplateSyntaxError

from portal.core import pagecache, wagtail_compat

register = template.Library()


class ContentCacheNode(template.Node):
    def __init__(self, nodelist, fragment_name, vary_on):
        self.nodelist = nodelist
        self.fragment_name = fragment_name
        self.vary_on = vary_on

    def render(self, context):
        request = context.get("request")
        # A preview, or a render without a request, is never kept.
        if request is None or getattr(request, "is_preview", False):
            return self.nodelist.render(context)
        site = wagtail_compat.current_site(request)
        vary_on = [var.resolve(context) for var in self.vary_on]
        vary_on += [pagecache.generation(), site.pk if site else 0]
        key = make_template_fragment_key(self.fragment_name, vary_on)
        value = pagecache.kept(key)
        if value is None:
            value = self.nodelist.render(context)
            pagecache.keep(key, value)
        return value


@register.tag
def contentcache(parser, token):
    nodelist = parser.parse(("endcontentcache",))
    parser.delete_first_token()
    tokens = token.split_contents()
    if len(tokens) < 2:
        raise TemplateSyntaxError("'contentcache' needs a fragment name.")
    return ContentCacheNode(
        nodelist, tokens[1], [parser.compile_filter(part) for part in tokens[2:]]
    )

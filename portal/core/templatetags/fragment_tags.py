"""``{% contentcache name [vary_on ...] %}…{% endcontentcache %}``: a template
fragment kept per content generation.

Wagtail's preview-aware fragment cache (``{% wagtailcache %}``, which renders
afresh in previews), keyed also by the current site and by the page-cache
generation (portal.core.pagecache), which moves on whenever anything pages
show is published or saved. For the parts of every page that depend only on
content: the footer, the menu and the breadcrumbs."""

from django import template
from django.template import Variable
from django.template.exceptions import TemplateSyntaxError
from wagtail.templatetags.wagtail_cache import WagtailCacheNode

from portal.core import pagecache, wagtail_compat

register = template.Library()

GENERATION_VAR = "content_cache_generation"
SITE_VAR = "content_cache_site"


class ContentCacheNode(WagtailCacheNode):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vary_on.extend([Variable(GENERATION_VAR), Variable(SITE_VAR)])

    def render(self, context):
        request = context.get("request")
        site = wagtail_compat.current_site(request)
        with context.update(
            {GENERATION_VAR: pagecache.generation(), SITE_VAR: site.pk if site else 0}
        ):
            return super().render(context)


@register.tag
def contentcache(parser, token):
    nodelist = parser.parse(("endcontentcache",))
    parser.delete_first_token()
    tokens = token.split_contents()
    if len(tokens) < 2:
        raise TemplateSyntaxError("'contentcache' needs a fragment name.")
    return ContentCacheNode(
        nodelist,
        parser.compile_filter(str(pagecache.timeout())),
        tokens[1],
        [parser.compile_filter(part) for part in tokens[2:]],
        None,
    )

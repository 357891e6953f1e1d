"""Look-ups every public page repeats, answered without asking the database twice.

Values are kept in the shared cache under the page-cache generation
(portal.core.pagecache), which moves on whenever anything shown on pages is
published, unpublished, moved, deleted or saved; a value can therefore never
outlive the content it was built from. Reading the generation costs no query.
"""

import array

from django.db.models import Q
from wagtail.models import PageViewRestriction, Site
from wagtail.query import PageQuerySet

from portal.core import pagecache, wagtail_compat

_MISSING = object()


def lookup_key(name, *parts):
    return ":".join(["lookup", str(pagecache.generation()), name, *map(str, parts)])


def cached(name, build, *parts):
    """The value ``build()`` returns, computed once per content generation."""
    key = lookup_key(name, *parts)
    value = pagecache.kept(key, _MISSING)
    if value is _MISSING:
        value = build()
        pagecache.keep(key, value)
    return value


def page_ids(ids):
    """Page ids to keep, as a packed array of 32-bit integers (page ids are an
    AutoField). Every render of a listing reads its whole id list back: for
    20,000 news, unpickling a list of ints cost 0.24 ms, the array 5 µs."""
    return array.array("i", ids)


def image_with_renditions(image_id):
    """The image with all its renditions, kept per content generation, so a
    page's picture and sharing image need no query of their own."""
    from wagtail.images import get_image_model

    if image_id is None:
        return None
    images = get_image_model().objects.prefetch_renditions()
    return cached("image", lambda: images.filter(pk=image_id).first(), image_id)


def forget_image(sender, instance, created, raw=False, **kwargs):
    """A kept image carries the renditions it had when it was kept, and Wagtail
    trusts that list: a rendition made since would be drawn again, from the
    original, on every render until content changes (about 30 ms a picture).
    When a rendition is made, drop the kept image so the next render keeps it
    with the new one. The generation stays: a new rendition changes no page."""
    if created and not raw:
        pagecache.forget(lookup_key("image", instance.image_id))


def connect_signals():
    from django.db.models.signals import post_save
    from wagtail.images import get_image_model

    post_save.connect(
        forget_image,
        sender=get_image_model().get_rendition_model(),
        dispatch_uid="lookups-forget-image",
    )


def _site_with_specific_root(request):
    site = wagtail_compat.find_site(request)
    if site is not None:
        # Wagtail's serve view routes from site.root_page.specific: keep it
        # ready, with the view restrictions checked before it is served.
        site.root_page = site.root_page.specific
        site.root_page.served_restrictions = list(site.root_page.get_view_restrictions())
    return site


class CachedSiteMiddleware:
    """Answer Wagtail's per-request site look-up from the cache, keyed by the
    host and port it depends on, and the site root paths page URLs are built
    from with the look-ups read ahead (Wagtail reads them from the cache on its
    own, one more round trip a page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        wagtail_compat.remember_site(
            request,
            cached(
                "site", lambda: _site_with_specific_root(request), *wagtail_compat.site_key(request)
            ),
        )
        # The admin reads them when it needs them: a site it saves changes them.
        if not request.path.startswith(pagecache.NEVER_CACHED_PREFIXES):
            wagtail_compat.remember_site_root_paths(
                request, cached("site-root-paths", Site.get_site_root_paths)
            )
        return self.get_response(request)


def restricted_paths():
    """The tree paths of the pages with a view restriction, kept per content
    generation (saving a restriction moves it on)."""
    return cached(
        "restricted-paths",
        lambda: sorted(set(PageViewRestriction.objects.values_list("page__path", flat=True))),
    )


class PortalPageQuerySet(PageQuerySet):
    """Wagtail's page queryset whose ``public()`` costs no query of its own.

    Wagtail reads every view restriction for each ``public()`` call and builds
    the filter from their paths; here the paths are a kept look-up. (A subquery
    per row instead made listings of 2,000 news 40 % slower to build.)"""

    def private_q(self):
        # A restriction covers its page and every page below it.
        covered = Q()
        for path in restricted_paths():
            covered |= Q(path__startswith=path)
        # No private section: match no page.
        return covered if covered else Q(pk__in=[])

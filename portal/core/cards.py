"""Listing cards, rendered once per content generation and shared by every
listing that shows them: with fragments and look-ups (portal.core.lookups),
what is kept under the content generation besides whole pages. Rendering is
most of an uncached page's cost (bench/pages.py, with Redis: the home page cost
74x the static file's CPU without fragments and cards, 16x with them).

A listing asks the database only for the ids of the items on screen, in one
light query. Each card's HTML comes from the cache; only the cards not cached
yet are loaded, with everything they show, and rendered. The cache key holds
the page-cache generation (portal.core.pagecache), which moves on whenever
anything a card shows (the page, its category, tags or image) is published or
saved, so a card never outlives its content. A news item on the home page, in
the news index, its category and its tag listings is rendered once for all.
"""

from django.template.loader import get_template
from django.utils.safestring import mark_safe

from portal.core import pagecache, wagtail_compat


class Cards:
    """The rendered cards for ``ids`` (an iterable of primary keys, or a lazy
    queryset of them), in that order.

    ``load(ids)`` returns the objects for the ids whose cards are not cached,
    with what the card template needs already fetched; the template sees each
    one as ``item_name`` along with ``extra_context``. Iterating, ``len()`` and
    truth all render at most once."""

    def __init__(self, request, template_name, item_name, ids, load, **extra_context):
        self.request = request
        self.template_name = template_name
        self.item_name = item_name
        self.ids = ids
        self.load = load
        self.extra_context = extra_context
        self._html = None

    def __iter__(self):
        return iter(self.html)

    def __len__(self):
        return len(self.html)

    def __bool__(self):
        return bool(self.html)

    @property
    def html(self):
        if self._html is None:
            self._html = self._render()
        return self._html

    def _key_prefix(self):
        site = wagtail_compat.current_site(self.request)
        variant = ",".join(f"{name}={value}" for name, value in sorted(self.extra_context.items()))
        return ":".join(
            [
                "card",
                str(pagecache.generation()),
                str(site.pk if site else 0),
                self.template_name,
                variant,
            ]
        )

    def _render(self):
        ids = list(self.ids)
        if not ids:
            return []
        prefix = self._key_prefix()
        keys = {pk: f"{prefix}:{pk}" for pk in ids}
        found = pagecache.kept_many(keys.values())
        missing = [pk for pk in ids if keys[pk] not in found]
        if missing:
            template = get_template(self.template_name)
            fresh = {
                keys[item.pk]: template.render(
                    {**self.extra_context, self.item_name: item}, self.request
                )
                for item in self.load(missing)
            }
            pagecache.keep_many(fresh)
            found.update(fresh)
        return [mark_safe(found[keys[pk]]) for pk in ids if keys[pk] in found]

"""Listing cards: the HTML of each item on screen, loaded in one batch.

A listing asks the database only for the ids of the items on screen, in one
light query (which the look-ups in portal.core.lookups may keep); the cards are
then loaded with everything they show, in a fixed number of queries, and
rendered in that order. A listing whose page is cached whole (portal.core.pagecache)
renders its cards once per content change.
"""

from django.template.loader import get_template
from django.utils.safestring import mark_safe


class Cards:
    """The rendered cards for ``ids`` (an iterable of primary keys, or a lazy
    queryset of them), in that order.

    ``load(ids)`` returns the objects for ``ids`` with what the card template
    needs already fetched; the template sees each one as ``item_name`` along
    with ``extra_context``. Iterating, ``len()`` and truth all render at most once."""

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

    def _render(self):
        ids = list(self.ids)
        if not ids:
            return []
        template = get_template(self.template_name)
        loaded = {item.pk: item for item in self.load(ids)}
        return [
            mark_safe(
                template.render({**self.extra_context, self.item_name: loaded[pk]}, self.request)
            )
            for pk in ids
            if pk in loaded
        ]

import hashlib

from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.models import Page

from portal.core import pagecache
from portal.core.lookups import lookup_key
from portal.core.models import BasePage
from portal.core.wagtail_compat import remember_parent

NOT_WALKED = object()


class HomePage(BasePage):
    """The site root: latest news, featured talks, the campaign banner and the
    six counselling rooms with a call to book."""

    hero_title = models.CharField(_("欢迎标题"), max_length=80, default="欢迎访问金家岭街道")
    hero_text = models.TextField(
        _("欢迎语"), blank=True, help_text=_("首页顶部的一两句介绍,建议不超过 60 字。")
    )
    booking_text = models.TextField(
        _("预约提示"),
        blank=True,
        help_text=_("首页心理咨询室一栏的说明文字。"),
    )

    content_panels = BasePage.content_panels + [
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("booking_text"),
    ]

    summary_field = "hero_text"

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("首页")

    def get_context(self, request, *args, **kwargs):
        from portal.home.sections import home_sections

        context = super().get_context(request, *args, **kwargs)
        context.update(home_sections(self, request))
        return context

    def route(self, request, path_components):
        """Find the page for a path in three queries whatever its depth, and in
        none once the same path was routed since the last content change: one
        for every page on the path, one for the page served, with what its
        template shows joined in, one for its view restrictions. Wagtail's own
        routing asks twice per path segment.

        The answer is Wagtail's: the walk stops early at a live routable page
        whose own routes match the rest of the path (as RoutablePageMixin
        does), and the page reached handles what is left, so unknown paths,
        drafts and sub-routes behave as before."""
        if not path_components:
            return super().route(request, path_components)
        # The walk's answer changes only when pages are published, moved or
        # deleted: kept per content generation, routing then costs no query.
        # Only a path that leads to a page is kept: made-up paths keep nothing.
        address = hashlib.sha256("/".join(path_components).encode()).hexdigest()
        key = lookup_key("route", self.pk, address)
        walked = pagecache.kept(key, NOT_WALKED)
        fresh = walked is NOT_WALKED
        if fresh:
            walked = self._walk(path_components)
        if walked is None:
            found = super().route(request, path_components)
        else:
            page, depth = walked
            found = page.route(request, path_components[depth:])
        if fresh:  # Http404 never gets here
            pagecache.keep(key, walked)
        return found

    def _walk(self, path_components):
        """The page a path leads to, loaded for serving, and how many of the
        components it took; None when the path leaves the home page at once."""
        prefixes = [self.url_path]
        for component in path_components:
            prefixes.append(f"{prefixes[-1]}{component}/")
        on_path = {page.url_path: page for page in Page.objects.filter(url_path__in=prefixes[1:])}
        parent, reached, depth = None, self, 0
        while depth < len(path_components):
            if reached is not self and _has_own_route(reached, path_components[depth:]):
                break
            child = on_path.get(prefixes[depth + 1])
            if child is None:
                break
            parent, reached, depth = reached, child, depth + 1
        if reached is self:
            return None
        page = _load_for_serving(reached)
        remember_parent(page, parent)
        # Wagtail checks them before serving; kept with the page (see BasePage).
        page.served_restrictions = list(page.get_view_restrictions())
        return page, depth


def _has_own_route(page, components):
    """Whether a live routable page answers ``components`` itself."""
    model = page.specific_class
    if not page.live or model is None or not issubclass(model, RoutablePageMixin):
        return False
    try:
        model.get_resolver().resolve("/" + "".join(f"{part}/" for part in components))
    except Http404:
        return False
    return True


def _load_for_serving(page):
    model = page.specific_class or type(page)
    return model.objects.select_related(*getattr(model, "shown_relations", ())).get(pk=page.pk)

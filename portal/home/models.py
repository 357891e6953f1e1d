import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from portal.core import pagecache
from portal.core.lookups import lookup_key
from portal.core.models import BasePage

from .queries import page_on_path
from .sections import home_sections

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
            walked = page_on_path(self, path_components)
        if walked is None:
            found = super().route(request, path_components)
        else:
            page, depth = walked
            found = page.route(request, path_components[depth:])
        if fresh:  # Http404 never gets here
            pagecache.keep(key, walked)
        return found

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from portal.core.models import BasePage


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
        context.update(home_sections(self))
        return context

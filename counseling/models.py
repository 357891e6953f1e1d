from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.search import index


class RoomQuerySet(models.QuerySet):
    def for_listing(self):
        return self.filter(is_active=True).select_related("photo").order_by("sort_order", "pk")


class Room(index.Indexed, models.Model):
    """One of the six counselling rooms: at the sub-district office or in a
    management district (管区)."""

    class Location(models.TextChoices):
        OFFICE = "office", _("街道办事处")
        DISTRICT = "district", _("管区")

    name = models.CharField(_("名称"), max_length=60, unique=True)
    location = models.CharField(
        _("所在层级"), max_length=10, choices=Location.choices, default=Location.DISTRICT
    )
    district = models.CharField(
        _("所属管区"), max_length=40, blank=True, help_text=_("位于街道办事处的咨询室留空。")
    )
    address = models.CharField(_("地址"), max_length=200)
    directions = models.TextField(
        _("到达方式"), blank=True, help_text=_("公交线路、楼层、入口等。")
    )
    opening_hours = models.CharField(
        _("开放时间说明"),
        max_length=120,
        blank=True,
        help_text=_("例如:周一至周五 9:00–12:00,14:00–17:00"),
    )
    accessibility = models.TextField(
        _("无障碍说明"), blank=True, help_text=_("例如:一楼,无台阶,可通行轮椅。")
    )
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("照片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("开放中"), default=True)

    objects = RoomQuerySet.as_manager()

    panels = [
        MultiFieldPanel(
            [FieldPanel("name"), FieldPanel("location"), FieldPanel("district")],
            heading=_("基本信息"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("address"),
                FieldPanel("directions"),
                FieldPanel("opening_hours"),
                FieldPanel("accessibility"),
                FieldPanel("phone"),
            ],
            heading=_("到访信息"),
        ),
        FieldPanel("photo"),
        MultiFieldPanel([FieldPanel("sort_order"), FieldPanel("is_active")], heading=_("显示")),
    ]

    search_fields = [index.SearchField("name"), index.SearchField("address")]

    class Meta:
        verbose_name = _("心理咨询室")
        verbose_name_plural = _("心理咨询室")
        ordering = ["sort_order", "pk"]

    def __str__(self):
        return self.name

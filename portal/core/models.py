import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page, PageManager, PageViewRestriction
from wagtail.search import index

from .admin_forms import HolidayArrangementForm
from .blocks import BodyBlock, stream_text
from .lookups import PortalPageQuerySet, cached
from .segmentation import segment_for_index
from .slugs import PortalPageForm
from .wagtail_compat import read_queryset


class BasePage(Page):
    """What every public page type shares: Chinese search text, a section label
    for search results and the image used for sharing (OpenGraph)."""

    section_name = _("网站")
    summary_field = None  # the field whose text sums the page up, e.g. "intro"
    # Relations the page template shows, joined into the query that loads the
    # page when it is routed to (see HomePage.route).
    shown_relations = ()
    # This page's view restrictions, when routing already read them.
    served_restrictions = None

    search_fields = Page.search_fields + [index.SearchField("search_segmented")]

    objects = PageManager.from_queryset(PortalPageQuerySet)()
    base_form_class = PortalPageForm

    class Meta:
        abstract = True

    def get_view_restrictions(self):
        """The view restrictions on this page and its ancestors, in one query
        (Wagtail's own takes two). As in Wagtail, an alias answers to the
        restrictions of the page it copies."""
        if self.served_restrictions is not None:
            # Routing read them with the page (HomePage.route): reading this
            # queryset needs no query, narrowing it (as the admin does) asks anew.
            return read_queryset(
                PageViewRestriction.objects.filter(
                    pk__in=[restriction.pk for restriction in self.served_restrictions]
                ),
                self.served_restrictions,
            )
        steplen = self.steplen
        chain = Page.objects.filter(
            path__in=[self.path[:end] for end in range(steplen, len(self.path) + 1, steplen)]
        )
        return PageViewRestriction.objects.filter(
            Q(page__in=chain.filter(alias_of__isnull=True))
            | Q(page__in=chain.filter(alias_of__isnull=False).values("alias_of"))
        )

    def search_text_parts(self):
        """The texts a resident might search for; page types add their own."""
        return [self.title, self.search_description, self.summary_text()]

    def summary_text(self):
        return getattr(self, self.summary_field) if self.summary_field else ""

    def search_segmented(self):
        return segment_for_index(*self.search_text_parts())

    def get_meta_image(self):
        return None

    def get_meta_description(self):
        return self.search_description or self.summary_text()


class StandardPage(BasePage):
    """About, privacy notice, accessibility statement and other plain pages."""

    intro = models.TextField(_("导语"), blank=True, help_text=_("显示在标题下方的一两句话。"))
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)

    content_panels = BasePage.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    summary_field = "intro"
    shown_in_footer = True  # when directly under the home page (navigation_tags.footer_pages)

    parent_page_types = ["home.HomePage", "core.StandardPage"]
    subpage_types = ["core.StandardPage"]

    class Meta:
        verbose_name = _("普通页面")
        verbose_name_plural = _("普通页面")

    def search_text_parts(self):
        return super().search_text_parts() + [stream_text(self.body)]


# What someone in distress might search for: the search page answers these with
# the hotlines first. Staff keep the list in 站点信息.
CRISIS_WORDS = (
    "想死",
    "自杀",
    "轻生",
    "不想活",
    "活不下去",
    "活着没意思",
    "结束生命",
    "割腕",
    "跳楼",
    "自残",
    "自伤",
    "抑郁",
    "绝望",
    "崩溃",
)


@register_setting(icon="site")
class SiteSettings(BaseSiteSetting):
    """Contact details, hotlines and filing numbers shown in every page footer."""

    organisation = models.CharField(
        _("单位名称"), max_length=100, default="青岛市崂山区金家岭街道办事处"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    postcode = models.CharField(_("邮政编码"), max_length=6, blank=True)
    phone = models.CharField(_("服务电话"), max_length=40, blank=True)
    email = models.EmailField(_("联系邮箱"), blank=True)
    office_hours = models.CharField(
        _("办公时间"), max_length=100, blank=True, help_text=_("例如:工作日 9:00–17:00")
    )
    counselling_hotline = models.CharField(
        _("心理援助热线"), max_length=40, default="12356", help_text=_("全国统一心理援助热线。")
    )
    report_hotline = models.CharField(
        _("扫黑除恶举报电话"), max_length=40, blank=True, help_text=_("本地公安机关的举报电话。")
    )
    crisis_words = models.TextField(
        _("求助提示词"),
        default="\n".join(CRISIS_WORDS),
        blank=True,
        help_text=_(
            "每行一个词。居民在站内搜索的内容含有其中任何一个词时,搜索结果上方先显示"
            "心理援助热线和 110、120,并给出预约心理咨询的入口。"
        ),
    )
    icp_number = models.CharField(
        _("ICP 备案号"), max_length=60, blank=True, help_text=_("例如:鲁ICP备XXXXXXXX号")
    )
    police_record_number = models.CharField(
        _("公安机关备案号"),
        max_length=60,
        blank=True,
        help_text=_("例如:鲁公网安备 XXXXXXXXXXXXXX号"),
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("organisation"),
                FieldPanel("address"),
                FieldPanel("postcode"),
                FieldPanel("phone"),
                FieldPanel("email"),
                FieldPanel("office_hours"),
            ],
            heading=_("联系方式"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("counselling_hotline"),
                FieldPanel("report_hotline"),
                FieldPanel("crisis_words"),
            ],
            heading=_("热线电话"),
        ),
        MultiFieldPanel(
            [FieldPanel("icp_number"), FieldPanel("police_record_number")],
            heading=_("备案信息"),
        ),
    ]

    class Meta:
        verbose_name = _("站点信息")

    @classmethod
    def for_site(cls, site):
        """Every page footer shows these: read them once per content change."""
        return cached("site-settings", lambda: super(SiteSettings, cls).for_site(site), site.pk)

    def mentions_crisis(self, text):
        """Whether `text` holds one of the staff's crisis words."""
        words = (word.strip() for word in self.crisis_words.splitlines())
        return any(word and word in text for word in words)

    @property
    def police_record_code(self):
        """The digits of the 公安备案 number, which the national record site links by."""
        return "".join(ch for ch in self.police_record_number if ch.isdigit())


class HolidayArrangement(ClusterableModel):
    """One year's statutory holidays and make-up workdays, as the State Council's
    yearly notice (国务院办公厅关于部分节假日安排的通知) sets them. Entered by
    staff, it takes precedence over the chinesecalendar package for its year
    (portal.core.workdays)."""

    year = models.PositiveSmallIntegerField(
        _("年份"),
        unique=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2099)],
        help_text=_("通知所安排的年份,例如 2027。录入后,这一年完全以这里为准。"),
    )
    notice = models.CharField(
        _("依据"),
        max_length=200,
        blank=True,
        help_text=_("通知的标题或文号,例如:国务院办公厅关于2027年部分节假日安排的通知。"),
    )

    base_form_class = HolidayArrangementForm

    panels = [
        FieldPanel("year"),
        FieldPanel("notice"),
        InlinePanel("periods", heading=_("放假和调休上班"), label=_("一段日期"), min_num=1),
        FieldPanel("on_closed_days"),
    ]

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["-year"]

    def __str__(self):
        return _("%(year)d 年节假日安排") % {"year": self.year}


class HolidayPeriod(Orderable):
    """A named run of days in a year's arrangement: a holiday (放假) such as 春节,
    or a weekend day worked in lieu (调休上班)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        MAKEUP_WORKDAY = "makeup", _("调休上班")

    arrangement = ParentalKey(HolidayArrangement, on_delete=models.CASCADE, related_name="periods")
    name = models.CharField(
        _("名称"), max_length=40, help_text=_("例如:春节。调休上班日也写它所属的节日。")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.HOLIDAY)
    starts_on = models.DateField(_("第一天"))
    ends_on = models.DateField(_("最后一天"), help_text=_("只有一天时与第一天相同。"))

    panels = [
        FieldPanel("name"),
        FieldPanel("kind"),
        FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("放假或调休日期")
        verbose_name_plural = _("放假或调休日期")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="holiday_period_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.name} {self.get_kind_display()} {self.starts_on}–{self.ends_on}"

    def clean(self):
        super().clean()
        if not (self.starts_on and self.ends_on):
            return
        if self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("最后一天不能早于第一天。")})
        if (self.ends_on - self.starts_on).days >= MAX_PERIOD_DAYS:
            raise ValidationError(
                {"ends_on": _("一段日期最长 %(days)d 天,请分段录入。") % {"days": MAX_PERIOD_DAYS}}
            )
        if self.kind == self.Kind.MAKEUP_WORKDAY and any(
            day.weekday() < 5 for day in _days(self.starts_on, self.ends_on)
        ):
            raise ValidationError({"kind": _("调休上班日应是周六或周日;工作日本来就上班。")})


MAX_PERIOD_DAYS = 15


def notice_reaches(year, first, last):
    """Whether a period belongs in `year`'s notice: within the year, or a 元旦
    break that starts in the December before or ends in the January after."""
    return datetime.date(year - 1, 12, 1) <= first and last <= datetime.date(year + 1, 1, 31)


def _days(first, last):
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


class WorkerHeartbeat(models.Model):
    """A task worker's last sign of life (`portal.core.worker`): the tasks of a
    worker that stopped beating go back to the queue."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=100, blank=True)
    pid = models.PositiveIntegerField(null=True)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("任务进程心跳")
        verbose_name_plural = _("任务进程心跳")

    def __str__(self):
        return f"{self.worker_id}@{self.host}:{self.pid}"


class AttemptCount(models.Model):
    """Attempts counted against a limit in one window (portal.core.ratelimit):
    kept in the database, where neither a cache outage nor eviction can lift a
    limit. The key is a hash of what was counted, never the address or number."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    key = models.CharField(max_length=80, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("尝试次数")
        verbose_name_plural = _("尝试次数")

    def __str__(self):
        return f"{self.key}: {self.count}"


class MobileCode(models.Model):
    """A one-time SMS code that proves a resident holds a mobile (portal.core.verification).
    Neither the number nor the code is stored: only keyed hashes of them."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    mobile_hash = models.CharField(_("手机号码查找码"), max_length=64, db_index=True)
    requester_hash = models.CharField(
        _("申请者会话摘要"), max_length=64, db_index=True, help_text=_("发出申请的浏览器会话。")
    )
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("失效时间"))
    tries = models.PositiveSmallIntegerField(_("已试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.mobile_hash[:8]}… {self.created_at:%Y-%m-%d %H:%M}"

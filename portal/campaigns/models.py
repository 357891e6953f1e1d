"""扫黑除恶 campaign material: an index of campaigns, and campaign pages with
posters, downloadable documents, questions and answers and the official ways
to report. The site itself never collects clues; it points to the official
channels.

What the pages show is read in queries.py, which imports this module: the
pages' methods import it when they are called."""

from django.core.paginator import Paginator
from django.db import models
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable

from portal.core.blocks import BodyBlock, stream_text
from portal.core.lookups import image_with_renditions
from portal.core.models import BasePage

CAMPAIGNS_PER_PAGE = 10


class CampaignIndexPage(BasePage):
    """The 扫黑除恶 section: every published campaign, newest first."""

    intro = models.TextField(_("导语"), blank=True, help_text=_("显示在栏目标题下方的一两句话。"))

    content_panels = BasePage.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["campaigns.CampaignPage"]
    max_count = 1

    section_name = _("扫黑除恶")
    summary_field = "intro"

    class Meta:
        verbose_name = _("扫黑除恶栏目")
        verbose_name_plural = _("扫黑除恶栏目")

    def get_context(self, request, *args, **kwargs):
        from . import queries

        context = super().get_context(request, *args, **kwargs)
        paginator = Paginator(queries.campaigns_under(self), CAMPAIGNS_PER_PAGE)
        # get_page copes with missing, non-numeric and out-of-range numbers.
        context["campaigns"] = paginator.get_page(request.GET.get("page"))
        context["page_obj"] = context["campaigns"]
        return context


class CampaignPage(BasePage):
    """One campaign: what it is about, posters to view and download, documents,
    common questions and where to report."""

    date = models.DateField(
        _("发布日期"), default=timezone.localdate, help_text=_("栏目列表按此日期由新到旧排列。")
    )
    intro = models.TextField(
        _("导语"), blank=True, help_text=_("显示在标题下方、概括本次宣传的一两句话。")
    )
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)

    is_current = models.BooleanField(
        _("当前宣传活动"),
        default=False,
        help_text=_("勾选后,首页会显示本页的宣传横幅。同时勾选多页时显示发布日期最新的一页。"),
    )
    banner_text = models.CharField(
        _("横幅文字"),
        max_length=120,
        blank=True,
        help_text=_("首页横幅上的一句话,建议不超过 40 字;留空则使用导语。"),
    )
    banner_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("横幅图片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("首页横幅和栏目列表使用的图片,建议横向 2:1;请在图片库中填写图片描述。"),
    )

    report_platform_name = models.CharField(
        _("举报平台名称"),
        max_length=100,
        default="全国扫黑办 12337 智能化举报平台",
        help_text=_("官方线上举报平台的名称。"),
    )
    report_platform_url = models.URLField(
        _("举报平台网址"),
        default="https://www.12337.gov.cn/",
        help_text=_("官方举报平台的网址,请核对无误后再发布。"),
    )
    report_platform_note = models.CharField(
        _("平台其他入口"),
        max_length=200,
        blank=True,
        default="也可以使用“12337”手机客户端或“12337”微信小程序举报。",
        help_text=_("手机客户端、微信小程序等其他入口的说明。"),
    )
    report_hotline = models.CharField(
        _("举报电话说明"),
        max_length=200,
        default="拨打 110 向当地公安机关举报;遇到正在发生的违法犯罪或人身危险,请立即拨打 110 报警。",
        help_text=_("电话举报的方式,写明号码。"),
    )
    report_mail_address = models.TextField(
        _("信件举报地址"),
        blank=True,
        help_text=_("当地扫黑办的通信地址和邮政编码;留空则不显示信件举报。"),
    )
    report_in_person = models.CharField(
        _("当面举报说明"),
        max_length=200,
        blank=True,
        default="可以到就近的公安派出所当面反映情况。",
        help_text=_("当面举报的地点说明;留空则不显示。"),
    )

    content_panels = BasePage.content_panels + [
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("body"),
        MultiFieldPanel(
            [FieldPanel("is_current"), FieldPanel("banner_text"), FieldPanel("banner_image")],
            heading=_("首页横幅"),
        ),
        InlinePanel("posters", label=_("宣传海报"), heading=_("宣传海报")),
        InlinePanel("documents", label=_("资料下载"), heading=_("资料下载")),
        InlinePanel("faqs", label=_("常见问题"), heading=_("常见问题")),
        MultiFieldPanel(
            [
                FieldPanel("report_platform_name"),
                FieldPanel("report_platform_url"),
                FieldPanel("report_platform_note"),
                FieldPanel("report_hotline"),
                FieldPanel("report_mail_address"),
                FieldPanel("report_in_person"),
            ],
            heading=_("如何举报(本网站不收集线索,只介绍官方渠道)"),
        ),
    ]

    parent_page_types = ["campaigns.CampaignIndexPage"]
    subpage_types = []

    section_name = _("扫黑除恶")
    summary_field = "intro"

    class Meta:
        verbose_name = _("扫黑除恶宣传页")
        verbose_name_plural = _("扫黑除恶宣传页")

    def search_text_parts(self):
        faq_texts = []
        for faq in self.faqs.all():
            faq_texts.extend([faq.question, strip_tags(faq.answer)])
        return (
            super().search_text_parts()
            + [stream_text(self.body), self.banner_text]
            + faq_texts
            + [poster.caption for poster in self.posters.all()]
            + [item.document.title for item in self.documents.select_related("document")]
        )

    def get_meta_image(self):
        if self.banner_image_id:
            return image_with_renditions(self.banner_image_id)
        posters = self.gallery_posters
        return posters[0].image if posters else None

    @cached_property
    def gallery_posters(self):
        """Posters with their images, loaded once for the gallery and the sharing image."""
        from . import queries

        return queries.gallery_posters(self)

    @property
    def card_image(self):
        """The image a listing card shows: the banner, else the first poster.
        Reads prefetched posters when the listing loaded them."""
        if self.banner_image_id:
            return image_with_renditions(self.banner_image_id)
        posters = list(self.posters.all())
        return posters[0].image if posters else None

    @property
    def banner_summary(self):
        return self.banner_text or self.intro

    def get_context(self, request, *args, **kwargs):
        from . import queries

        context = super().get_context(request, *args, **kwargs)
        # Read when the article is rendered, not when it comes from the cache.
        context["posters"] = SimpleLazyObject(lambda: self.gallery_posters)
        context["documents"] = queries.downloads(self)
        context["faqs"] = self.faqs.all()
        return context


class CampaignPoster(Orderable):
    """A poster shown in the campaign gallery; residents may download the original."""

    page = ParentalKey(CampaignPage, on_delete=models.CASCADE, related_name="posters")
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("海报图片"),
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("上传海报原图,居民可以下载原图打印张贴。"),
    )
    alt_text = models.CharField(
        _("替代文字"),
        max_length=250,
        help_text=_(
            "为看不到图片的读者描述海报:写出海报上的标语和主要内容,例如“扫黑除恶 人人有责,"
            "举报请登录 12337 平台”。"
        ),
    )
    caption = models.CharField(
        _("海报说明"), max_length=200, blank=True, help_text=_("显示在海报下方的简短说明,可留空。")
    )

    panels = [FieldPanel("image"), FieldPanel("alt_text"), FieldPanel("caption")]

    class Meta(Orderable.Meta):
        verbose_name = _("宣传海报")
        verbose_name_plural = _("宣传海报")


class CampaignDocument(Orderable):
    """A downloadable file (leaflet, policy text) listed on a campaign page."""

    page = ParentalKey(CampaignPage, on_delete=models.CASCADE, related_name="documents")
    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("文件"),
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("从文档库选择或上传文件,建议使用 PDF。页面会显示文件标题、格式和大小。"),
    )
    description = models.CharField(
        _("简要说明"), max_length=200, blank=True, help_text=_("一句话说明文件内容,可留空。")
    )

    panels = [FieldPanel("document"), FieldPanel("description")]

    class Meta(Orderable.Meta):
        verbose_name = _("资料下载")
        verbose_name_plural = _("资料下载")


class CampaignFAQ(Orderable):
    """A common question with its answer, shown as an expandable item."""

    page = ParentalKey(CampaignPage, on_delete=models.CASCADE, related_name="faqs")
    question = models.CharField(
        _("问题"), max_length=200, help_text=_("居民常问的问题,用一句话写清楚。")
    )
    answer = RichTextField(
        _("回答"),
        features=["bold", "link", "ol", "ul"],
        help_text=_("简明的回答;涉及举报时请指向官方渠道。"),
    )

    panels = [FieldPanel("question"), FieldPanel("answer")]

    class Meta(Orderable.Meta):
        verbose_name = _("常见问题")
        verbose_name_plural = _("常见问题")

"""Recorded counselling talks (心理讲座): the talk index, the talk pages and the
speakers who give them. Media files live in wagtailmedia; each talk adds WebVTT
captions and a transcript so the talk can be followed without sound.

What the pages show is read in queries.py, which imports this module: the
pages' methods import it when they are called. The recording and captions are
served by serving.py, and privacy.py keeps staff talks' files from the public."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.search import index
from wagtailmedia.edit_handlers import MediaChooserPanel

from portal.core.models import BasePage

from . import serving
from .privacy import in_staff_collection, restrict_to_staff

TALKS_PER_PAGE = 12


class Speaker(models.Model):
    """A counsellor or lecturer, usually from the partner counselling institution."""

    name = models.CharField(_("姓名"), max_length=40)
    title = models.CharField(
        _("职称与单位"),
        max_length=120,
        blank=True,
        help_text=_("例如:国家二级心理咨询师,某某心理咨询中心。"),
    )
    bio = models.TextField(
        _("简介"), blank=True, help_text=_("两三句话介绍专长与从业经历,显示在讲座页面。")
    )
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("照片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("本人同意公开的正面照片,建议正方形。"),
    )

    panels = [FieldPanel("name"), FieldPanel("title"), FieldPanel("bio"), FieldPanel("photo")]

    class Meta:
        verbose_name = _("主讲人")
        verbose_name_plural = _("主讲人")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}({self.title})" if self.title else self.name


class TalkPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "talks.TalkPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class TalkIndexPage(BasePage):
    """Lists the public talks, newest recording first, with a topic filter."""

    intro = models.TextField(
        _("导语"), blank=True, help_text=_("显示在讲座列表上方,介绍讲座来源与收看方式。")
    )

    content_panels = BasePage.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["talks.TalkPage"]

    section_name = _("心理讲座")
    summary_field = "intro"

    class Meta:
        verbose_name = _("心理讲座列表")
        verbose_name_plural = _("心理讲座列表")

    def get_context(self, request, *args, **kwargs):
        from . import queries

        context = super().get_context(request, *args, **kwargs)
        topics = queries.topics(self)
        current_tag = None
        tag_slug = request.GET.get("tag")
        if tag_slug:
            # An unknown topic is a broken link, as on the news index: say so.
            current_tag = next((topic for topic in topics if topic.slug == tag_slug), None)
            if current_tag is None:
                current_tag = queries.topic_with_slug(tag_slug)
            if current_tag is None:
                raise Http404
        ids = queries.listing_ids(self, current_tag)
        page_obj = Paginator(ids, TALKS_PER_PAGE).get_page(request.GET.get("page"))
        staff_ids = queries.staff_talk_ids(request.user, self)
        context.update(
            talks=page_obj,
            talk_cards=queries.talk_cards(request, page_obj.object_list),
            topics=topics,
            current_tag=current_tag,
            tag_slug=tag_slug or "",
            staff_talks=queries.talk_cards(request, staff_ids),
        )
        return context


class TalkPage(RoutablePageMixin, BasePage):
    """One recorded talk: the player with captions, a transcript readable without
    playing anything, the speaker and where to get help."""

    class Audience(models.TextChoices):
        RESIDENTS = "residents", _("面向居民")
        STAFF = "staff", _("面向网格员和社区干部")

    summary = models.TextField(
        _("内容简介"),
        help_text=_("两三句话说明讲座讲什么、适合谁听,显示在列表卡片和页面顶部。"),
    )
    media = models.ForeignKey(
        "wagtailmedia.Media",
        verbose_name=_("音视频文件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("讲座录音或录像,建议 MP4/WebM 视频或 MP3/M4A 音频。"),
    )
    poster = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("封面图"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("播放前显示的画面,也用于列表卡片和分享,建议 16:9。"),
    )
    speaker = models.ForeignKey(
        Speaker,
        verbose_name=_("主讲人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="talks",
    )
    recorded_on = models.DateField(_("录制日期"), help_text=_("列表按录制日期从新到旧排列。"))
    duration_seconds = models.PositiveIntegerField(
        _("时长(秒)"),
        null=True,
        blank=True,
        help_text=_("音视频文件已填写时长时可留空;否则请填写,例如 45 分钟填 2700。"),
    )
    audience = models.CharField(
        _("面向对象"),
        max_length=20,
        choices=Audience.choices,
        default=Audience.RESIDENTS,
        help_text=_(
            "选择“面向网格员和社区干部”后,保存时自动把讲座及其字幕限定为“网格员”用户组登录可见。"
        ),
    )
    featured = models.BooleanField(
        _("精选"), default=False, help_text=_("勾选后在首页“精选讲座”中展示(仅限公开讲座)。")
    )
    tags = ClusterTaggableManager(
        through=TalkPageTag,
        blank=True,
        verbose_name=_("话题标签"),
        help_text=_("例如:睡眠、考试焦虑、家庭沟通。用于列表筛选。"),
    )
    captions = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("字幕文件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("WebVTT 格式(.vtt)的中文字幕,供听障人士和不便开声音的观众使用。"),
    )
    transcript = RichTextField(
        _("文字稿"),
        blank=True,
        features=["h3", "bold", "ol", "ul", "link"],
        help_text=_("讲座的完整文字稿,不播放也能阅读。"),
    )

    content_panels = BasePage.content_panels + [
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                MediaChooserPanel("media"),
                FieldPanel("poster"),
                FieldPanel("captions"),
                FieldPanel("duration_seconds"),
            ],
            heading=_("音视频与字幕"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("speaker"),
                FieldRowPanel([FieldPanel("recorded_on"), FieldPanel("audience")]),
                FieldPanel("tags"),
                FieldPanel("featured"),
            ],
            heading=_("讲座信息"),
        ),
        FieldPanel("transcript"),
    ]

    search_fields = BasePage.search_fields + [index.FilterField("featured")]

    parent_page_types = ["talks.TalkIndexPage"]
    subpage_types = []

    section_name = _("心理讲座")
    summary_field = "summary"

    class Meta:
        verbose_name = _("心理讲座")
        verbose_name_plural = _("心理讲座")

    def search_text_parts(self):
        return super().search_text_parts() + [
            strip_tags(self.transcript),
            self.speaker.name if self.speaker else "",
            " ".join(tag.name for tag in self.tags.all()),
        ]

    def get_meta_image(self):
        return self.poster

    @property
    def duration(self):
        """Seconds: the media file's own duration when known, else the editor's."""
        if self.media and self.media.duration:
            return self.media.duration
        return self.duration_seconds

    @property
    def media_content_type(self):
        return serving.media_content_type(self.media)

    FILE_FIELDS = {
        "media": _("音视频文件"),
        "captions": _("字幕文件"),
        "poster": _("封面图"),
    }

    def clean(self):
        """A public talk may not show a file kept for staff: its page would hand
        the file to anyone. A staff talk may not take a file a public talk shows:
        restricting it would move that file out of the public's reach. Checked
        on every save and on publishing (Wagtail validates a page going live)."""
        from . import queries

        super().clean()
        errors = {}
        for name, label in self.FILE_FIELDS.items():
            item = getattr(self, name)
            if item is None:
                continue
            if self.audience == self.Audience.RESIDENTS and in_staff_collection(item):
                errors[name] = _(
                    "这个%(label)s在仅限网格员的“%(collection)s”中,公开讲座不能使用。"
                    "请上传一份公开的文件,或把面向对象改为“面向网格员和社区干部”。"
                ) % {"label": label, "collection": item.collection.name}
            elif self.audience == self.Audience.STAFF and queries.public_talks_using(
                name, item, other_than=self
            ):
                errors[name] = _(
                    "这个%(label)s也用在公开讲座中;限定为网格员可见会让公开讲座无法播放。"
                    "请为这个讲座另传一份文件。"
                ) % {"label": label}
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        """Choosing the staff audience is what restricts a talk: an editor cannot
        publish a grid-worker talk to the public by forgetting the privacy
        setting. Public talks keep whatever privacy an editor set by hand."""
        result = super().save(*args, **kwargs)
        if self.audience == self.Audience.STAFF:
            restrict_to_staff(self)
        return result

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        self._load_shown_relations(preview=getattr(request, "is_preview", False))
        return context

    def _load_shown_relations(self, preview=False):
        """Take what the template shows from one joined query (see
        queries.with_shown_relations). Objects are copied only where the ids
        match, so the preview of a draft still shows the draft's own choices."""
        from . import queries

        shown = queries.with_shown_relations(self, preview=preview)
        if shown is None:
            return
        for name in ("media", "captions", "poster", "speaker"):
            if getattr(shown, f"{name}_id") == getattr(self, f"{name}_id"):
                setattr(self, name, getattr(shown, name))

    @path("captions/", name="captions")
    def serve_captions(self, request):
        return serving.captions_response(self, request)

    @path("media/", name="media")
    def serve_media(self, request):
        return serving.media_response(self, request)

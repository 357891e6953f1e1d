"""Recorded counselling talks (心理讲座): the talk index, the talk pages and the
speakers who give them. Media files live in wagtailmedia; each talk adds WebVTT
captions and a transcript so the talk can be followed without sound."""

import mimetypes
import os
import re
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.encoding import iri_to_uri
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction
from wagtail.search import index
from wagtailmedia.edit_handlers import MediaChooserPanel

from portal.core.cards import Cards
from portal.core.groups import GRID_WORKERS
from portal.core.lookups import cached
from portal.core.models import BasePage
from portal.core.utils import find_filter

from .ranges import file_response

TALKS_PER_PAGE = 12

# The collection holding staff talks' captions and recordings. Its view
# restriction keeps the documents' own download links (/documents/...) from
# anyone outside the grid workers' group.
STAFF_COLLECTION = "网格员讲座资料"
# Marks the file name of an image moved there: a random name follows.
STAFF_FILE_PREFIX = "staff-"
HIDDEN_FILE_NAME = re.compile(rf"{STAFF_FILE_PREFIX}[0-9a-f]{{32}}\.\w+")

# Browsers recognise these names more reliably than what mimetypes guesses
# (audio/x-wav, or nothing for .opus on a machine without /etc/mime.types).
MEDIA_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
}


# How long browsers keep a talk's recording and captions (seconds).
MEDIA_MAX_AGE = 60 * 60


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


TALK_ORDER = ("-recorded_on", "-first_published_at", "-pk")


def for_talk_cards(queryset):
    """What a talk card shows: poster renditions, speaker and tags in a fixed
    number of queries."""
    return (
        queryset.select_related("poster", "speaker", "media")
        .prefetch_related("poster__renditions", "tags")
        .order_by(*TALK_ORDER)
    )


def public_talks():
    """Live talks anyone may watch, newest recording first, ready for a card."""
    return for_talk_cards(TalkPage.objects.live().public())


def featured_talks(limit=3):
    """The featured (精选) talks shown on the home page."""
    return list(public_talks().filter(featured=True)[:limit])


def talk_cards(request, ids):
    """The talk cards (templates/includes/talk_card.html) for ``ids``, in order,
    rendered once per content generation."""
    return Cards(
        request,
        "includes/talk_card.html",
        "talk",
        ids,
        lambda missing: for_talk_cards(TalkPage.objects.filter(pk__in=missing)),
    )


def staff_talks_for(user):
    """Talks restricted to staff groups that this user belongs to (all of them for
    a superuser): grid workers find their talks on the index once logged in."""
    if not user.is_authenticated:
        return TalkPage.objects.none()
    restrictions = PageViewRestriction.objects.filter(restriction_type=PageViewRestriction.GROUPS)
    if not user.is_superuser:
        restrictions = restrictions.filter(groups__in=user.groups.all())
    paths = list(restrictions.values_list("page__path", flat=True).distinct())
    if not paths:
        return TalkPage.objects.none()
    within = Q()
    for page_path in paths:
        within |= Q(path__startswith=page_path)
    return TalkPage.objects.live().filter(within).order_by(*TALK_ORDER)


def restrict_to_staff(talk_page):
    """Limit a talk to logged-in members of the grid workers' group (网格员)
    using Wagtail's page privacy, and move its captions, recording and poster
    into the staff-only collection so their direct links are closed too (the
    poster, which Wagtail's image URLs cannot close, gets a file name nobody can
    guess). Running it again changes nothing."""
    group, _created = Group.objects.get_or_create(name=GRID_WORKERS)
    restriction = PageViewRestriction.objects.filter(
        page=talk_page, restriction_type=PageViewRestriction.GROUPS
    ).first()
    if restriction is None:
        restriction = PageViewRestriction.objects.create(
            page=talk_page, restriction_type=PageViewRestriction.GROUPS
        )
    restriction.groups.add(group)
    collection = staff_collection()
    for item in (talk_page.captions, talk_page.media, talk_page.poster):
        if item is not None and item.collection_id != collection.pk:
            item.collection = collection
            item.save(update_fields=["collection"])
    if talk_page.poster is not None:
        hide_image_file(talk_page.poster)
    return restriction


def hide_image_file(image):
    """Give a staff-only image a file name nobody can guess, as its original and
    its renditions are served by their file address (nginx serves /media/images
    and /media/original_images to anyone who has the address). Renditions made
    under the old name are deleted with their files; new ones take the new name."""
    if HIDDEN_FILE_NAME.fullmatch(os.path.basename(image.file.name)):
        return
    extension = os.path.splitext(image.file.name)[1].lower()
    old_name = image.file.name
    with image.file.open("rb") as original:
        content = original.read()
    size = image.width, image.height  # saving the file field resets them
    image.file.save(
        f"{STAFF_FILE_PREFIX}{secrets.token_hex(16)}{extension}", ContentFile(content), save=False
    )
    image.width, image.height = size
    image.save(update_fields=["file"])
    image.file.storage.delete(old_name)
    for rendition in image.renditions.all():
        # Wagtail deletes a rendition's file once the transaction commits; the
        # old name must be gone from the disk whatever happens after.
        rendition.file.storage.delete(rendition.file.name)
        rendition.delete()


def in_staff_collection(item):
    """Whether an image, document or recording sits in a collection with view
    restrictions (the staff-only collection or anything like it)."""
    return item is not None and item.collection.get_view_restrictions().exists()


def staff_collection():
    """The collection for staff talks' files, viewable by grid workers only."""
    group, _created = Group.objects.get_or_create(name=GRID_WORKERS)
    root = Collection.get_first_root_node()
    collection = root.get_children().filter(name=STAFF_COLLECTION).first()
    if collection is None:
        collection = root.add_child(name=STAFF_COLLECTION)
    restriction = CollectionViewRestriction.objects.filter(
        collection=collection, restriction_type=CollectionViewRestriction.GROUPS
    ).first()
    if restriction is None:
        restriction = CollectionViewRestriction.objects.create(
            collection=collection, restriction_type=CollectionViewRestriction.GROUPS
        )
    restriction.groups.add(group)
    return collection


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
        context = super().get_context(request, *args, **kwargs)
        talks = TalkPage.objects.live().public().child_of(self)
        # The topics change only when talks are published: kept per content generation.
        topics = cached(
            "talk-topics",
            lambda: list(
                Tag.objects.filter(talks_talkpagetag_items__content_object__in=talks.values("pk"))
                .distinct()
                .order_by("name")
            ),
            self.pk,
        )
        current_tag = None
        tag_slug = request.GET.get("tag")
        if tag_slug:
            # An unknown topic is a broken link, as on the news index: say so.
            current_tag = next((topic for topic in topics if topic.slug == tag_slug), None)
            if current_tag is None:
                current_tag = find_filter(Tag.objects, slug=tag_slug)
            if current_tag is None:
                raise Http404
            talks = talks.filter(tags=current_tag)
        # Every id of the listing, kept per content generation: a page is a slice.
        ids = cached(
            "talk-ids",
            lambda: list(talks.order_by(*TALK_ORDER).values_list("pk", flat=True)),
            self.pk,
            tag_slug,
        )
        page_obj = Paginator(ids, TALKS_PER_PAGE).get_page(request.GET.get("page"))
        staff_ids = staff_talks_for(request.user).child_of(self).values_list("pk", flat=True)
        context.update(
            talks=page_obj,
            talk_cards=talk_cards(request, page_obj.object_list),
            topics=topics,
            current_tag=current_tag,
            tag_slug=tag_slug or "",
            staff_talks=talk_cards(request, staff_ids),
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
        if not self.media:
            return ""
        extension = self.media.file_extension.lower()
        guessed = mimetypes.guess_type(self.media.filename)[0]
        return MEDIA_CONTENT_TYPES.get(extension) or guessed or "application/octet-stream"

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
            elif self.audience == self.Audience.STAFF and self._public_talks_using(name, item):
                errors[name] = _(
                    "这个%(label)s也用在公开讲座中;限定为网格员可见会让公开讲座无法播放。"
                    "请为这个讲座另传一份文件。"
                ) % {"label": label}
        if errors:
            raise ValidationError(errors)

    def _public_talks_using(self, name, item):
        return (
            TalkPage.objects.filter(audience=self.Audience.RESIDENTS, **{name: item})
            .exclude(pk=self.pk)
            .exists()
        )

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
        """Load what the template shows in one joined query instead of one per
        relation, kept per content generation outside previews. Objects are
        copied only where the ids match, so the preview of a draft still shows
        the draft's own choices."""
        shown = (
            self._with_shown_relations()
            if preview
            else cached("talk-relations", self._with_shown_relations, self.pk)
        )
        if shown is None:
            return
        for name in ("media", "captions", "poster", "speaker"):
            if getattr(shown, f"{name}_id") == getattr(self, f"{name}_id"):
                setattr(self, name, getattr(shown, name))

    def _with_shown_relations(self):
        return (
            TalkPage.objects.filter(pk=self.pk)
            .select_related("media", "captions", "poster", "speaker__photo")
            .prefetch_related("poster__renditions", "speaker__photo__renditions")
            .first()
        )

    def _check_collection_allows(self, request, item):
        """The file's own collection decides too: a public page that somehow
        points at a staff-only file serves it to staff only."""
        if not all(
            restriction.accept_request(request)
            for restriction in item.collection.get_view_restrictions()
        ):
            raise Http404

    @path("captions/", name="captions")
    def serve_captions(self, request):
        """Captions are served from the talk's own address, so the track is
        same-origin, typed text/vtt (which browsers require of a <track>) and
        covered by the page's privacy setting."""
        if not self.captions or os.path.splitext(self.captions.filename)[1].lower() != ".vtt":
            raise Http404
        self._check_collection_allows(request, self.captions)
        with self.captions.file.open("rb") as captions_file:
            content = captions_file.read()
        response = HttpResponse(content, content_type="text/vtt; charset=utf-8")
        response["X-Content-Type-Options"] = "nosniff"
        return self._kept_for_an_hour(response)

    @path("media/", name="media")
    def serve_media(self, request):
        """The recording, served from the talk's own address so the page's
        privacy setting covers it (Wagtail checks it before routing). With
        MEDIA_ACCEL_REDIRECT on, nginx sends the file from an internal location
        and answers Range requests itself; otherwise Django answers them, as
        Safari needs to play and every browser needs to seek."""
        if not self.media:
            raise Http404
        self._check_collection_allows(request, self.media)
        if settings.MEDIA_ACCEL_REDIRECT:
            response = HttpResponse(content_type=self.media_content_type)
            response["X-Accel-Redirect"] = iri_to_uri(self.media.file.url)
        else:
            storage, name = self.media.file.storage, self.media.file.name
            try:
                media_file = self.media.file.open("rb")
                size = storage.size(name)
                modified = storage.get_modified_time(name).timestamp()
            except FileNotFoundError as missing:
                raise Http404 from missing
            response = file_response(
                request, media_file, self.media_content_type, size=size, last_modified=modified
            )
        response["X-Content-Type-Options"] = "nosniff"
        return self._kept_for_an_hour(response)

    def _kept_for_an_hour(self, response):
        """Browsers keep the recording and its captions for an hour (a replaced
        file shows within the hour; Last-Modified answers the re-check), shared
        caches only those of public talks."""
        audience = "private" if self.get_view_restrictions().exists() else "public"
        patch_cache_control(response, max_age=MEDIA_MAX_AGE, **{audience: True})
        return response

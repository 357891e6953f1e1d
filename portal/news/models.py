"""Policy news (政策新闻): categories, tags, the news index with its archive and
RSS feed, and the news page itself.

What the pages show is read in queries.py (the feed's items too), which
imports this module: the pages' methods import it when they are called."""

from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Orderable

from portal.core.blocks import BodyBlock, stream_text
from portal.core.lookups import image_with_renditions
from portal.core.models import BasePage

NEWS_PER_PAGE = 10


class NewsCategory(models.Model):
    """A column of the news section, such as 通知公告 or 政策解读."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    slug = models.SlugField(
        _("网址名称"),
        max_length=40,
        unique=True,
        help_text=_("用于筛选链接的英文或拼音短名,例如 tongzhi。"),
    )
    description = models.TextField(
        _("说明"), blank=True, help_text=_("这个栏目收录哪类新闻,一两句话即可。")
    )
    sort_order = models.PositiveSmallIntegerField(
        _("排序"), default=0, help_text=_("数字越小越靠前。")
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("sort_order"),
    ]

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("新闻分类")
        verbose_name_plural = _("新闻分类")

    def __str__(self):
        return self.name


class NewsPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "news.NewsPage", on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        verbose_name = _("新闻标签")
        verbose_name_plural = _("新闻标签")


class NewsIndexPage(RoutablePageMixin, BasePage):
    """The news section: a paginated list filterable by category, tag and
    year, and an RSS feed of the newest items."""

    intro = models.TextField(_("导语"), blank=True, help_text=_("显示在新闻列表上方的一两句介绍。"))

    content_panels = BasePage.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["news.NewsPage"]

    section_name = _("政策新闻")
    summary_field = "intro"

    class Meta:
        verbose_name = _("新闻栏目")
        verbose_name_plural = _("新闻栏目")

    def feed_url(self, request=None):
        return self.get_url(request) + self.reverse_subpage("feed")

    @path("")
    def news_list(self, request):
        return self.render_listing(request)

    @path("<int:year>/")
    def year_archive(self, request, year):
        return self.render_listing(request, year=year)

    @path("feed/")
    def feed(self, request):
        from .feeds import NewsFeed

        return NewsFeed(self)(request)

    def render_listing(self, request, year=None):
        from . import queries

        years = queries.archive_years(self)
        categories = queries.categories()
        if year is not None and year not in years:
            raise Http404
        category = tag = None
        if slug := request.GET.get("category"):
            category = next((known for known in categories if known.slug == slug), None)
            if category is None:
                raise Http404
        if name := request.GET.get("tag"):
            tag = queries.tag_named(name)
            if tag is None:
                raise Http404
        ids = queries.listing_ids(self, year, category, tag)
        # get_page() falls back to the first page for junk and to the last
        # page for numbers past the end, so a stale link never breaks.
        page_obj = Paginator(ids, NEWS_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            "page_obj": page_obj,
            "news_list": queries.news_cards(request, page_obj.object_list, show_tags=True),
            "categories": categories,
            "tags": queries.listing_tags(self),
            "years": years,
            "active_category": category,
            "active_tag": tag,
            "year": year,
            "feed_url": self.feed_url(request),
            "listing_title": self.listing_title(year, category, tag, page_obj.number),
            "canonical_url": self.listing_url(request, year, page_obj.number, category or tag),
        }
        return self.render(request, context_overrides=context)

    def listing_title(self, year, category, tag, page_number):
        """The <title> of a listing names what it shows, so search results and
        browser tabs tell the archive, filters and pages apart."""
        title = self.seo_title or self.title
        if year is not None:
            title = gettext("%(year)s 年%(title)s") % {"year": year, "title": title}
        parts = [title]
        if category is not None:
            parts.append(category.name)
        if tag is not None:
            parts.append(gettext("标签:%(tag)s") % {"tag": tag.name})
        if page_number > 1:
            parts.append(gettext("第 %(number)s 页") % {"number": page_number})
        return pgettext("title separator", " · ").join(parts)

    def listing_url(self, request, year, page_number, filtered):
        """The canonical address of a listing: the year archive's own route and
        the page number. A category or tag view points at the unfiltered list,
        whose page numbers count different items."""
        url = self.get_full_url(request)
        if year is not None:
            url += self.reverse_subpage("year_archive", args=[year])
        if page_number > 1 and not filtered:
            url += f"?page={page_number}"
        return url


class NewsPage(BasePage):
    """One news item or policy notice. An official document carries its
    issuing office (发文机关) and document number (文号)."""

    date = models.DateField(
        _("发布日期"),
        default=timezone.localdate,
        help_text=_("新闻或文件的发布日期,列表按此排序。"),
    )
    category = models.ForeignKey(
        NewsCategory,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="news_pages",
        help_text=_("新闻所属栏目。"),
    )
    tags = ClusterTaggableManager(
        through=NewsPageTag,
        blank=True,
        verbose_name=_("标签"),
        help_text=_("几个关键词,居民可按标签查找同类新闻。"),
    )
    intro = models.TextField(
        _("导语"), blank=True, help_text=_("一两句话概括新闻要点,显示在列表和标题下方。")
    )
    featured_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("题图"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("显示在列表和正文上方,建议横幅 16:9;请在图片库中填写图片描述。"),
    )
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)
    issuing_office = models.CharField(
        _("发文机关"),
        max_length=100,
        blank=True,
        help_text=_("正式文件的发文单位,例如:金家岭街道办事处。普通新闻留空。"),
    )
    document_number = models.CharField(
        _("文号"),
        max_length=60,
        blank=True,
        help_text=_("正式文件的文号,例如:崂金政发〔2025〕3号。普通新闻留空。"),
    )

    content_panels = BasePage.content_panels + [
        MultiFieldPanel(
            [FieldPanel("date"), FieldPanel("category"), FieldPanel("tags")],
            heading=_("分类与日期"),
        ),
        FieldPanel("intro"),
        FieldPanel("featured_image"),
        FieldPanel("body"),
        MultiFieldPanel(
            [FieldPanel("issuing_office"), FieldPanel("document_number")],
            heading=_("文件信息"),
        ),
        InlinePanel(
            "related_news_links",
            label=_("相关新闻"),
            heading=_("相关新闻"),
            help_text=_("不选择时,自动显示同一分类中最新的三条新闻。"),
        ),
    ]

    parent_page_types = ["news.NewsIndexPage"]
    subpage_types = []

    section_name = _("政策新闻")
    summary_field = "intro"
    shown_relations = ("category",)

    class Meta:
        verbose_name = _("新闻")
        verbose_name_plural = _("新闻")
        # Listings walk this index newest first (see queries.in_listing_order).
        indexes = [models.Index(fields=["-date", "-page_ptr"], name="news_listing_order")]

    def search_text_parts(self):
        return super().search_text_parts() + [
            stream_text(self.body),
            self.issuing_office,
            self.document_number,
            self.category.name if self.category else "",
            *self.tags.names(),
        ]

    def get_meta_image(self):
        return self.featured_image_with_renditions

    @cached_property
    def featured_image_with_renditions(self):
        """The featured image with all its renditions, so the picture in the
        page and the sharing image need no lookups of their own."""
        return image_with_renditions(self.featured_image_id)

    def related_news(self):
        """The editor's chosen related news, or else the latest in the same
        category; never this page itself."""
        from . import queries

        return queries.related_news(self)

    def get_context(self, request, *args, **kwargs):
        from . import queries

        context = super().get_context(request, *args, **kwargs)
        shown = queries.shown_around(self, preview=getattr(request, "is_preview", False))
        index = shown["index"]
        context.update(
            news_index=index,
            index_url=index.get_url(request) if index else None,
            feed_url=index.feed_url(request) if index else None,
            page_tags=shown["tags"],
            related_news=shown["related"],
        )
        return context


class NewsPageRelatedNews(Orderable):
    """A news item an editor links from another as further reading."""

    page = ParentalKey(NewsPage, on_delete=models.CASCADE, related_name="related_news_links")
    news = models.ForeignKey(
        NewsPage,
        verbose_name=_("新闻"),
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("选择一条相关新闻。"),
    )

    panels = [PageChooserPanel("news", "news.NewsPage")]

    class Meta(Orderable.Meta):
        verbose_name = _("相关新闻")
        verbose_name_plural = _("相关新闻")

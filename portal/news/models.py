"""Policy news (政策新闻): categories, tags, the news index with its archive and
RSS feed, and the news page itself."""

from django.core.paginator import Paginator
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.models import Orderable

from portal.core.blocks import BodyBlock, stream_text
from portal.core.cards import Cards
from portal.core.lookups import cached, image_with_renditions
from portal.core.models import BasePage
from portal.core.utils import find_filter

NEWS_PER_PAGE = 10
RELATED_NEWS_LIMIT = 3

# The renditions templates/includes/news_card.html asks for with
# {% picture ... format-{avif,webp,jpeg} fill-{400x225,800x450} %}; listings
# prefetch exactly these so a card costs no query of its own.
CARD_IMAGE_SPECS = Filter.expand_spec(["format-{avif,webp,jpeg}", "fill-{400x225,800x450}"])


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


def card_renditions_prefetch():
    """Prefetch the featured image renditions a news card shows."""
    rendition_model = get_image_model().get_rendition_model()
    return Prefetch(
        "featured_image__renditions",
        queryset=rendition_model.objects.filter(filter_spec__in=CARD_IMAGE_SPECS),
        to_attr="prefetched_renditions",
    )


NEWS_ORDER = ("-date", "-pk")


def news_for_listing(queryset):
    """Everything a news card shows, fetched in a fixed number of queries."""
    return (
        queryset.select_related("category", "featured_image")
        .prefetch_related("tags", card_renditions_prefetch())
        .order_by(*NEWS_ORDER)
    )


def news_cards(request, ids, show_tags=False):
    """The news cards (templates/includes/news_card.html) for ``ids``, in order;
    only cards not rendered since the last content change touch the database."""
    return Cards(
        request,
        "includes/news_card.html",
        "news",
        ids,
        lambda missing: news_for_listing(NewsPage.objects.filter(pk__in=missing)),
        show_tags=show_tags,
    )


def in_listing_order(news):
    """The ids of ``news`` in listing order, newest first, as a query that walks
    the news_listing_order index and checks each row's page conditions as it
    goes: a LIMIT stops after a few rows. Joined with the page table instead,
    SQLite reads every page and sorts them all, 0.3 s for 20,000 news."""
    return (
        NewsPage.objects.filter(Exists(news.filter(pk=OuterRef("pk"))))
        .order_by(*NEWS_ORDER)
        .values_list("pk", flat=True)
    )


def latest_news_ids(limit=5):
    """The newest live public news across the site."""
    return in_listing_order(NewsPage.objects.live().public())[:limit]


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

    def visible_news(self):
        """Live news under this index that anyone may read. Build it once per
        request: each ``public()`` call costs a query."""
        return NewsPage.objects.child_of(self).live().public()

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
        visible = self.visible_news()
        # What the filters offer changes only when news is published or saved:
        # kept per content generation, so a listing costs one light query.
        years = cached(
            "news-years",
            lambda: [d.year for d in visible.dates("date", "year", order="DESC")],
            self.pk,
        )
        categories = cached("news-categories", lambda: list(NewsCategory.objects.all()))
        news = visible
        if year is not None:
            if year not in years:
                raise Http404
            news = news.filter(date__year=year)
        category = tag = None
        if slug := request.GET.get("category"):
            category = next((known for known in categories if known.slug == slug), None)
            if category is None:
                raise Http404
            news = news.filter(category=category)
        if name := request.GET.get("tag"):
            tag = find_filter(Tag.objects, name=name)
            if tag is None:
                raise Http404
            news = news.filter(tags=tag)
        # Every id of the listing, kept per content generation: any page of it,
        # the thousandth included, is then a slice.
        ids = cached(
            "news-ids",
            lambda: list(in_listing_order(news)),
            self.pk,
            year,
            category and category.pk,
            tag and tag.pk,
        )
        # get_page() falls back to the first page for junk and to the last
        # page for numbers past the end, so a stale link never breaks.
        page_obj = Paginator(ids, NEWS_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            "page_obj": page_obj,
            "news_list": news_cards(request, page_obj.object_list, show_tags=True),
            "categories": categories,
            "tags": cached("news-tags", lambda: list(used_tags(visible)), self.pk),
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


def used_tags(news, limit=12):
    """The tags on ``news``, most used first."""
    return (
        Tag.objects.filter(news_newspagetag_items__content_object__in=news.values("pk"))
        .annotate(uses=models.Count("news_newspagetag_items"))
        .order_by("-uses", "name")[:limit]
    )


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
        # Listings walk this index newest first (see in_listing_order).
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

    @cached_property
    def news_index(self):
        return NewsIndexPage.objects.parent_of(self).first()

    def related_news(self):
        """The editor's chosen related news, or else the latest in the same
        category; never this page itself."""
        chosen_ids = [link.news_id for link in self.related_news_links.all() if link.news_id]
        candidates = NewsPage.objects.live().public().exclude(pk=self.pk)
        if chosen_ids:
            by_id = {news.pk: news for news in candidates.filter(pk__in=chosen_ids)}
            return [by_id[pk] for pk in chosen_ids if pk in by_id]
        if self.category_id is None:
            return []
        newest = in_listing_order(candidates.filter(category_id=self.category_id))
        return list(
            NewsPage.objects.filter(pk__in=newest[:RELATED_NEWS_LIMIT]).order_by(*NEWS_ORDER)
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        if getattr(request, "is_preview", False):
            # A preview shows the draft's own tags and links, and must never
            # leave them in the cache that visitors read.
            shown = self._shown_around()
        else:
            shown = cached("news-page", self._shown_around, self.pk)
        index = shown["index"]
        context.update(
            news_index=index,
            index_url=index.get_url(request) if index else None,
            feed_url=index.feed_url(request) if index else None,
            page_tags=shown["tags"],
            related_news=shown["related"],
        )
        return context

    def _shown_around(self):
        """The index, tags and related news around the article: they change only
        when content is published or saved, so they are kept per content generation."""
        return {
            "index": self.news_index,
            "tags": list(self.tags.all()),
            "related": self.related_news(),
        }


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

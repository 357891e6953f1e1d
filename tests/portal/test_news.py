"""The news section: listing, filters, archive, feed, the news page and demo content."""

import datetime
import itertools
import re

import feedparser
import pytest
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test.utils import CaptureQueriesContext
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction, Site
from wagtail.rich_text import RichText

import demo.news
from portal.news.models import NewsCategory, NewsIndexPage, NewsPage, NewsPageRelatedNews
from portal.news.queries import latest_news_ids, news_cards, news_for_listing
from tests.factories import log_in_verified, make_document, make_image
from tests.queries import render_queries

pytestmark = pytest.mark.django_db

QUERY_BUDGET = 12
slugs = itertools.count(1)


@pytest.fixture
def index(home):
    page = NewsIndexPage(title="政策新闻", slug="news", intro="街道通知公告与工作动态。")
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def notices(db):
    return NewsCategory.objects.create(name="通知公告", slug="tongzhi", sort_order=1)


@pytest.fixture
def services(db):
    return NewsCategory.objects.create(name="民生服务", slug="minsheng", sort_order=2)


def add_news(index, title, date, category=None, tags=(), image=None, **fields):
    page = NewsPage(
        title=title,
        slug=f"news-{next(slugs)}",
        date=date,
        category=category,
        featured_image=image,
        intro=fields.pop("intro", f"{title}的导语。"),
        **fields,
    )
    page.tags.add(*tags)
    index.add_child(instance=page)
    page.save_revision().publish()
    return page


def add_many(index, count, category, start=datetime.date(2025, 1, 1), images=True):
    pages = []
    for number in range(count):
        date = start + datetime.timedelta(days=number)
        pages.append(
            add_news(
                index,
                f"新闻{date:%Y%m%d}-{number}",
                date,
                category=category,
                tags=[f"标签{number}", "网格治理"],
                image=make_image(title=f"图片{date}-{number}") if images else None,
            )
        )
    return pages


def card_titles(response):
    return re.findall(r'class="card__title"[^>]*><a href="[^"]*">([^<]+)</a>', response.text)


def test_index_lists_newest_first_ten_per_page(client, index, notices):
    add_many(index, 12, notices)
    response = client.get(index.url)
    assert response.status_code == 200
    titles = card_titles(response)
    assert len(titles) == 10
    assert titles[0].startswith("新闻20250112")
    assert 'rel="next"' in response.text

    second = client.get(index.url, {"page": 2})
    assert [t[:10] for t in card_titles(second)] == ["新闻20250102", "新闻20250101"]


def test_index_hides_drafts_and_private_news(client, index, notices):
    add_news(index, "公开的新闻", datetime.date(2025, 3, 1), category=notices)
    draft = add_news(index, "尚未发布的新闻", datetime.date(2025, 3, 2), category=notices)
    draft.unpublish()
    private = add_news(index, "仅限内部的新闻", datetime.date(2025, 3, 3), category=notices)
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    response = client.get(index.url)
    assert card_titles(response) == ["公开的新闻"]


@pytest.mark.parametrize("page_number", ["abc", "0", "-1", "999", "2.5", ""])
def test_bad_page_numbers_fall_back_instead_of_failing(client, index, notices, page_number):
    add_many(index, 12, notices, images=False)
    response = client.get(index.url, {"page": page_number})
    assert response.status_code == 200
    assert len(card_titles(response)) in (2, 10)


def test_category_filter_narrows_the_list_and_marks_the_link(client, index, notices, services):
    add_news(index, "值班安排通知", datetime.date(2025, 5, 1), category=notices)
    add_news(index, "长者食堂开张", datetime.date(2025, 5, 2), category=services)
    response = client.get(index.url, {"category": "minsheng"})
    assert card_titles(response) == ["长者食堂开张"]
    assert re.search(r'href="[^"]*\?category=minsheng" aria-current="page">民生服务', response.text)
    assert not re.search(r'\?category=tongzhi" aria-current', response.text)


def test_unknown_category_or_tag_is_not_found(client, index, notices):
    add_news(index, "值班安排通知", datetime.date(2025, 5, 1), category=notices)
    assert client.get(index.url, {"category": "no-such"}).status_code == 404
    assert client.get(index.url, {"tag": "不存在的标签"}).status_code == 404


def test_tag_filter_narrows_the_list(client, index, notices):
    add_news(index, "群租房整治", datetime.date(2025, 6, 1), category=notices, tags=["群租房"])
    add_news(index, "老年大学开课", datetime.date(2025, 6, 2), category=notices, tags=["养老服务"])
    response = client.get(index.url, {"tag": "群租房"})
    assert card_titles(response) == ["群租房整治"]
    assert re.search(
        r'\?tag=%E7%BE%A4%E7%A7%9F%E6%88%BF" aria-current="page">群租房', response.text
    )


def test_pagination_links_keep_the_active_filter(client, index, notices, services):
    add_many(index, 11, services, images=False)
    add_news(index, "其他分类", datetime.date(2025, 8, 1), category=notices)
    response = client.get(index.url, {"category": "minsheng"})
    assert "?category=minsheng&amp;page=2" in response.text


def test_year_archive_lists_that_year_and_links_all_years(client, index, notices):
    add_news(index, "二〇二五年的新闻", datetime.date(2025, 11, 1), category=notices)
    add_news(index, "二〇二六年的新闻", datetime.date(2026, 2, 1), category=notices)
    response = client.get(index.url + "2025/")
    assert response.status_code == 200
    assert card_titles(response) == ["二〇二五年的新闻"]
    assert "<h1>2025 年政策新闻</h1>" in response.text
    assert re.search(r'href="/news/2026/">2026 年', response.text)
    assert re.search(r'href="/news/2025/" aria-current="page">2025 年', response.text)
    # Newest year first, each once.
    assert re.findall(r'href="/news/(\d{4})/"', response.text) == ["2026", "2025"]
    assert client.get(index.url + "2019/").status_code == 404


def canonical_and_title(response):
    canonical = re.search(r'<link rel="canonical" href="([^"]+)">', response.text).group(1)
    og_url = re.search(r'<meta property="og:url" content="([^"]+)">', response.text).group(1)
    assert og_url == canonical
    title = re.search(r"<title>([^<]+)</title>", response.text).group(1)
    return canonical, title


def test_listings_have_their_own_canonical_address_and_title(client, index, notices):
    add_many(index, 11, notices, images=False)
    add_news(index, "二〇二六年的新闻", datetime.date(2026, 2, 1), category=notices, tags=["养老"])
    assert canonical_and_title(client.get(index.url)) == (
        "http://localhost/news/",
        "政策新闻 | 金家岭街道",
    )
    assert canonical_and_title(client.get(index.url, {"page": 2})) == (
        "http://localhost/news/?page=2",
        "政策新闻 · 第 2 页 | 金家岭街道",
    )
    assert canonical_and_title(client.get(index.url + "2025/", {"page": "2"})) == (
        "http://localhost/news/2025/?page=2",
        "2025 年政策新闻 · 第 2 页 | 金家岭街道",
    )
    canonical, title = canonical_and_title(
        client.get(index.url + "2026/", {"category": "tongzhi", "tag": "养老", "utm": "x"})
    )
    assert canonical == "http://localhost/news/2026/"
    assert title == "2026 年政策新闻 · 通知公告 · 标签:养老 | 金家岭街道"


def test_index_and_news_pages_advertise_the_feed(client, index, notices):
    news = add_news(index, "值班安排通知", datetime.date(2025, 5, 1), category=notices)
    pattern = r'<link rel="alternate" type="application/rss\+xml" title="[^"]+" href="/news/feed/">'
    assert re.search(pattern, client.get(index.url).text)
    assert re.search(pattern, client.get(news.url).text)


def test_feed_lists_newest_twenty_with_absolute_links(client, index, notices):
    add_many(index, 22, notices, images=False)
    response = client.get(index.url + "feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo
    assert "政策新闻" in feed.feed.title
    assert len(feed.entries) == 20
    assert feed.entries[0].title.startswith("新闻20250122")
    assert feed.entries[1].title.startswith("新闻20250121")
    site_root = Site.objects.get(is_default_site=True).root_url
    assert feed.entries[0].link.startswith(f"{site_root}/news/news-")
    assert feed.entries[0].published_parsed[:3] == (2025, 1, 21)  # midnight Shanghai in UTC
    assert {tag.term for tag in feed.entries[0].tags} >= {"通知公告", "网格治理"}


@pytest.fixture
def full_news(index, notices):
    image = make_image(title="网格员走访", description="网格员在楼道里与居民交谈")
    document = make_document(title="出租房屋排查通知全文")
    table = {
        "data": [["阶段", "时间"], ["入户排查", "1月21日—3月10日"]],
        "first_row_is_table_header": True,
        "first_col_is_header": False,
        "table_caption": "排查工作安排",
    }
    return add_news(
        index,
        "关于开展出租房屋集中排查的通知",
        datetime.date(2025, 1, 10),
        category=notices,
        tags=["群租房", "消防安全"],
        image=image,
        intro="网格员将逐户排查出租房屋。",
        issuing_office="金家岭街道办事处",
        document_number="崂金政发〔2025〕1号",
        body=[
            ("heading", {"text": "排查范围", "level": "h2"}),
            ("paragraph", RichText("<p>辖区内所有用于出租的住宅。</p>")),
            ("quote", {"text": "堵不如疏。", "attribution": "街道社会治理办公室"}),
            ("table", table),
            ("document", {"document": document, "title": ""}),
        ],
    )


def test_news_page_shows_everything_a_resident_reads(client, full_news):
    response = client.get(full_news.url)
    html = response.text
    assert response.status_code == 200
    assert '<time datetime="2025-01-10">2025年1月10日</time>' in html
    assert 'href="/news/?category=tongzhi">通知公告</a>' in html
    assert 'href="/news/?tag=%E7%BE%A4%E7%A7%9F%E6%88%BF">群租房</a>' in html
    assert "网格员将逐户排查出租房屋。" in html
    assert re.search(r'<img [^>]*alt="网格员在楼道里与居民交谈"', html)
    assert "<picture>" in html and 'type="image/avif"' in html
    assert "<h2>排查范围</h2>" in html
    assert "辖区内所有用于出租的住宅。" in html
    assert "堵不如疏。" in html
    assert "<caption>排查工作安排</caption>" in html and "<td>1月21日—3月10日</td>" in html
    assert re.search(r'<a href="/documents/\d+/[^"]+" download>', html)
    assert "出租房屋排查通知全文" in html and "PDF" in html
    assert "<dt>发文机关</dt><dd>金家岭街道办事处</dd>" in html
    assert "<dt>文号</dt><dd>崂金政发〔2025〕1号</dd>" in html
    assert '<meta property="og:type" content="article">' in html
    assert html.count("<h1") == 1


def test_plain_news_has_no_document_details(client, index, notices):
    news = add_news(index, "长者食堂开张", datetime.date(2025, 5, 2), category=notices)
    assert "<dt>文号</dt>" not in client.get(news.url).text


def test_related_news_falls_back_to_latest_in_same_category(client, index, notices, services):
    older = [
        add_news(index, f"同类新闻{day}", datetime.date(2025, 4, day), category=notices)
        for day in (1, 2, 3, 4)
    ]
    add_news(index, "别的分类", datetime.date(2025, 4, 10), category=services)
    current = older[1]
    related = current.related_news()
    assert [page.title for page in related] == ["同类新闻4", "同类新闻3", "同类新闻1"]
    html = client.get(current.url).text
    assert "相关新闻" in html and "同类新闻4" in html and "别的分类" not in html


def test_chosen_related_news_replace_the_fallback(index, notices, services):
    other = add_news(index, "长者食堂开张", datetime.date(2025, 5, 2), category=services)
    same = add_news(index, "同类新闻", datetime.date(2025, 5, 3), category=notices)
    current = add_news(index, "当前新闻", datetime.date(2025, 5, 1), category=notices)
    current.related_news_links.add(NewsPageRelatedNews(news=other))
    current.save_revision().publish()
    current = NewsPage.objects.get(pk=current.pk)
    assert current.related_news() == [other]
    other.unpublish()
    assert NewsPage.objects.get(pk=current.pk).related_news() == []
    assert same not in current.related_news()


def test_search_text_covers_office_number_category_and_tags(full_news):
    text = " ".join(full_news.search_text_parts())
    for expected in ("崂金政发〔2025〕1号", "金家岭街道办事处", "通知公告", "群租房", "排查范围"):
        assert expected in text
    assert full_news.get_meta_image() == full_news.featured_image


def test_latest_news_is_newest_first_and_loaded_cards_render_without_queries(index, notices):
    from django.template.loader import render_to_string

    add_many(index, 6, notices)
    ids = list(latest_news_ids(limit=5))
    assert [NewsPage.objects.get(pk=pk).date.day for pk in ids] == [6, 5, 4, 3, 2]
    for page in news_for_listing(NewsPage.objects.filter(pk__in=ids)):
        render_to_string("includes/news_card.html", {"news": page})  # make renditions
    news = list(news_for_listing(NewsPage.objects.filter(pk__in=ids)))
    with CaptureQueriesContext(connection) as queries:
        html = "".join(render_to_string("includes/news_card.html", {"news": n}) for n in news)
    assert len(queries) == 0
    assert html.count("<picture>") == 5 and "通知公告" in html


def test_a_card_is_rendered_once_and_again_after_its_news_changes(rf, index, notices):
    [first] = add_many(index, 1, notices)
    request = rf.get("/")
    list(news_cards(request, [first.pk]))  # the first view makes the image's renditions
    assert "<h3" in str(list(news_cards(request, [first.pk]))[0])
    with CaptureQueriesContext(connection) as queries:
        [again] = news_cards(request, [first.pk])
    assert len(queries) == 0 and first.title in again

    first.title = "改过的标题"
    first.save_revision().publish()
    [changed] = news_cards(request, [first.pk])
    assert "改过的标题" in changed


def test_index_query_count_does_not_grow_with_items(client, index, notices):
    add_many(index, 4, notices)
    few = render_queries(client, index.url)
    add_many(index, 6, notices, start=datetime.date(2025, 3, 1))
    many = render_queries(client, index.url)
    assert few == many
    assert render_queries(client, index.url, cold=False) <= QUERY_BUDGET


def test_news_page_query_count_does_not_grow_with_tags_or_related(client, index, notices):
    news = add_news(
        index, "当前新闻", datetime.date(2025, 1, 1), notices, tags=["甲"], image=make_image()
    )
    add_news(index, "同类新闻", datetime.date(2025, 1, 2), category=notices)
    few = render_queries(client, news.url)
    news = NewsPage.objects.get(pk=news.pk)
    news.tags.add("乙", "丙", "丁")
    for page in add_many(index, 3, notices):
        news.related_news_links.add(NewsPageRelatedNews(news=page))
    news.save_revision().publish()
    many = render_queries(client, news.url)
    assert "乙" in client.get(news.url).text
    assert few == many
    assert render_queries(client, news.url, cold=False) <= QUERY_BUDGET


def test_feed_query_count_does_not_grow_with_items(client, index, notices):
    add_many(index, 3, notices, images=False)
    few = render_queries(client, index.url + "feed/")
    add_many(index, 6, notices, start=datetime.date(2025, 3, 1), images=False)
    assert render_queries(client, index.url + "feed/") == few


def test_seed_builds_the_section_and_is_idempotent(client, home):
    demo.news.seed(home)
    counts = (
        NewsPage.objects.count(),
        NewsCategory.objects.count(),
        get_image_model().objects.count(),
        get_document_model().objects.count(),
    )
    demo.news.seed(home)
    assert counts == (
        NewsPage.objects.count(),
        NewsCategory.objects.count(),
        get_image_model().objects.count(),
        get_document_model().objects.count(),
    )
    assert counts[0] >= 22 and counts[1] >= 4
    years = {page.date.year for page in NewsPage.objects.all()}
    assert {2025, 2026} <= years
    index = NewsIndexPage.objects.get(slug="news")
    assert index.show_in_menus and index.live
    assert NewsPage.objects.exclude(document_number="").count() >= 3
    assert client.get(index.url).status_code == 200
    assert client.get(index.url + "feed/").status_code == 200
    with_document = NewsPage.objects.get(slug="grid-service-priorities-2026")
    assert "download" in client.get(with_document.url).text


def test_editors_can_open_the_news_form_and_category_list(
    client, index, notices, django_user_model
):
    admin = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw")
    log_in_verified(client, admin)
    form = client.get(f"/admin/pages/add/news/newspage/{index.pk}/")
    assert form.status_code == 200
    for label in ("发文机关", "文号", "相关新闻", "题图"):
        assert label in form.text
    categories = client.get("/admin/snippets/news/newscategory/")
    assert categories.status_code == 200 and "通知公告" in categories.text


def test_document_download_shows_its_size_even_when_never_stored(client, index, notices):
    document = make_document(title="未记录大小的附件")
    type(document).objects.filter(pk=document.pk).update(file_size=None)
    page = add_news(
        index,
        "附件大小",
        datetime.date(2025, 3, 1),
        category=notices,
        body=[("document", {"document": document, "title": ""})],
    )
    html = client.get(page.url).text
    size = filesizeformat(document.file.size)
    assert f"(PDF,{size})" in html
    document.refresh_from_db()
    assert document.file_size == document.file.size


def test_the_news_picture_above_the_fold_is_fetched_first(client, index, notices):
    page = add_news(
        index, "题图新闻", datetime.date(2025, 3, 1), category=notices, image=make_image()
    )
    html = client.get(page.url).content.decode()
    assert re.search(r'<img[^>]*fetchpriority="high"', html)
    assert 'loading="lazy"' not in html[html.index("<main") : html.index("</h1>") + 600]

"""Page addresses from the titles editors really write: an all-Chinese title
needs no Latin 缩略名, a title starting with digits does not land on the news
index's year archive, and a clash is refused in Chinese. Through the admin's
own add view, as an editor saves a draft."""

import datetime

import pytest
from django.utils.text import slugify
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from portal.core.slugs import pinyin_slug
from portal.news.models import NewsIndexPage, NewsPage
from tests.factories import log_in_verified

pytestmark = pytest.mark.django_db

TITLES = [
    "关于开展2026年度心理健康宣传月活动的通知",
    "2026—2027年度社区网格化服务管理工作计划",
    "金家岭街道召开扫黑除恶专项斗争推进会",
    "“邻里守望”志愿服务队招募启事",
    "2026",
]


@pytest.fixture
def index(home):
    page = NewsIndexPage(title="政策新闻", slug="news")
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def editor_client(client, django_user_model):
    log_in_verified(
        client, django_user_model.objects.create_superuser("editor", "e@example.com", "pw")
    )
    return client


def save_draft(client, index, title, slug=None):
    """What the admin posts: the slug its script made from the title (only the
    Latin letters and digits of a Chinese title), unless the editor typed one."""
    data = nested_form_data(
        {
            "title": title,
            "slug": slugify(title) if slug is None else slug,
            "date": "2026-11-20",
            "intro": "导语。",
            "body": streamfield([]),
            "related_news_links": inline_formset([]),
            "comments": inline_formset([]),
        }
    )
    return client.post(f"/admin/pages/add/news/newspage/{index.pk}/", data)


@pytest.mark.parametrize("title", TITLES)
def test_a_chinese_title_gets_a_readable_address_that_opens(editor_client, index, title):
    response = save_draft(editor_client, index, title)

    assert response.status_code == 302, response.content.decode()[:2000]
    page = NewsPage.objects.get(title=title)
    assert page.slug == pinyin_slug(title) or page.slug.startswith(pinyin_slug(title) + "-")
    assert page.slug.isascii() and len(page.slug) <= 60
    assert not page.slug.isdigit()  # never the year archive's /news/2026/
    page.save_revision().publish()
    assert editor_client.get(page.url).context["page"].pk == page.pk


def test_the_pinyin_reads_as_the_title():
    assert (
        pinyin_slug("金家岭街道召开扫黑除恶专项斗争推进会")
        == (
            "jin-jia-ling-jie-dao-zhao-kai-sao-hei-chu-e-zhuan-xiang-dou-zheng-tui-jin-hui"[
                :60
            ].rsplit("-", 1)[0]
        )
    )
    assert pinyin_slug("心理咨询室开放通知") == "xin-li-zi-xun-shi-kai-fang-tong-zhi"


def test_the_same_title_twice_gets_a_second_address(editor_client, index):
    save_draft(editor_client, index, "心理咨询室开放通知")
    save_draft(editor_client, index, "心理咨询室开放通知")
    slugs = sorted(NewsPage.objects.values_list("slug", flat=True))
    assert slugs == ["xin-li-zi-xun-shi-kai-fang-tong-zhi", "xin-li-zi-xun-shi-kai-fang-tong-zhi-2"]


def test_a_typed_slug_the_year_archive_would_take_is_refused_in_chinese(editor_client, index):
    response = save_draft(editor_client, index, "年度总结", slug="2025")
    assert response.status_code == 200 and not NewsPage.objects.exists()
    assert "与栏目“政策新闻”自身的网址冲突" in response.content.decode()


def test_a_typed_slug_a_sibling_holds_is_refused_in_chinese(editor_client, index):
    save_draft(editor_client, index, "第一篇", slug="notice")
    response = save_draft(editor_client, index, "第二篇", slug="notice")
    assert response.status_code == 200 and NewsPage.objects.count() == 1
    assert "缩略名“notice”已被同一栏目下的另一个页面使用" in response.content.decode()


def test_a_typed_latin_slug_is_kept(editor_client, index):
    save_draft(editor_client, index, "心理咨询室开放通知", slug="rooms-open")
    assert NewsPage.objects.get().slug == "rooms-open"
    assert datetime.date(2026, 11, 20) == NewsPage.objects.get().date

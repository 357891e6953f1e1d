"""Every public query parameter takes whatever is thrown at it: arbitrary
Unicode, NULs, control characters, huge strings, numbers out of range, markup,
SQL and search-syntax fragments, repeated keys and raw bytes that are not UTF-8.
A page answers with its content or a Chinese "not found" page, never a server
error, and never echoes markup unescaped."""

import datetime
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.campaigns.models import CampaignIndexPage, CampaignPage
from portal.news.models import NewsCategory, NewsIndexPage, NewsPage
from portal.talks.models import TalkIndexPage, TalkPage
from tests.strategies import (
    PROPERTY_SETTINGS,
    has_chinese,
    nasty_text,
    param_values,
    query_data,
    raw_query_strings,
)

pytestmark = pytest.mark.django_db

NOT_FOUND = "抱歉,没有找到这个页面"
MARKUP = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@pytest.fixture
def site(home):
    """A small public site: news with a category and tags, a tagged talk and a
    campaign, each under its published index."""
    news_index = home.add_child(instance=NewsIndexPage(title="政策新闻", slug="news"))
    category = NewsCategory.objects.create(name="通知公告", slug="tongzhi")
    news = NewsPage(
        title="心理咨询室开放通知",
        slug="rooms-open",
        date=datetime.date(2026, 3, 2),
        category=category,
        intro="六个心理咨询室开放预约。",
    )
    news.tags.add("社区服务")
    news_index.add_child(instance=news)
    talk_index = home.add_child(instance=TalkIndexPage(title="心理讲座", slug="talks"))
    talk = TalkPage(
        title="睡眠与压力",
        slug="sleep",
        summary="睡前一小时少看手机。",
        recorded_on=datetime.date(2026, 5, 1),
    )
    talk.tags.add("睡眠")
    talk_index.add_child(instance=talk)
    campaign_index = home.add_child(instance=CampaignIndexPage(title="扫黑除恶", slug="saohei"))
    campaign_index.add_child(
        instance=CampaignPage(title="扫黑除恶常态化宣传", slug="changtaihua", intro="宣传材料。")
    )
    return {"news": news_index.url, "talks": talk_index.url, "campaigns": campaign_index.url}


def assert_answered_in_chinese(response):
    """A 200 page or the site's own 404 page, in Chinese, with no markup echoed."""
    assert response.status_code in (200, 404), response.status_code
    html = response.content.decode()
    assert has_chinese(html)
    if response.status_code == 404:
        assert NOT_FOUND in html
    for markup in MARKUP:
        assert markup not in html


@PROPERTY_SETTINGS
@given(query=param_values(["心理", "咨询室", "扫黑除恶", "睡眠"]), page=param_values(["1", "2"]))
def test_search_answers_any_query_and_page(site, new_client, query, page):
    data = {key: value for key, value in {"q": query, "page": page}.items() if value is not None}
    response = new_client().get("/search/", data)
    assert response.status_code == 200
    assert_answered_in_chinese(response)
    html = response.content.decode()
    assert "站内搜索" in html or "的搜索结果" in html


@PROPERTY_SETTINGS
@given(
    year=st.none() | st.integers(min_value=0, max_value=10**30) | st.just(2026),
    data=query_data(["category", "tag", "page"], valid=["tongzhi", "社区服务", "1", "2"]),
)
def test_news_index_and_archive_answer_any_year_category_tag_and_page(site, new_client, year, data):
    path = site["news"] if year is None else f"{site['news']}{year}/"
    assert_answered_in_chinese(new_client().get(path, data))


@PROPERTY_SETTINGS
@given(
    section=st.sampled_from(["talks", "campaigns"]),
    data=query_data(["tag", "page"], valid=["睡眠", "1", "2"]),
)
def test_talk_and_campaign_indexes_answer_any_topic_and_page(site, new_client, section, data):
    assert_answered_in_chinese(new_client().get(site[section], data))


@PROPERTY_SETTINGS
@given(
    section=st.sampled_from(["/search/", "news", "talks", "campaigns", "news-year", "sitemap"]),
    raw=raw_query_strings,
)
def test_raw_query_strings_never_break_a_listing(site, new_client, section, raw):
    paths = {"news-year": f"{site['news']}2026/", "/search/": "/search/", "sitemap": "/sitemap.xml"}
    response = new_client().get(f"{paths.get(section) or site[section]}?{raw}")
    if section == "sitemap":  # the sitemap's ?p= page number
        assert response.status_code in (200, 404)
    else:
        assert_answered_in_chinese(response)


@PROPERTY_SETTINGS
@given(target=param_values(["/", "/search/?q=心理", "https://evil.example/", "//evil.example/"]))
def test_elder_switch_only_ever_returns_to_this_site(site, new_client, target):
    response = new_client().get("/zhangbei/", {} if target is None else {"next": target})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.netloc in ("", "testserver")
    assert location.scheme in ("", "http")
    assert not response["Location"].startswith("//")


@PROPERTY_SETTINGS
@given(path=nasty_text)
def test_any_address_under_a_section_is_found_or_explained(site, new_client, path):
    response = new_client().get(site["news"] + quote(path, safe="/"))
    status = response.status_code
    assert status in (200, 301, 302, 400, 404)
    if status == 400:  # an address too long to redirect to
        assert "抱歉,无法处理这个请求" in response.content.decode()
    if status == 404:
        assert_answered_in_chinese(response)

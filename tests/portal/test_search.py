"""Chinese search across news, talks and campaign pages (DESIGN.md decision 4)."""

import datetime
import re
from io import StringIO

import pytest
from django.core.management import call_command

from portal.campaigns.models import CampaignPage
from portal.core.models import StandardPage
from portal.news.models import NewsIndexPage, NewsPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def news_index(home):
    return home.add_child(instance=NewsIndexPage(title="政策新闻", slug="news"))


@pytest.fixture
def counselling_news(news_index):
    """A news item whose only mention of the rooms is inside its body."""
    return news_index.add_child(
        instance=NewsPage(
            title="五个管区服务点同步开放",
            slug="rooms-open",
            date=datetime.date(2026, 3, 2),
            intro="街道为居民增设服务点。",
            body=[("paragraph", "<p>每个管区都设有一处心理咨询室,配备专业设备。</p>")],
        )
    )


@pytest.fixture
def campaign(home):
    return home.add_child(
        instance=CampaignPage(
            title="平安建设宣传月", slug="pingan", intro="深入开展扫黑除恶专项斗争宣传。"
        )
    )


def result_titles(response):
    return [result.title for result in response.context["results"]]


def test_partial_chinese_word_finds_page_by_body_text(client, counselling_news):
    response = client.get("/search/", {"q": "心理"})
    assert response.status_code == 200
    assert result_titles(response) == ["五个管区服务点同步开放"]
    assert "政策新闻" in response.content.decode()  # labelled by section


def test_saohei_finds_campaign_material(client, campaign, counselling_news):
    response = client.get("/search/", {"q": "扫黑"})
    assert result_titles(response) == ["平安建设宣传月"]
    html = response.content.decode()
    assert '<span class="section-label">扫黑除恶</span>' in html


def test_multi_word_query_needs_every_word(client, counselling_news, campaign):
    assert result_titles(client.get("/search/", {"q": "心理咨询"})) == ["五个管区服务点同步开放"]
    assert result_titles(client.get("/search/", {"q": "心理 扫黑"})) == []


def test_unrelated_word_finds_nothing_and_says_so(client, counselling_news):
    response = client.get("/search/", {"q": "足球比赛"})
    assert result_titles(response) == []
    assert "没有找到与“足球比赛”相关的内容" in response.content.decode()


def test_drafts_private_and_plain_pages_are_not_results(client, home, news_index):
    news_index.add_child(
        instance=NewsPage(
            title="心理草稿", slug="draft", date=datetime.date(2026, 1, 1), live=False
        )
    )
    home.add_child(instance=StandardPage(title="心理服务简介", slug="about"))
    assert result_titles(client.get("/search/", {"q": "心理"})) == []


def test_results_are_paginated(client, news_index):
    for number in range(12):
        news_index.add_child(
            instance=NewsPage(
                title=f"心理健康讲堂第{number + 1}期",
                slug=f"talk-{number}",
                date=datetime.date(2026, 1, number + 1),
            )
        )
    first = client.get("/search/", {"q": "心理"})
    second = client.get("/search/", {"q": "心理", "page": 2})
    assert len(result_titles(first)) == 10
    assert len(result_titles(second)) == 2
    assert set(result_titles(first)).isdisjoint(result_titles(second))
    assert "q=%E5%BF%83%E7%90%86&amp;page=2" in first.content.decode()


@pytest.mark.parametrize("page", ["abc", "0", "-1", "999", ""])
def test_bad_page_numbers_never_fail(client, counselling_news, page):
    response = client.get("/search/", {"q": "心理", "page": page})
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["", " ", "'\"<>", "%", "心" * 500, "AND OR NOT", "*", "\x00"])
def test_odd_queries_never_fail(client, counselling_news, query):
    assert client.get("/search/", {"q": query}).status_code == 200


def test_demo_content_is_searchable_in_every_section(client, home):
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    labels = {
        result.section_name
        for query in ("心理", "扫黑", "讲座")
        for result in client.get("/search/", {"q": query}).context["results"]
    }
    assert {"政策新闻", "心理讲座", "扫黑除恶"} <= labels


def test_the_two_search_forms_on_the_results_page_have_distinct_names(client, home):
    html = client.get("/search/", {"q": "心理"}).content.decode()
    labels = re.findall(r'<form [^>]*role="search" aria-label="([^"]+)"', html)
    assert len(labels) == 2 and len(set(labels)) == 2


def test_a_query_matching_more_than_the_cap_lists_the_newest_and_says_so(
    client, news_index, monkeypatch
):
    from portal.search import views

    monkeypatch.setattr(views, "MAX_RESULTS", 3)
    for number in range(5):
        news_index.add_child(
            instance=NewsPage(
                title=f"心理健康讲堂第{number + 1}期",
                slug=f"cap-{number}",
                date=datetime.date(2026, 1, number + 1),
            )
        )
    response = client.get("/search/", {"q": "心理"})
    assert result_titles(response) == [
        "心理健康讲堂第5期",
        "心理健康讲堂第4期",
        "心理健康讲堂第3期",
    ]
    assert "下面列出最新的 3 条" in response.content.decode()


@pytest.mark.parametrize("query", ["想死", "最近很抑郁怎么办", "活着没意思"])
def test_a_search_in_distress_shows_the_hotlines_before_anything_else(client, home, query):
    page = client.get("/search/", {"q": query}).content.decode()
    html = page[page.index("<main") :]
    assert html.index('href="tel:12356"') < html.index("没有找到")
    assert 'href="tel:110"' in html and 'href="tel:120"' in html
    assert 'href="/counseling/"' in html  # and the way to a counsellor


def test_an_ordinary_search_shows_no_crisis_notice(client, home):
    assert 'href="tel:110"' not in client.get("/search/", {"q": "垃圾分类"}).content.decode()


def test_staff_keep_the_crisis_words(client, home):
    from portal.core.models import SiteSettings

    settings_row = SiteSettings.objects.get()
    settings_row.crisis_words = "睡不着\n"
    settings_row.save()  # saving settings refreshes what pages show
    assert 'href="tel:110"' in client.get("/search/", {"q": "整夜睡不着"}).content.decode()
    assert 'href="tel:110"' not in client.get("/search/", {"q": "想死"}).content.decode()


def test_each_web_process_loads_the_segmentation_dictionary_as_it_starts():
    """Otherwise the first search after every start waits half a second for it."""
    import os
    import subprocess
    import sys

    check = (
        "import portal.wsgi; from portal.core import segmentation; "
        "print(segmentation._tokenizer.cache_info().currsize)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", check],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "1"

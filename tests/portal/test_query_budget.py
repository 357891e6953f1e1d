"""Every public page renders in at most QUERY_BUDGET queries in a warm process,
and the count right after a content change (look-ups and cards kept per content
generation gone, the most a view can cost) does not grow with the amount of
content. The full-page cache is off in tests: these are real renders."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from portal.campaigns.models import CampaignPage
from portal.news.models import NewsCategory, NewsIndexPage, NewsPage
from portal.talks.models import TalkPage
from tests.factories import make_image
from tests.queries import render_queries

pytestmark = pytest.mark.django_db

QUERY_BUDGET = 12


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-admin", stdout=StringIO())


@pytest.fixture
def public_urls(demo):
    news = NewsPage.objects.live().filter(document_number__gt="").first()
    return {
        "home": "/",
        "news index": "/news/",
        "news index page 2": "/news/?page=2",
        "news category": f"/news/?category={news.category.slug}",
        "news tag": f"/news/?tag={news.tags.first().name}",
        "news year": f"/news/{news.date.year}/",
        "news page": news.url,
        "news feed": "/news/feed/",
        "talk index": "/talks/",
        "talk page": TalkPage.objects.live().public().first().url,
        "campaign index": "/saohei/",
        "campaign page": CampaignPage.objects.live().first().url,
        "standard page": "/about/",
        "search": "/search/?q=心理",
        "counselling rooms": "/counseling/",
        "sitemap": "/sitemap.xml",
    }


def test_every_public_page_renders_within_the_budget_warm(client, public_urls):
    counts = {name: render_queries(client, url, cold=False) for name, url in public_urls.items()}
    over = {name: count for name, count in counts.items() if count > QUERY_BUDGET}
    assert not over, counts


def add_news_with_images_and_tags(count):
    index = NewsIndexPage.objects.get()
    category = NewsCategory.objects.first()
    for n in range(count):
        page = NewsPage(
            title=f"心理健康服务通知 {n}",
            slug=f"budget-news-{n}",
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
            category=category,
            intro="社区心理健康服务的安排。",
            featured_image=make_image(title=f"题图 {n}"),
        )
        index.add_child(instance=page)
        page.tags.add(f"标签{n}", f"话题{n % 7}", "心理")
        page.save_revision().publish()


def test_counts_do_not_grow_with_news_images_and_tags(client, public_urls):
    urls = {
        name: public_urls[name]
        for name in ("home", "news index", "news tag", "search", "news page")
    }
    urls["news index page 3"] = "/news/?page=3"
    before = {name: render_queries(client, url) for name, url in urls.items()}
    add_news_with_images_and_tags(60)
    after = {name: render_queries(client, url) for name, url in urls.items()}
    # Search loads each page type shown once; the new news can push other
    # types off its first page, never add any.
    assert after.pop("search") <= before.pop("search")
    assert after == before
    warm = {name: render_queries(client, url, cold=False) for name, url in urls.items()}
    assert max(warm.values()) <= QUERY_BUDGET, warm

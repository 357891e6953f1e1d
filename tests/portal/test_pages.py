"""Every public page type of the demo site: valid HTML, Chinese, self-hosted assets,
few queries. The section tests prove that the counts do not grow with content."""

import re
from io import StringIO

import html5lib
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from portal.campaigns.models import CampaignPage
from portal.news.models import NewsPage
from tests.factories import demo_page_urls, log_in_verified
from tests.queries import render_queries

pytestmark = pytest.mark.django_db

QUERY_BUDGET = 12
# Anything the browser loads by itself: media, scripts, frames, stylesheets and icons.
ASSET_ATTRIBUTES = re.compile(
    r'<(?:img|script|source|track|video|audio|iframe)\b[^>]*?\b(?:src|srcset|poster)="([^"]+)"'
    r'|<link rel="(?:stylesheet|icon|preload)"[^>]*?\bhref="([^"]+)"'
)


@pytest.fixture
def demo_urls(db):
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    return demo_page_urls()


def test_every_public_page_is_valid_chinese_html_with_own_assets(client, demo_urls):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    for name, url in demo_urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        parser.parse(html)  # raises on any markup error
        assert '<html lang="zh-Hans">' in html, name
        assert html.count("<h1") == 1, name
        assert 'name="viewport"' in html, name
        assets = ["".join(match) for match in ASSET_ATTRIBUTES.findall(html)]
        assert any("site.css" in asset for asset in assets), name
        for asset in assets:
            for candidate in asset.split(","):
                address = candidate.strip().split(" ")[0]
                assert address.startswith("/") and not address.startswith("//"), (name, address)


def test_every_public_page_renders_in_few_queries(client, demo_urls):
    counts = {name: render_queries(client, url, cold=False) for name, url in demo_urls.items()}
    assert max(counts.values()) <= QUERY_BUDGET, counts


def test_admin_speaks_chinese(client, db):
    admin = get_user_model().objects.create_superuser(
        "boss", "boss@example.com", "a-long-password-1"
    )
    log_in_verified(client, admin)
    html = client.get("/admin/").content.decode()
    assert 'lang="zh-hans"' in html.lower()
    assert "仪表板" in html or "控制面板" in html


def test_telephone_links_hold_only_digits(client, home):
    from portal.core.models import SiteSettings

    site_settings = SiteSettings.objects.get()
    site_settings.phone = "0532-8899 0000"
    site_settings.report_hotline = "+86 532 8899 0110"
    site_settings.save()
    html = client.get("/").content.decode()
    assert 'href="tel:053288990000"' in html and 'href="tel:+865328899 0110"' not in html
    assert 'href="tel:+8653288990110"' in html
    assert not re.search(r'href="tel:[^"]*[^0-9+"]', html)


def test_the_footer_offers_staff_a_way_in_and_out(client, home, admin_client):
    anonymous = Client().get("/").content.decode()
    assert 'href="/admin/login/?next=/"' in anonymous and "退出登录" not in anonymous

    signed_in = admin_client.get("/").content.decode()
    assert 'action="/admin/logout/"' in signed_in and "退出登录" in signed_in
    assert "工作人员登录" not in signed_in


def test_listing_cards_are_named_by_their_heading_and_the_skip_link_sits_in_the_banner(
    client, demo_urls
):
    for name in ("home", "news index", "talk index", "campaign index"):
        html = client.get(demo_urls[name]).content.decode()
        cards = re.findall(r'<article class="card" aria-labelledby="([^"]+)"', html)
        assert cards and len(cards) == html.count('<article class="card"'), name
        assert len(set(cards)) == len(cards), name
        for heading in cards:
            assert f'id="{heading}"' in html, (name, heading)
        banner = html[html.index('<header class="site-header"') : html.index("</header>")]
        assert 'class="skip-link" href="#main"' in banner, name


def test_search_engines_and_people_find_every_section_and_the_rooms(client, demo_urls):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /counseling/*/" in robots and "Disallow: /yuyue/" in robots
    assert "/counseling/book/" not in robots  # an address that never existed

    sitemap = client.get("/sitemap.xml").content.decode()
    assert "<loc>http://localhost/counseling/</loc>" in sitemap  # as the pages' addresses
    assert "<loc>http://localhost/news/</loc>" in sitemap

    home = client.get("/").content.decode()
    assert 'href="/sitemap/">网站地图</a>' in home
    with CaptureQueriesContext(connection) as queries:
        site_map = client.get("/sitemap/")
    html = site_map.content.decode()
    assert site_map.status_code == 200 and len(queries) <= 12
    for url in ("/news/", "/talks/", "/saohei/", "/counseling/", "/yuyue/"):
        assert f'href="{url}"' in html, url
    campaign = CampaignPage.objects.live().first()
    assert f'href="{campaign.url}"' in html  # a small section lists its pages
    assert html.count('href="/news/') < 5  # a large one is listed by its index


def test_meta_descriptions_on_the_rooms_booking_and_manage_pages(client, demo_urls):
    for url in ("/counseling/", "/yuyue/", "/sitemap/"):
        html = client.get(url).content.decode()
        assert re.search(r'<meta name="description" content="[^"]{10,}">', html), url


def test_a_tag_named_like_the_category_is_one_rss_category(client, demo_urls):
    import feedparser

    news = NewsPage.objects.live().filter(category__isnull=False).order_by("-date").first()
    news.tags.add(news.category.name)
    news.save_revision().publish()
    feed = feedparser.parse(client.get("/news/feed/").content)
    entry = next(e for e in feed.entries if e.link.endswith(news.url))
    terms = [tag.term for tag in entry.tags]
    assert terms.count(news.category.name) == 1

"""Site-wide parts: plain pages, meta tags, sitemap, robots.txt, error pages."""

import html5lib
import pytest
from django.test import RequestFactory
from django.views.defaults import server_error
from wagtail.models import PageViewRestriction

from portal.core.models import StandardPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def about(home):
    return home.add_child(
        instance=StandardPage(
            title="走进金家岭",
            slug="about",
            intro="金家岭街道下设五个管区。",
            search_description="街道概况与服务介绍",
            body=[
                ("heading", {"text": "网格化服务", "level": "h2"}),
                ("paragraph", "<p>两百多名网格员分片联系居民。</p>"),
                ("quote", {"text": "小事不出社区", "attribution": "街道工作原则"}),
            ],
        )
    )


def parse(response):
    """Parse strictly: html5lib raises on markup errors."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(
        response.content.decode()
    )


def test_standard_page_renders_body_and_meta(client, about):
    response = client.get("/about/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>走进金家岭</h1>" in html
    assert "<h2>网格化服务</h2>" in html
    assert "两百多名网格员分片联系居民" in html
    assert "小事不出社区" in html
    assert '<meta name="description" content="街道概况与服务介绍">' in html
    assert '<link rel="canonical" href="http://localhost/about/">' in html
    assert '<meta property="og:title" content="走进金家岭">' in html
    assert "<title>走进金家岭 | 金家岭街道</title>" in html
    assert '<html lang="zh-Hans">' in html
    assert (
        '<form class="search-form" role="search" aria-label="全站搜索" action="/search/" method="get">'
        in html
    )
    parse(response)


def test_breadcrumbs_and_footer_link_plain_pages(client, about):
    html = client.get("/about/").content.decode()
    assert 'aria-label="当前位置"' in html
    assert '<li aria-current="page">走进金家岭</li>' in html
    footer = html[html.index('class="site-footer"') :]
    assert 'href="/about/"' in footer
    assert "12356" in footer


def test_sitemap_lists_live_public_pages_only(client, home, about):
    draft = home.add_child(instance=StandardPage(title="草稿", slug="draft", live=False))
    private = home.add_child(instance=StandardPage(title="内部", slug="internal"))
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    assert "<loc>http://localhost/about/</loc>" in xml
    assert "<loc>http://localhost/</loc>" in xml
    assert f"/{draft.slug}/" not in xml
    assert "/internal/" not in xml


def test_robots_txt_points_to_sitemap_and_keeps_admin_out(client, home):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


def test_missing_page_gets_chinese_404(client, home):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "没有找到这个页面" in response.content.decode()


def test_server_error_page_is_self_contained_chinese():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert 'lang="zh-Hans"' in html
    assert "服务器暂时出错" in html
    assert "12356" in html


def test_home_page_title_names_the_site_once(client, home, about):
    response = client.get("/")
    assert response.status_code == 200
    assert "<title>金家岭街道</title>" in response.content.decode()
    assert "<title>走进金家岭 | 金家岭街道</title>" in client.get(about.url).content.decode()

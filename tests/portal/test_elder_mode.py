"""长辈模式 (elder mode): a cookie switched by a plain link, styles served from one small
per-visitor stylesheet, and page HTML that stays the same for everyone so pages can
be cached whole. The elder stylesheet keeps its promises: large text, loose lines,
48px targets, 7:1 contrast."""

import datetime
import re
from html import unescape
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from demo.site import seed_pages
from portal.core.views import COOKIE, COOKIE_MAX_AGE
from portal.news.models import NewsIndexPage, NewsPage
from tests.portal.test_styles import contrast

pytestmark = pytest.mark.django_db

ELDER_CSS = re.sub(
    r"/\*.*?\*/",
    "",
    (Path(__file__).resolve().parents[2] / "portal/core/static/css/elder.css").read_text(),
    flags=re.S,
)
SWITCH = re.compile(r'<a class="elder-switch" href="([^"]+)" rel="nofollow">(.*?)</a>', re.S)


@pytest.fixture
def news_page(home):
    index = home.add_child(instance=NewsIndexPage(title="政策新闻", slug="news"))
    return index.add_child(
        instance=NewsPage(
            title="社区老年大学春季班开课",
            slug="senior-college",
            date=datetime.date(2026, 3, 30),
            intro="书法、合唱和智能手机课程开始报名。",
        )
    )


@pytest.fixture
def elder(client):
    client.cookies[COOKIE] = "1"
    return client


def switch_of(response):
    found = SWITCH.search(response.content.decode())
    assert found, "no 长辈模式 switch on the page"
    return unescape(found.group(1)), found.group(2)


@pytest.mark.parametrize("path", ["/", "/news/", "/news/senior-college/", "/counseling/"])
def test_every_page_has_a_labelled_switch_that_returns_to_it(client, news_page, path):
    response = client.get(path)
    assert response.status_code == 200
    href, label = switch_of(response)
    assert href == f"/zhangbei/?next={path}"
    assert '<span class="elder-switch__on">开启长辈模式</span>' in label
    assert '<span class="elder-switch__off">关闭长辈模式</span>' in label
    assert '<link rel="stylesheet" href="/zhangbei/style.css">' in response.content.decode()


def test_switch_keeps_the_query_string_of_the_page(client, news_page):
    href, _ = switch_of(client.get("/news/", {"page": "1"}))
    assert href == "/zhangbei/?next=/news/%3Fpage%3D1"
    assert client.get(href)["Location"] == "/news/?page=1"


def test_switching_on_sets_a_long_lived_lax_cookie_and_goes_back(client):
    response = client.get("/zhangbei/", {"next": "/news/"})
    assert response.status_code == 302
    assert response["Location"] == "/news/"
    cookie = response.cookies[COOKIE]
    assert cookie.value == "1"
    assert cookie["max-age"] == COOKIE_MAX_AGE >= 365 * 24 * 3600
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    assert "no-store" in response["Cache-Control"]


def test_switching_again_clears_the_cookie(client):
    client.get("/zhangbei/", {"next": "/news/"})
    response = client.get("/zhangbei/", {"next": "/news/"})
    assert response["Location"] == "/news/"
    assert response.cookies[COOKIE].value == ""
    assert response.cookies[COOKIE]["max-age"] == 0
    assert COOKIE not in client.cookies or not client.cookies[COOKIE].value


def test_cookie_is_secure_when_the_session_cookie_is(client, settings):
    settings.SESSION_COOKIE_SECURE = True
    assert client.get("/zhangbei/").cookies[COOKIE]["secure"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""]
)
def test_switch_refuses_to_leave_the_site(client, target):
    response = client.get("/zhangbei/", {"next": target})
    assert response["Location"] == "/"


def test_switch_is_kept_from_crawlers(client):
    assert "Disallow: /zhangbei/" in client.get("/robots.txt").content.decode()


def test_stylesheet_is_the_elder_css_only_with_the_cookie(client):
    plain = client.get("/zhangbei/style.css")
    assert plain.status_code == 200
    assert plain.content == b""
    client.cookies[COOKIE] = "1"
    elder = client.get("/zhangbei/style.css")
    assert ".elder-switch__off" in elder.content.decode()
    for response in (plain, elder):
        assert response["Content-Type"].startswith("text/css")
        assert response["Vary"] == "Cookie"
        assert set(response["Cache-Control"].replace(" ", "").split(",")) == {
            "private",
            "no-cache",
        }
    assert plain["ETag"] != elder["ETag"]


def test_unchanged_stylesheet_revalidates_without_a_body(elder):
    etag = elder.get("/zhangbei/style.css")["ETag"]
    response = elder.get("/zhangbei/style.css", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response["Vary"] == "Cookie"


def test_page_html_is_the_same_with_and_without_elder_mode(client, news_page):
    for path in ("/news/", "/news/senior-college/"):
        plain = client.get(path).content
        client.cookies[COOKIE] = "1"
        elder = client.get(path).content
        del client.cookies[COOKIE]
        assert plain == elder, path


def rule(selector):
    """The declarations of the elder rules whose selector list includes selector."""
    found = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", ELDER_CSS):
        if selector in [part.strip() for part in selectors.split(",")]:
            for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body):
                found[name] = value.strip()
    return found


def variable(name):
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", ELDER_CSS).group(1)


def colour(value):
    value = value.strip()
    return variable(value[6:-1]) if value.startswith("var(--") else value


def test_text_is_at_least_half_again_as_large_with_loose_lines():
    root_percent = float(rule("html")["font-size"].rstrip("%"))
    body_rem = float(rule("body")["font-size"].removesuffix("rem"))
    body_px = 16 * root_percent / 100 * body_rem
    assert body_px >= 20
    assert root_percent >= 150  # every rem-sized text grows 1.5×
    assert float(rule("body")["line-height"]) >= 1.5


@pytest.mark.parametrize(
    "selector",
    [
        ".elder-switch",
        ".main-nav a",
        "a.tag",
        ".pagination a",
        ".button",
        ".search-form button",
        ".search-form input",
        ".choice",
        ".site-footer ul a",
        '.form-field input[type="text"]',
    ],
)
def test_links_buttons_and_fields_are_48px_targets(selector):
    assert int(rule(selector)["min-height"].removesuffix("px")) >= 48


@pytest.mark.parametrize(
    "text, background",
    [
        ("var(--ink)", "var(--paper)"),
        ("var(--muted)", "var(--paper)"),
        ("var(--muted)", "var(--wash)"),
        ("var(--link)", "var(--paper)"),
        ("var(--link)", "var(--wash)"),
        ("var(--button-text)", "var(--button)"),
        ("#ffffff", "var(--brand)"),
        ("#ffffff", "var(--brand-dark)"),
        ("#ffffff", "var(--link)"),
    ],
)
def test_colour_pairs_reach_seven_to_one(text, background):
    assert contrast(colour(text), colour(background)) >= 7


def test_rules_use_the_high_contrast_colours():
    assert rule("a")["color"] == "var(--link)"
    assert rule("a")["text-decoration"].startswith("underline")
    assert rule(".button")["background"] == "var(--button)"
    assert rule(".button")["color"] == "var(--button-text)"
    assert rule(".button:hover")["background"] == "var(--link)"


def test_layout_is_one_column_and_the_switch_offers_to_turn_off():
    for grid in (".card-list", ".room-list", ".site-footer__inner", ".choice-list--times"):
        assert rule(grid)["grid-template-columns"] == "1fr", grid
    assert rule(".elder-switch__on")["display"] == "none"
    assert rule(".elder-switch__off")["display"] == "inline"


def test_error_page_follows_the_choice_too():
    html = server_error(RequestFactory().get("/")).content.decode()
    assert '<link rel="stylesheet" href="/zhangbei/style.css">' in html


def test_accessibility_statement_explains_what_the_site_supports(client, home):
    seed_pages(home)
    html = client.get("/accessibility/").content.decode()
    for promise in ("WCAG)2.1 AA", "开启长辈模式", "关闭长辈模式", "键盘", "字幕", "文字稿"):
        assert promise in html, promise
    assert "不会自动播放" in html
    assert "JavaScript" in html
    assert "服务电话" in html

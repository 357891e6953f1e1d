"""The Content-Security-Policy in a real browser: every public page type, served
fresh and from the page cache, every booking step, 长辈模式, the talk player, the
staff userbar and the admin editor run with no violation at all.

Violations are caught two ways: a `securitypolicyviolation` listener added before
any page script runs, and Chromium's console messages about refused resources
or a malformed security header."""

import re

import pytest
from playwright.sync_api import expect

from portal.news.models import NewsPage
from tests.factories import sms_code

from .conftest import EDITOR
from .test_accessibility import PAGE_TYPES
from .test_journeys import log_in

VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
    window.reportCspViolation(
        `${location.pathname}${location.search}: ${event.effectiveDirective} blocked ` +
        `${event.blockedURI || "inline code"} (${event.sourceFile}:${event.lineNumber}) ` +
        `${event.sample}`
    );
});
"""
CONSOLE_PROBLEM = re.compile(r"Content Security Policy|Refused to|Permissions.Policy", re.I)


def settle(page):
    """Let the violation events already queued reach the listener."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))")


@pytest.fixture
def watched_page(new_page):
    """Open a page that records every CSP violation in `page.violations`."""

    def open_page(viewport_name="phone"):
        page = new_page(viewport_name)
        violations = []
        page.expose_function("reportCspViolation", lambda report: violations.append(report))
        page.add_init_script(VIOLATION_LISTENER)

        def on_console(message):
            if CONSOLE_PROBLEM.search(message.text):
                violations.append(f"{page.url}: console: {message.text}")

        page.on("console", on_console)
        page.violations = violations
        return page

    return open_page


def assert_no_violations(page):
    settle(page)
    assert page.violations == [], "CSP violations:\n" + "\n".join(page.violations)


def test_the_recorder_sees_inline_code_the_policy_blocks(watched_page, db_access):
    """Proof that the listener works: inline code added to a public page is refused
    and reported."""
    page = watched_page()
    page.goto("/")
    page.evaluate(
        """() => {
            const style = document.createElement("style");
            style.textContent = "body { background: red }";
            document.head.append(style);
            const script = document.createElement("script");
            script.textContent = "window.ranInline = true";
            document.body.append(script);
        }"""
    )
    settle(page)
    assert page.evaluate("window.ranInline") is None
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    directives = " ".join(page.violations)
    assert "style-src-elem" in directives and "script-src-elem" in directives


def test_every_public_page_type_works_under_the_policy_fresh_and_cached(
    watched_page, db_access, settings
):
    """Two visitors in turn, each with a browser of their own: the first gets the
    page rendered, the second (where the page may be cached) gets the copy."""
    settings.PAGE_CACHE_ENABLED = True
    first_visitor, second_visitor = watched_page(), watched_page()
    served_to_second = {}
    for page_type, address in PAGE_TYPES.items():
        url = address()
        for visitor in (first_visitor, second_visitor):
            response = visitor.goto(url)
            assert response.status == 200, page_type
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            # The site's stylesheet applied: it puts the skip link off screen.
            assert visitor.locator(".skip-link").bounding_box()["y"] < 0
            settle(visitor)
        served_to_second[page_type] = response.headers.get("x-page-cache")
    assert served_to_second["home"] == served_to_second["news page"] == "hit"
    assert first_visitor.goto("/no-such-page/").status == 404
    assert_no_violations(first_visitor)
    assert_no_violations(second_visitor)


def test_talk_player_loads_media_and_captions_under_the_policy(watched_page, db_access):
    page = watched_page()
    page.goto(PAGE_TYPES["talk page"]())
    page.wait_for_function(
        """() => {
            const media = document.querySelector('.talk-player video, .talk-player audio');
            const cues = media.textTracks[0] && media.textTracks[0].cues;
            return media.readyState >= 1 && cues && cues.length > 0;
        }"""
    )
    assert_no_violations(page)


def test_elder_mode_works_under_the_policy(watched_page, db_access):
    page = watched_page()
    page.goto(PAGE_TYPES["news page"]())
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name=re.compile("长辈模式")).first.click()
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    page.goto("/counseling/")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    assert_no_violations(page)


def test_every_booking_step_works_under_the_policy(watched_page, db_access):
    page = watched_page()
    page.goto("/counseling/")
    page.locator("a.room__book").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("选择日期")
    page.locator("a.choice").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("选择时间")
    page.locator("a.choice").first.click()
    page.get_by_role("button", name="下一步:获取短信验证码").click()
    expect(page.locator(".form-field--error").first).to_be_visible()
    page.get_by_label("称呼").fill("赵女士")
    page.get_by_label("手机号码").fill("13712340009")
    page.get_by_role("button", name="下一步:获取短信验证码").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("输入短信验证码")
    page.get_by_role("button", name="重新获取验证码").click()  # too soon: a message
    expect(page.locator(".error-summary")).to_contain_text("秒后再重新获取")
    page.get_by_label("短信验证码").fill(sms_code("13712340009"))
    page.get_by_role("button", name="确认预约").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("预约成功")
    assert_no_violations(page)

    page = watched_page()
    page.goto("/yuyue/")
    page.get_by_label("手机号码").fill("13712340009")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("短信验证码").fill(sms_code("13712340009"))
    page.get_by_role("button", name="查看我的预约").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的预约")
    page.get_by_role("button", name=re.compile("查看或更改")).first.click()
    page.get_by_role("link", name="取消预约").click()
    page.get_by_role("button", name="确认取消预约").click()
    expect(page.locator(".booking-status")).to_contain_text("取消")
    assert_no_violations(page)


def test_staff_userbar_and_admin_editor_work_under_their_policies(watched_page, db_access):
    page = watched_page("desktop")
    log_in(page, EDITOR)  # password, then the authenticator code

    news = NewsPage.objects.live().order_by("-date").first()
    page.goto(news.url)
    trigger = page.locator("wagtail-userbar").get_by_role("button", name=re.compile("Wagtail"))
    trigger.click()
    expect(page.locator("wagtail-userbar").get_by_role("menu")).to_be_visible()

    page.goto(f"/admin/pages/{news.pk}/edit/")
    expect(page.locator("#id_title")).to_have_value(news.title)
    page.locator("#id_title").fill(f"{news.title}(修订)")
    assert_no_violations(page)

"""A small phone (360×740), in the standard look and in 长辈模式: the header leaves
room for the page, the booking form starts on the first screen, errors take the
reader to them, and the 菜单 button works with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import sms_code

from .conftest import PHONE

NEXT = "下一步:获取短信验证码"
MODES = {"standard": False, "elder": True}
MOBILES = {"standard": "13912340011", "elder": "13912340012"}

# How far the placeholder's text runs past the room its field leaves for it, in px.
PLACEHOLDER_OVERFLOW = """el => {
    const style = getComputedStyle(el);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return context.measureText(el.placeholder).width - room;
}"""


@pytest.fixture(params=list(MODES))
def mode(request):
    return request.param


def open_booking_form(page):
    page.goto("/counseling/")
    page.locator("a.room__book").first.click()
    page.locator("a.choice").first.click()
    page.locator("a.choice").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("填写预约信息")
    page.wait_for_load_state("load")  # the elder stylesheet too


def bottom(locator):
    return locator.evaluate("el => el.getBoundingClientRect().bottom")


def test_booking_form_starts_on_the_first_screen_and_errors_take_focus(new_page, mode):
    page = new_page("phone", elder=MODES[mode])
    open_booking_form(page)
    assert bottom(page.get_by_label("称呼")) <= PHONE["height"]

    page.get_by_role("button", name=NEXT).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport(ratio=1)
    expect(summary.get_by_role("link").first).to_have_text(re.compile("称呼"))


def test_error_summary_is_in_view_without_javascript(new_page, mode):
    page = new_page("phone", elder=MODES[mode], java_script_enabled=False)
    open_booking_form(page)
    page.get_by_role("button", name=NEXT).click()
    expect(page.locator("#error-summary")).to_be_in_viewport(ratio=1)
    expect(page.get_by_label("称呼")).to_have_value("")


def test_standard_header_shows_search_and_menu_with_no_menu_button(new_page):
    page = new_page("phone")
    page.goto("/")
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    expect(page.get_by_role("search", name="全站搜索")).to_be_visible()
    expect(page.get_by_role("button", name="菜单")).to_have_count(0)
    expect(page.locator(".menu-button").first).to_be_hidden()


def test_elder_header_is_one_bar_with_a_menu_button_that_says_if_it_is_open(new_page):
    page = new_page("phone", elder=True)
    page.goto("/")
    page.wait_for_load_state("load")
    nav = page.get_by_role("navigation", name="主导航")
    search = page.get_by_role("search", name="全站搜索")
    switch = page.get_by_role("link", name=re.compile("关闭长辈模式"))
    button = page.get_by_role("button", name="菜单")
    assert bottom(page.locator("header.site-header")) <= 90
    for part in (nav, search, switch):
        expect(part).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    for part in (nav, search, switch):
        expect(part).to_be_visible()
    nav.get_by_role("link", name="心理讲座").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("讲座")

    # On the next page it starts closed, and the keyboard opens and closes it.
    button = page.get_by_role("button", name="菜单")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Space")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()


def test_elder_menu_opens_and_closes_without_javascript(new_page):
    page = new_page("phone", elder=True, java_script_enabled=False)
    page.goto("/")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav).to_be_hidden()
    page.get_by_role("link", name="菜单", exact=True).press("Enter")
    expect(nav).to_be_visible()
    # Focus stays in the header the hidden link gave way to, not lost to the page.
    assert page.evaluate("document.activeElement.closest('header') !== null")
    expect(page.get_by_role("search", name="全站搜索")).to_be_visible()
    page.get_by_role("link", name="收起菜单").click()
    expect(nav).to_be_hidden()
    expect(page.get_by_role("link", name="菜单", exact=True)).to_be_visible()


def test_search_hint_fits_its_field(new_page, mode):
    page = new_page("phone", elder=MODES[mode])
    page.goto("/")
    page.wait_for_load_state("load")
    if MODES[mode]:
        page.get_by_role("button", name="菜单").click()
    field = page.get_by_role("search", name="全站搜索").get_by_role("searchbox")
    expect(field).to_be_visible()
    assert field.evaluate(PLACEHOLDER_OVERFLOW) <= 0


def test_reference_stays_on_one_line(new_page, mode):
    page = new_page("phone", elder=MODES[mode])
    open_booking_form(page)
    page.get_by_label("称呼").fill("孙大爷")
    page.get_by_label("手机号码").fill(MOBILES[mode])
    page.get_by_role("button", name=NEXT).click()
    page.get_by_label("短信验证码").fill(sms_code(MOBILES[mode]))
    page.get_by_role("button", name=re.compile("确认")).click()
    code = page.locator(".reference__code [aria-hidden]")
    expect(code).to_have_text(re.compile(r"^\d{4} ?\d{4}$"))
    line_height = code.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    box = code.bounding_box()
    assert box["height"] < 1.5 * line_height
    assert box["x"] + box["width"] <= PHONE["width"]

"""A resident follows up a request in a real browser at 360 px, by keyboard
alone, in the ordinary layout and in 长辈模式: looks it up with its reference
and mobile, reads the answer and what was done, and rates it 不满意, which
reopens it. axe finds no violation on any step, and the CSP refuses nothing."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal.service_requests import handling
from portal.service_requests.models import Category, ServiceRequest, Unit

from . import test_csp
from .test_csp import assert_no_violations
from .test_journeys import press_tab_until

axe = Axe()
watched_page = test_csp.watched_page  # the CSP tests' page that records violations
MOBILES = {False: "13912347001", True: "13912347002"}


def all_violations(page):
    results = axe.run(page)
    return [
        f"{page.url} {violation['id']} ({violation['impact']}): {violation['help']} "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
    ]


def answered_request(mobile):
    """A request in the demo's 石岭路社区, taken on and answered by its handler."""
    community = Unit.objects.get(depth=3, name="石岭路社区")
    handler = get_user_model().objects.get(staff_post__unit=community)
    request, _created = handling.receive(
        category=Category.objects.get(code="noise"),
        place=community,
        description="楼下烧烤店每晚外放音乐到凌晨。",
        address="石岭路 8 号",
        mobile=mobile,
    )
    request = handling.accept(request, handler)
    return handling.reply(request, handler, "网格员已上门,店主承诺晚十点后不再外放。")


@pytest.mark.parametrize("elder", [False, True], ids=["ordinary", "elder"])
def test_resident_follows_up_and_rates_a_request_by_keyboard(
    watched_page, live_site, db_access, elder
):
    request = answered_request(MOBILES[elder])
    page = watched_page("phone")
    if elder:  # 长辈模式, as its switch leaves it
        page.context.add_cookies([{"name": "elder", "value": "1", "url": live_site.url}])
    violations = []

    page.goto("/suqiu/chaxun/")
    expect(page.get_by_role("heading", level=1)).to_have_text("查询我反映的问题")
    violations += all_violations(page)

    # A wrong number first: the page says what to check.
    press_tab_until(page, "el => el.id === 'id_reference'")
    page.keyboard.type(request.reference_display)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_mobile"
    page.keyboard.type("13800000000")
    press_tab_until(page, "el => el.type === 'submit' && el.closest('.booking-form')")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("没有找到这条诉求")
    violations += all_violations(page)

    press_tab_until(page, "el => el.id === 'id_mobile'")
    page.keyboard.press("Control+A")
    page.keyboard.type(MOBILES[elder])
    press_tab_until(page, "el => el.type === 'submit' && el.closest('.booking-form')")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(f"诉求 {request.reference_display}")
    expect(page.locator("main")).to_contain_text("已答复,请您评价")
    expect(page.locator("main")).to_contain_text("店主承诺晚十点后不再外放")
    violations += all_violations(page)

    press_tab_until(page, "el => el.name === 'rating' && el.value === 'satisfied'")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "dissatisfied"
    press_tab_until(page, "el => el.id === 'id_comment'")
    page.keyboard.type("晚上还是很吵")
    press_tab_until(page, "el => el.type === 'submit' && el.textContent.includes('提交评价')")
    page.keyboard.press("Enter")

    expect(page.locator(".booking-messages")).to_contain_text("这件事将重新办理")
    expect(page.locator("main")).to_contain_text("重新办理中")
    violations += all_violations(page)
    assert violations == [], "\n".join(violations)
    assert_no_violations(page)
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert (stored.state, stored.rating_comment) == (ServiceRequest.State.REOPENED, "晚上还是很吵")


def test_the_status_page_fits_a_small_phone(new_page, db_access):
    request = answered_request("13912347003")
    page = new_page("phone")
    page.goto("/suqiu/chaxun/")
    page.fill("#id_reference", request.reference)
    page.fill("#id_mobile", "13912347003")
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("诉求")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

"""axe-core on every public page type and every booking step, at phone width:
no violation of serious or critical impact. A failure lists each violation with
the elements it found."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from portal.campaigns.models import CampaignIndexPage, CampaignPage
from portal.core.models import StandardPage
from portal.news.models import NewsIndexPage, NewsPage
from portal.talks.models import TalkIndexPage, TalkPage
from tests.factories import sms_code

# The booking form's button before the mobile is proven.
NEXT = "下一步:获取短信验证码"

BLOCKING_IMPACTS = {"serious", "critical"}

axe = Axe()


def blocking_violations(page):
    """Run axe on the page; the serious and critical violations, described."""
    results = axe.run(page)
    return [
        f"{page.url}\n  {violation['id']} ({violation['impact']}): {violation['help']}\n"
        + "\n".join(
            f"    {node['target']}: {node['failureSummary'].splitlines()[-1].strip()}"
            for node in violation["nodes"]
        )
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def assert_accessible(page):
    violations = blocking_violations(page)
    assert not violations, "axe found serious or critical violations:\n" + "\n".join(violations)


def news_year_archive():
    index = NewsIndexPage.objects.live().first()
    year = NewsPage.objects.live().first().date.year
    return f"{index.url}{year}/"


PAGE_TYPES = {
    "home": lambda: "/",
    "news index": lambda: NewsIndexPage.objects.live().first().url,
    "news page": lambda: NewsPage.objects.live().order_by("-date").first().url,
    "news year archive": news_year_archive,
    "talk index": lambda: TalkIndexPage.objects.live().first().url,
    "talk page": lambda: (
        TalkPage.objects.live().exclude(audience=TalkPage.Audience.STAFF).first().url
    ),
    "campaign index": lambda: CampaignIndexPage.objects.live().first().url,
    "campaign page": lambda: CampaignPage.objects.live().first().url,
    "standard page": lambda: StandardPage.objects.live().get(slug="accessibility").url,
    "search results": lambda: "/search/?q=心理",
    "counselling rooms": lambda: "/counseling/",
}


@pytest.mark.parametrize("page_type", list(PAGE_TYPES))
def test_public_page_has_no_serious_accessibility_violations(new_page, db_access, page_type):
    page = new_page("phone")
    response = page.goto(PAGE_TYPES[page_type]())
    assert response.status == 200
    assert_accessible(page)


def test_every_booking_step_has_no_serious_accessibility_violations(new_page, db_access):
    """Day list, slot list, booking form, the form with errors, the code step (and
    a wrong code), confirmation, the lookup, its code step, the list of bookings,
    the booking and the cancel confirmation."""
    page = new_page("phone")
    violations = []

    def check(expected_heading):
        expect(page.get_by_role("heading", level=1)).to_contain_text(expected_heading)
        violations.extend(blocking_violations(page))

    page.goto("/counseling/")
    page.locator("a.room__book").first.click()
    check("选择日期")
    page.locator("a.choice").first.click()
    check("选择时间")
    page.locator("a.choice").first.click()
    check("填写预约信息")

    page.get_by_role("button", name=NEXT).click()
    expect(page.locator(".form-field--error").first).to_be_visible()
    check("填写预约信息")

    page.get_by_label("称呼").fill("李先生")
    page.get_by_label("手机号码").fill("13712345678")
    page.get_by_role("button", name=NEXT).click()
    check("输入短信验证码")
    page.get_by_label("短信验证码").fill("12345")
    page.get_by_role("button", name="确认预约").click()
    expect(page.locator(".form-field--error").first).to_be_visible()
    check("输入短信验证码")
    page.get_by_label("短信验证码").fill(sms_code("13712345678"))
    page.get_by_role("button", name="确认预约").click()
    check("预约成功")

    lookup = new_page("phone")
    page = lookup
    page.goto("/yuyue/")
    check("我的预约")
    page.get_by_label("手机号码").fill("13712345678")
    page.get_by_role("button", name="获取验证码").click()
    check("输入短信验证码")
    page.get_by_label("短信验证码").fill(sms_code("13712345678"))
    page.get_by_role("button", name="查看我的预约").click()
    check("我的预约")
    page.get_by_role("button", name=re.compile("查看或更改")).first.click()
    check("预约详情")
    page.get_by_role("link", name="取消预约").click()
    check("取消预约")

    assert not violations, "axe found serious or critical violations:\n" + "\n".join(violations)


def test_elder_mode_pages_have_no_serious_accessibility_violations(new_page, db_access):
    """长辈模式 (large text, high contrast) is switched on from the header link and
    stays on from page to page."""
    page = new_page("phone")
    page.goto("/")
    # The switch leads back to the same address, so wait for the new page itself.
    with page.expect_navigation(url=re.compile(r"/$"), wait_until="load"):
        page.get_by_role("link", name=re.compile("长辈模式")).first.click()
    assert {"elder": "1"}.items() <= {c["name"]: c["value"] for c in page.context.cookies()}.items()
    # The elder stylesheet is in force: body text of at least 20px.
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    violations = blocking_violations(page)
    for page_type in ("news page", "talk page", "search results"):
        page.goto(PAGE_TYPES[page_type]())
        violations.extend(blocking_violations(page))
    page.goto("/counseling/")
    page.locator("a.room__book").first.click()
    page.locator("a.choice").first.click()
    page.locator("a.choice").first.click()
    page.get_by_role("button", name=NEXT).click()
    expect(page.locator(".form-field--error").first).to_be_visible()
    violations.extend(blocking_violations(page))
    # The code step: one large field, readable in 长辈模式.
    page.get_by_label("称呼").fill("孙大爷")
    page.get_by_label("手机号码").fill("13712345600")
    page.get_by_role("button", name=NEXT).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("输入短信验证码")
    page.wait_for_load_state("load")  # the elder stylesheet too
    code_field = page.get_by_label("短信验证码")
    assert code_field.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 32
    assert code_field.evaluate("el => el.getBoundingClientRect().width") >= 280
    violations.extend(blocking_violations(page))
    assert not violations, "axe found serious or critical violations:\n" + "\n".join(violations)

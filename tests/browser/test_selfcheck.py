"""心理自评 in a real browser on a small phone (360×740), in the standard look and
in 长辈模式: the whole journey by keyboard alone (Tab, Space, Enter and the
arrow keys a radio group answers to), with and without JavaScript; the item-9
journey to the crisis page; axe finds nothing on the landing page, a question,
the result and the crisis page; and no Content-Security-Policy violation."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from counseling.models import SelfCheckCount

from .conftest import PHONE
from .test_csp import CONSOLE_PROBLEM, VIOLATION_LISTENER, settle
from .test_journeys import focus_link, press_tab_until

MODES = {"standard": False, "elder": True}
RADIO = "el => el.matches('input[type=radio][name=answer]')"

axe = Axe()


@pytest.fixture(params=list(MODES))
def mode(request):
    return request.param


@pytest.fixture
def watched_phone(new_page):
    """A phone in the mode asked for that records CSP violations in
    ``page.violations``: from page scripts' violation events (with JavaScript)
    and from Chromium's console (either way)."""

    def open_page(elder=False, **options):
        page = new_page("phone", elder=elder, **options)
        violations = []
        page.expose_function("reportCspViolation", lambda report: violations.append(report))
        page.add_init_script(VIOLATION_LISTENER)
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: console: {message.text}")
                if CONSOLE_PROBLEM.search(message.text)
                else None
            ),
        )
        page.violations = violations
        return page

    return open_page


def assert_no_csp_violations(page, javascript=True):
    if javascript:
        settle(page)
    assert page.violations == [], "CSP violations:\n" + "\n".join(page.violations)


def axe_violations(page):
    """Every axe violation on the page, whatever its impact, described."""
    return [
        f"{page.url}\n  {violation['id']} ({violation['impact']}): {violation['help']}\n"
        + "\n".join(f"    {node['target']}" for node in violation["nodes"])
        for violation in axe.run(page).response["violations"]
    ]


def answer_by_clicking(page, labels):
    """Answer each question in turn by tapping the answer's words."""
    for label in labels:
        page.get_by_text(label, exact=True).click()
        page.locator(".selfcheck-form button[type=submit]").click()


def heading(page):
    return page.get_by_role("heading", level=1)


def fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def choose_by_keyboard(page, value):
    """Tab into the question's radio group and choose answer ``value`` (0–3):
    Space takes the answer the focus lands on, the arrow keys move to another."""
    press_tab_until(page, RADIO)
    landed = int(page.evaluate("document.activeElement.value"))
    if value == landed:
        page.keyboard.press("Space")
    for _ in range(abs(value - landed)):
        page.keyboard.press("ArrowDown" if value > landed else "ArrowUp")
    assert page.evaluate("document.activeElement.value") == str(value)
    expect(page.locator(f"#answer-{value}")).to_be_checked()
    # The focus ring is drawn around the whole answer box.
    ring = page.evaluate("getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert ring == "solid"


def answer_by_keyboard(page, value, number, count):
    expect(page.locator(".booking-step")).to_have_text(f"第 {number} 题,共 {count} 题")
    choose_by_keyboard(page, value)
    page.keyboard.press("Enter")  # submits the form the focused radio is in


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_resident_completes_a_self_check_by_keyboard_alone_on_a_small_phone(
    watched_phone, db_access, mode, javascript
):
    elder = MODES[mode]
    page = watched_phone(elder=elder, java_script_enabled=javascript)
    before = sum(SelfCheckCount.objects.values_list("count", flat=True))

    page.goto("/counseling/")
    focus_link(page, "开始心理自评", "main a.button")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("心理自评")
    focus_link(page, "广泛性焦虑量表", "a.choice")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("广泛性焦虑量表(GAD-7)")
    page.wait_for_load_state("load")  # the elder stylesheet too

    # One question a screen: the question and its four answers on the first screen.
    assert fits_the_phone(page)
    last_answer = page.locator(".selfcheck-answer").last
    assert last_answer.bounding_box()["y"] + last_answer.bounding_box()["height"] <= PHONE["height"]
    # Each answer is a large target: the whole box chooses it.
    for box in page.locator(".selfcheck-answer").all():
        assert box.bounding_box()["height"] >= 56

    answer_by_keyboard(page, 1, 1, 7)
    answer_by_keyboard(page, 2, 2, 7)
    # Back to question 2 with its answer kept, and changed.
    expect(page.locator(".booking-step")).to_have_text("第 3 题,共 7 题")
    press_tab_until(page, "el => el.matches('button[name=show]')")
    page.keyboard.press("Enter")
    expect(page.locator(".booking-step")).to_have_text("第 2 题,共 7 题")
    expect(page.locator("#answer-2")).to_be_checked()
    answer_by_keyboard(page, 3, 2, 7)
    for number in range(3, 8):
        answer_by_keyboard(page, 2, number, 7)

    expect(heading(page)).to_have_text("自评结果")
    main = page.locator("main")
    expect(main).to_contain_text("您的得分:14 分(满分 21 分)")  # 1 + 3 + 5 × 2
    expect(main).to_contain_text("属于:中度")
    expect(main).to_contain_text("自评结果不是诊断")
    expect(main.get_by_role("link", name="预约心理咨询").first).to_be_visible()
    assert fits_the_phone(page)
    assert sum(SelfCheckCount.objects.values_list("count", flat=True)) == before + 1
    assert_no_csp_violations(page, javascript)


def test_an_answer_above_zero_to_item_9_leads_to_the_crisis_page_first(
    watched_phone, db_access, mode
):
    page = watched_phone(elder=MODES[mode])
    crises = SelfCheckCount.objects.filter(band=SelfCheckCount.CRISIS)
    before = sum(crises.values_list("count", flat=True))
    page.goto("/counseling/ziping/")
    focus_link(page, "抑郁症筛查量表", "a.choice")
    page.keyboard.press("Enter")
    for number in range(1, 9):
        answer_by_keyboard(page, 0, number, 9)
    answer_by_keyboard(page, 1, 9, 9)

    expect(heading(page)).to_have_text("请先照顾好自己的安全")
    main = page.locator("main")
    expect(main).not_to_contain_text("得分")
    for number in ("12356", "110", "120"):
        call = main.locator(f"a.button[href='tel:{number}']")
        expect(call).to_be_visible()
        assert call.bounding_box()["height"] >= 44
    assert fits_the_phone(page)
    assert sum(crises.values_list("count", flat=True)) == before + 1

    press_tab_until(page, "el => el.matches('button[name=show]')")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("自评结果")
    expect(main).to_contain_text("您的得分:1 分(满分 27 分)")
    # The crisis notice still comes before the score.
    first_call = page.locator("main a[href='tel:12356']").first.bounding_box()["y"]
    assert first_call < page.locator(".selfcheck-score").bounding_box()["y"]
    assert sum(crises.values_list("count", flat=True)) == before + 1
    assert_no_csp_violations(page)


def test_self_check_pages_have_no_accessibility_violations(new_page, db_access, mode):
    """The landing page, a question (also sent without an answer), the result
    and the crisis page: nothing axe finds, of any impact."""
    page = new_page("phone", elder=MODES[mode])
    violations = []

    def check(expected_heading):
        expect(heading(page)).to_have_text(expected_heading)
        page.wait_for_load_state("load")
        violations.extend(axe_violations(page))

    page.goto("/counseling/ziping/")
    check("心理自评")
    page.get_by_role("link", name=re.compile("抑郁症筛查量表")).click()
    check("抑郁症筛查量表(PHQ-9)")
    page.get_by_role("button", name="下一题").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check("抑郁症筛查量表(PHQ-9)")
    answer_by_clicking(page, ["好几天"] * 8 + ["完全不会"])
    check("自评结果")

    page.goto("/counseling/ziping/phq9/")
    answer_by_clicking(page, ["完全不会"] * 8 + ["一半以上的天数"])
    check("请先照顾好自己的安全")

    assert not violations, "axe found violations:\n" + "\n".join(violations)

"""The waitlist (候补) and the follow-up with the same counsellor (再次咨询) in a
real browser at 360 px, by keyboard only, in the normal display and in 长辈模式:
each page has no axe violation of any impact and no Content-Security-Policy
violation."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from counseling import booking as service
from counseling.availability import Availability
from counseling.models import Booking, Counsellor, WaitlistEntry
from tests.factories import make_full_room, make_weekday_room, sms_code

from .test_accessibility import axe
from .test_csp import CONSOLE_PROBLEM, VIOLATION_LISTENER, settle
from .test_journeys import press_tab_until

MOBILES = {False: "13912347001", True: "13912347002"}


def watched(new_page, elder):
    """A phone page that records CSP violations."""
    page = new_page("phone", elder=elder)
    violations = page.violations = []
    page.expose_function("reportCspViolation", lambda report: violations.append(report))
    page.add_init_script(VIOLATION_LISTENER)

    def on_console(message):
        if CONSOLE_PROBLEM.search(message.text):
            violations.append(f"{page.url}: console: {message.text}")

    page.on("console", on_console)
    return page


def check(page):
    """No axe violation of any impact, no CSP violation, nothing wider than the phone."""
    results = axe.run(page)
    violations = [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} "
        + "; ".join(str(node["target"]) for node in v["nodes"])
        for v in results.response["violations"]
    ]
    assert violations == [], "axe violations:\n" + "\n".join(violations)
    settle(page)
    assert page.violations == [], "CSP violations:\n" + "\n".join(page.violations)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def press(page, condition, key="Enter"):
    press_tab_until(page, condition)
    page.keyboard.press(key)


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_resident_waits_for_a_full_room_and_confirms_the_freed_time_by_keyboard(
    new_page, db_access, elder
):
    room, booked = make_full_room(f"候补浏览器测试室{int(elder)}", "1360000")
    mobile = MOBILES[elder]
    page = watched(new_page, elder)

    page.goto(f"/counseling/{room.pk}/")
    press(page, "el => el.matches('a') && el.textContent.includes('登记候补')")
    expect(page.get_by_role("heading", level=1)).to_contain_text("登记候补")
    check(page)

    # The days come filled in (today to the last bookable day): only the mobile.
    press_tab_until(page, "el => el.id === 'id_mobile'")
    page.keyboard.type(mobile)
    press(page, "el => el.type === 'submit' && el.closest('.booking-form')")
    expect(page.get_by_role("heading", level=1)).to_have_text("输入短信验证码")
    check(page)
    press_tab_until(page, "el => el.id === 'id_code'")
    page.keyboard.type(sms_code(mobile))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "确认登记候补"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("已登记候补")
    check(page)
    assert WaitlistEntry.objects.get(room=room).mobile == mobile

    # Someone cancels: the time is held for this resident, who confirms it.
    service.cancel_by_resident(booked[-1])
    hold = Booking.objects.get(room=room, status=Booking.Status.HELD)
    page.goto("/yuyue/")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的预约")
    expect(page.get_by_role("heading", name="候补到的时间,等您确认")).to_be_visible()
    check(page)
    press(page, "el => el.matches('a') && el.textContent.includes('确认这个时间')")
    expect(page.get_by_role("heading", level=1)).to_have_text("确认候补到的时间")
    check(page)
    press_tab_until(page, "el => el.id === 'id_name'")
    page.keyboard.type("候补居民")
    press(page, "el => el.type === 'submit' && el.textContent.includes('确认预约这个时间')")

    expect(page.get_by_role("heading", level=1)).to_have_text("预约成功")
    check(page)
    hold.refresh_from_db()
    assert hold.status == Booking.Status.CONFIRMED and hold.name == "候补居民"
    reference = re.sub(r"\D", "", page.locator(".reference__code [aria-hidden]").inner_text())
    assert reference == hold.reference


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_resident_books_again_with_the_same_counsellor_by_keyboard(new_page, db_access, elder):
    room = make_weekday_room(
        f"再次咨询浏览器测试室{int(elder)}",
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(9, 12),
        counsellor=f"测试咨询师{int(elder)}",
    )
    Counsellor.objects.filter(name=f"测试咨询师{int(elder)}").update(
        display_name="刘老师", shown_to_residents=True
    )
    mobile = MOBILES[elder].replace("7", "8")
    past = timezone.now() - datetime.timedelta(days=8)
    earlier = service.create_booking(
        room=room,
        starts_at=Availability([room], past).slots(room)[0].start,
        name="复诊居民",
        mobile=mobile,
        visit_type="first",
        now=past,
    )
    service.record_outcome(earlier, Booking.Status.ATTENDED)
    page = watched(new_page, elder)

    page.goto("/yuyue/")
    press_tab_until(page, "el => el.id === 'id_mobile'")
    page.keyboard.type(mobile)
    press(page, "el => el.type === 'submit'")
    expect(page.get_by_role("heading", level=1)).to_have_text("输入短信验证码")
    press_tab_until(page, "el => el.id === 'id_code'")
    page.keyboard.type(sms_code(mobile))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="最近来过的咨询")).to_be_visible()
    check(page)

    press(page, "el => el.matches('a') && el.textContent.includes('再约同一位咨询师')")
    expect(page.get_by_text("刘老师")).to_be_visible()
    check(page)
    press(page, "el => el.matches('a.choice')")
    expect(page.locator("input[name=start]").first).to_be_visible()
    check(page)
    press_tab_until(page, "el => el.name === 'start'")
    page.keyboard.press("Space")
    press(page, "el => el.type === 'submit' && el.textContent.includes('确认再次咨询')")

    expect(page.get_by_role("heading", level=1)).to_have_text("预约成功")
    follow_up = Booking.objects.filter(room=room).exclude(pk=earlier.pk).get()
    assert follow_up.counsellor_id == earlier.counsellor_id
    assert follow_up.visit_type == Booking.VisitType.FOLLOW_UP

"""Every public page type and every booking step, checked by the W3C Nu HTML
Checker (vnu-jar from the npm registry, run with Java): 0 errors.

`make test` installs vnu-jar into .venv/vnu; without it (or without Java) the
test is skipped, except in CI, where it fails."""

import datetime
import json
import os
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from counseling.availability import Availability
from counseling.models import Booking, Room
from counseling.views import _slot_url
from portal.service_requests.models import Category, ReportPage, ServiceRequest, Unit
from tests.factories import (
    demo_page_urls,
    enter_sms_code,
    make_full_room,
    make_weekday_room,
    prove_mobile,
)

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = ROOT / ".venv" / "vnu" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
MOBILE = "13912340000"

pytestmark = pytest.mark.django_db


def nu_checker():
    java = shutil.which("java")
    if java and VNU_JAR.is_file():
        return [java, "-jar", str(VNU_JAR)]
    reason = f"the Nu HTML Checker needs Java and {VNU_JAR} (make install-test installs it)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def public_pages(client):
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    pages = {
        **demo_page_urls(),
        "search, nothing found": "/search/?q=想死",
        "site map": "/sitemap/",
        "not found": "/no-such-page/",
    }
    return {name: client.get(url) for name, url in pages.items()}


def booking_steps(client):
    """A resident's way through booking and managing it, page by page."""
    room = Room.objects.for_listing().first()
    first_day = timezone.localdate() + datetime.timedelta(days=2)
    slot = next(s for s in Availability([room]).slots(room) if s.day >= first_day)
    form_url = _slot_url(room, slot.start)
    details = {"name": "王阿姨", "mobile": MOBILE, "visit_type": "first", "website": ""}
    steps = {
        "rooms": client.get("/counseling/"),
        "room days": client.get(f"/counseling/{room.pk}/"),
        "day slots": client.get(f"/counseling/{room.pk}/{slot.day}/"),
        "booking form": client.get(form_url),
        "booking form with errors": client.post(form_url, {**details, "mobile": "123"}),
    }
    asked = client.post(form_url, details)
    steps["code step"] = client.get(asked["Location"])
    steps["code step with errors"] = client.post(asked["Location"], {"code": "12"})
    enter_sms_code(client, asked, MOBILE)
    steps["booking done"] = client.get("/counseling/done/")

    resident = Client()
    steps["manage: look up"] = resident.get("/yuyue/")
    steps["manage: look up with errors"] = resident.post("/yuyue/", {"mobile": "1"})
    prove_mobile(resident, MOBILE)
    steps["manage: bookings"] = resident.get("/yuyue/bookings/")
    reference = Booking.objects.latest("pk").reference
    resident.post("/yuyue/bookings/", {"booking": reference})
    steps["manage: booking"] = resident.get("/yuyue/booking/")
    steps["manage: cancel"] = resident.get("/yuyue/cancel/")
    steps["manage: move, days"] = resident.get("/yuyue/move/")
    steps["manage: move, times"] = resident.get(f"/yuyue/move/{slot.day}/")
    return steps


def request_steps():
    """A resident reporting a problem, and looking up a demo request that has
    been answered."""
    reporter = Client()
    report_url = ReportPage.objects.live().get().url
    details = {
        "category": Category.objects.filter(is_active=True).first().pk,
        "place": Unit.objects.filter(depth=3).first().pk,
        "address": "石岭路 8 号",
        "description": "楼上每天夜里十一点以后还在装修。",
        "mobile": MOBILE,
        "website": "",
    }
    steps = {
        "requests: report form": reporter.get(report_url),
        "requests: report with errors": reporter.post(report_url, {"description": "吵"}),
    }
    asked = reporter.post(report_url, details)
    steps["requests: report code step"] = reporter.get(asked["Location"])
    enter_sms_code(reporter, asked, MOBILE)
    steps["requests: report done"] = reporter.get(report_url + "wancheng/")
    replied = ServiceRequest.objects.filter(state=ServiceRequest.State.REPLIED).first()
    resident = Client()
    steps |= {
        "requests: look up": resident.get("/suqiu/chaxun/"),
        "requests: look up with errors": resident.post(
            "/suqiu/chaxun/", {"reference": "1", "mobile": "1"}
        ),
    }
    resident.post("/suqiu/chaxun/", {"reference": replied.reference, "mobile": replied.mobile})
    steps["requests: status with rating form"] = resident.get("/suqiu/jindu/")
    steps["requests: rating with errors"] = resident.post("/suqiu/jindu/", {"rating": "x"})
    return steps


def selfcheck_steps():
    """心理自评: the landing page, a question (and one sent without an answer),
    the result, the crisis page, the result after it, and a refusal."""
    resident = Client()
    url = "/counseling/ziping/phq9/"
    steps = {"self-check": resident.get("/counseling/ziping/")}
    response = steps["self-check: question"] = resident.get(url)
    for number in range(1, 9):
        state = re.search(r'name="state" value="([^"]+)"', response.content.decode()).group(1)
        if number == 2:
            steps["self-check: question without an answer"] = resident.post(
                url, {"state": state, "question": number}
            )
        response = resident.post(url, {"state": state, "question": number, "answer": 2})
    state = re.search(r'name="state" value="([^"]+)"', response.content.decode()).group(1)
    steps["self-check: result"] = resident.post(url, {"state": state, "question": 9, "answer": 0})
    crisis = steps["self-check: crisis"] = resident.post(
        url, {"state": state, "question": 9, "answer": 1}
    )
    state = re.search(r'name="state" value="([^"]+)"', crisis.content.decode()).group(1)
    steps["self-check: result after the crisis page"] = resident.post(
        url, {"state": state, "show": "result"}
    )
    steps["self-check: refused"] = resident.post(url, {"state": "x", "question": 1, "answer": 1})
    return steps


def waitlist_steps():
    """候补 and 再次咨询: joining a full room's waitlist, a held time in 我的预约
    and its confirmation form, and a follow-up with the same counsellor."""
    from counseling import booking as service
    from counseling.models import TimetableVersion

    # The test's transaction never commits, so the timetable version the rooms
    # list is kept under moves on here rather than after a commit.
    room, booked = make_full_room("检查候补咨询室", "1360000")
    TimetableVersion.move_on()
    resident, mobile = Client(), "13912340999"
    url = f"/counseling/{room.pk}/houbu/"
    today = timezone.localdate()
    typed = {"first_day": today.isoformat(), "last_day": today.isoformat(), "mobile": mobile}
    steps = {
        "waitlist form": resident.get(url),
        "waitlist form with errors": resident.post(url, {**typed, "first_day": "x"}),
    }
    typed["last_day"] = (today + datetime.timedelta(days=3)).isoformat()
    enter_sms_code(resident, resident.post(url, typed), mobile)
    steps["waitlist joined"] = resident.get("/counseling/houbu/done/")
    service.cancel_by_resident(booked[-1])
    hold = Booking.objects.get(room=room, status=Booking.Status.HELD)
    steps["manage: bookings with a held time"] = resident.get("/yuyue/bookings/")
    steps["manage: held time"] = resident.get(f"/yuyue/houbu/{hold.reference}/")
    steps["manage: held time with errors"] = resident.post(f"/yuyue/houbu/{hold.reference}/", {})

    past = timezone.now() - datetime.timedelta(days=8)
    other = make_weekday_room("检查复诊咨询室", weekdays="MO,TU,WE,TH,FR,SA,SU", hours=(9, 12))
    earlier = service.create_booking(
        room=other,
        starts_at=Availability([other], past).slots(other)[0].start,
        name="复诊居民",
        mobile=mobile,
        visit_type="first",
        now=past,
    )
    service.record_outcome(earlier, Booking.Status.ATTENDED)
    TimetableVersion.move_on()
    steps["manage: follow-up, days"] = resident.get(f"/yuyue/zaici/{earlier.reference}/")
    day = next(s.day for s in Availability([other]).slots(other) if s.day > today)
    steps["manage: follow-up, times"] = resident.get(f"/yuyue/zaici/{earlier.reference}/{day}/")
    return steps


def test_every_public_page_and_booking_step_passes_the_nu_html_checker(tmp_path, settings):
    checker = nu_checker()
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    client = Client()
    responses = {
        **public_pages(client),
        **booking_steps(client),
        **request_steps(),
        **selfcheck_steps(),
        **waitlist_steps(),
    }

    files = {}
    for number, (name, response) in enumerate(responses.items()):
        assert response.status_code in (200, 400, 404), (name, response.status_code)
        assert response["Content-Type"].startswith("text/html"), name
        path = tmp_path / f"{number:02d}.html"
        path.write_bytes(response.content)
        files[f"file:{path.resolve()}"] = name

    result = subprocess.run(
        [
            *checker,
            "--format",
            "json",
            "--stdout",
            "--exit-zero-always",
            *map(str, sorted(tmp_path.glob("*.html"))),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [
        f"{files.get(m.get('url'), m.get('url'))} line {m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]
    assert errors == []
    assert len(files) >= 57  # every page above was checked

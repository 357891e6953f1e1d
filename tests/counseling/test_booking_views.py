"""The residents' booking flow through real requests, the real booking service and
the real database: rooms → day → time → form → confirmation, the .ics file, every
refusal as a clear message with nothing stored, and managing a booking at /yuyue/."""

import datetime
import re

import html5lib
import icalendar
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from counseling.availability import Availability
from counseling.booking import cancel_by_resident, create_booking
from counseling.models import (
    LOCAL_TZ,
    WEEKDAY_CODES,
    Booking,
    Closure,
    Counsellor,
    DutyShift,
    OpeningHours,
    Room,
)
from portal.core import sms
from portal.core.privacy import normalise_mobile
from tests.factories import enter_sms_code, prove_mobile, sms_code

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
CRISIS = ("12356", "110", "120")


@pytest.fixture(autouse=True)
def quiet_and_fresh(settings):
    cache.clear()
    yield
    cache.clear()


def open_every_day(room, counsellor):
    every_day = ",".join(WEEKDAY_CODES)
    since = timezone.localdate() - datetime.timedelta(days=1)
    for model, extra in ((OpeningHours, {}), (DutyShift, {"counsellor": counsellor})):
        model.objects.create(
            room=room,
            weekdays=every_day,
            start_time=datetime.time(8),
            end_time=datetime.time(20),
            starts_on=since,
            **extra,
        )


@pytest.fixture
def room(db):
    room = Room.objects.create(
        name="云岭心理咨询室",
        address="崂山区云岭路 18 号二楼 204 室",
        directions="乘 104 路公交至云岭路站。",
        opening_hours="每天 8:00–20:00",
        accessibility="有电梯。",
    )
    open_every_day(room, Counsellor.objects.create(name="王老师"))
    return room


def free_slots(room, first_day=1):
    """Free slots from `first_day` days ahead on (skipping today keeps clear of the notice)."""
    today = timezone.localdate()
    return [
        slot for slot in Availability([room]).slots(room) if (slot.day - today).days >= first_day
    ]


def book_url(room, start):
    local = start.astimezone(LOCAL_TZ)
    return reverse(
        "counseling:book",
        kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()},
    )


def form_data(**overrides):
    data = {
        "name": "小李",
        "mobile": MOBILE,
        "email": "",
        "visit_type": "first",
        "note": "",
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def book(client, room, start, **overrides):
    """Fill in the form and, when the mobile has to be proven, type the SMS code
    the phone got: the response to the last step."""
    data = form_data(**overrides)
    response = client.post(book_url(room, start), data)
    return enter_sms_code(client, response, normalise_mobile(data.get("mobile", "")))


def text(response):
    return response.content.decode()


def assert_crisis_notice(response):
    html = text(response)
    for number in CRISIS:
        assert number in html


def assert_valid_html(response):
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text(response))


def test_resident_books_room_day_time_and_gets_a_reference(client, room):
    rooms = client.get("/counseling/")
    days_url = reverse("counseling:days", args=[room.pk])
    assert f'href="{days_url}"' in text(rooms)
    assert "最近可约:" in text(rooms)

    days = client.get(days_url)
    slot = free_slots(room)[0]
    slots_url = reverse("counseling:slots", args=[room.pk, slot.day])
    assert f'href="{slots_url}"' in text(days)

    slots = client.get(slots_url)
    assert f'href="{book_url(room, slot.start)}"' in text(slots)

    form = client.get(book_url(room, slot.start))
    assert form.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in text(form)

    response = book(client, room, slot.start, email="li@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("counseling:done")
    assert MOBILE not in response["Location"]

    booking = Booking.objects.get()
    assert (booking.room, booking.starts_at, booking.mobile) == (room, slot.start, MOBILE)
    done = client.get(response["Location"])
    html = text(done)
    assert booking.reference_display in html
    local = slot.start.astimezone(LOCAL_TZ)
    weekday = "一二三四五六日"[local.weekday()]
    assert f"{local.year}年{local.month}月{local.day}日 周{weekday} {local:%H:%M}" in html
    assert room.address in html and room.directions in html
    assert 'href="/yuyue/yuyue.ics"' in html and 'href="/yuyue/"' in html


def test_every_booking_page_is_valid_html_with_crisis_notice_and_never_cached(client, room):
    slot = free_slots(room)[0]
    pages = [
        reverse("counseling:days", args=[room.pk]),
        reverse("counseling:slots", args=[room.pk, slot.day]),
        book_url(room, slot.start),
        "/yuyue/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_crisis_notice(response)
        assert_valid_html(response)
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        assert text(response).count("<h1") == 1

    client.post(book_url(room, slot.start), form_data())
    code_page = client.get("/counseling/verify/")
    assert code_page.status_code == 200
    client.post("/counseling/verify/", {"code": sms_code(MOBILE)})
    pages = ["/counseling/done/", "/yuyue/bookings/", "/yuyue/booking/", "/yuyue/cancel/"]
    other = type(client)()
    other.post("/yuyue/", {"mobile": MOBILE})
    for page_client, url in [
        (other, "/yuyue/code/"),
        *[(client, url) for url in pages],
        (client, "/yuyue/move/"),
    ]:
        response = page_client.get(url)
        assert response.status_code == 200, url
        assert_crisis_notice(response)
        assert_valid_html(response)
        assert "no-store" in response["Cache-Control"]
    assert_valid_html(code_page)

    rooms = client.get("/counseling/")
    assert_crisis_notice(rooms)
    assert "no-store" not in rooms.get("Cache-Control", "")


def test_calendar_file_names_time_and_address_only(client, room):
    slot = free_slots(room)[0]
    book(client, room, slot.start)
    booking = Booking.objects.get()

    response = client.get("/yuyue/yuyue.ics")
    assert response["Content-Type"].startswith("text/calendar")
    assert 'filename="yuyue.ics"' in response["Content-Disposition"]
    body = response.content.decode()
    for word in ("心理", "咨询"):
        assert word not in body
    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"预约 {booking.reference_display}"
    assert str(event["LOCATION"]) == room.address
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert (start, end) == (booking.starts_at, booking.ends_at)
    assert str(start.tzinfo) == "Asia/Shanghai"
    assert "TZID=Asia/Shanghai" in body


def test_calendar_file_needs_the_session_that_booked_or_looked_up(client, room):
    book(client, room, free_slots(room)[0].start)
    stranger = type(client)()
    response = stranger.get("/yuyue/yuyue.ics")
    assert response.status_code == 302 and response["Location"] == "/yuyue/"
    done = stranger.get("/counseling/done/")
    assert Booking.objects.get().reference_display not in text(done)


def test_slot_just_taken_shows_message_and_other_times_and_stores_nothing(client, room):
    slot, other = free_slots(room)[:2]
    create_booking(
        room=room, starts_at=slot.start, name="先到", mobile="13800000000", visit_type="first"
    )
    response = book(client, room, slot.start)
    html = text(response)
    assert response.status_code == 400
    assert "这个时段刚刚被别人预约了" in html
    assert 'role="alert"' in html
    assert f'href="{book_url(room, other.start)}"' in html
    assert not Booking.objects.for_mobile(MOBILE).exists()


def test_too_soon_is_refused_with_a_clear_message(client, room):
    slot = free_slots(room)[0]
    Room.objects.filter(pk=room.pk).update(min_notice_hours=24 * 10)
    response = book(client, room, slot.start)
    assert response.status_code == 400
    assert "这个时段太近了,请至少提前 240 小时预约。" in text(response)
    assert not Booking.objects.exists()


def test_too_far_ahead_is_refused_with_a_clear_message(client, room):
    slot = free_slots(room, first_day=5)[0]
    Room.objects.filter(pk=room.pk).update(horizon_days=2)
    response = book(client, room, slot.start)
    assert response.status_code == 400
    assert "只能预约 2 天以内的时段" in text(response)
    assert not Booking.objects.exists()


def test_closed_day_is_refused_with_a_clear_message(
    client, room, django_capture_on_commit_callbacks
):
    slot = free_slots(room)[0]
    day_start = datetime.datetime.combine(slot.day, datetime.time(), LOCAL_TZ)
    with django_capture_on_commit_callbacks(execute=True):  # the coordinator's save commits
        Closure.objects.create(
            room=room,
            starts_at=day_start,
            ends_at=day_start + datetime.timedelta(days=1),
            reason="检修",
        )
    response = book(client, room, slot.start)
    assert response.status_code == 400
    assert "咨询室这一天不开放" in text(response)
    assert not Booking.objects.exists()
    # Asking for the page of that slot says so too, and offers no form.
    page = client.get(book_url(room, slot.start))
    assert "咨询室这一天不开放" in text(page) and 'name="mobile"' not in text(page)


def page_shape(response):
    """The page with what differs between any two bookings (reference, times,
    tokens) taken out."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text(response))
    return re.sub(r"[0-9]+|[A-Za-z0-9]{32,}", "#", html)


def test_before_the_code_the_form_answers_alike_whether_or_not_a_mobile_holds_bookings(
    client, room, settings
):
    """Whoever types someone's number must not learn that its owner has counselling
    appointments: up to the code, a number at its cap looks like any other."""
    settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 2
    first, second, third, fourth = free_slots(room)[:4]
    make_booking(room, first)
    make_booking(room, second)

    answers = {}
    for mobile, slot in ((MOBILE, third), ("13700000000", fourth)):
        client.cookies.clear()
        response = client.post(book_url(room, slot.start), form_data(mobile=mobile))
        answers[mobile] = (response.status_code, response["Location"])
        answers[mobile] += (page_shape(client.get(response["Location"])),)
    assert answers[MOBILE] == answers["13700000000"]
    assert "未到期" not in answers[MOBILE][2]


def test_a_proven_mobile_at_its_cap_is_refused_plainly_and_nothing_is_stored(
    client, room, settings
):
    settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 2
    first, second, third = free_slots(room)[:3]
    assert book(client, room, first.start).status_code == 302
    assert book(client, room, second.start).status_code == 302

    response = book(client, room, third.start)

    assert response.status_code == 400
    assert "这个手机号码已有 2 个还没到期的预约" in text(response)
    assert 'value="小李"' in text(response)  # the form is kept
    assert Booking.objects.count() == 2
    # Cancelling one makes room for another.
    cancel_by_resident(Booking.objects.get(starts_at=first.start))
    assert book(client, room, third.start).status_code == 302


def test_note_without_its_own_consent_is_refused_and_nothing_stored(client, room):
    slot = free_slots(room)[0]
    response = book(client, room, slot.start, note="最近睡不好")
    html = text(response)
    assert response.status_code == 400
    assert "请勾选同意框" in html
    assert 'href="#id_note_consent"' in html
    assert 'aria-describedby="id_note_consent_error"' in html
    assert not Booking.objects.exists()

    form = client.get(book_url(room, slot.start))
    checkbox = re.search(r'<input[^>]*name="note_consent"[^>]*>', text(form)).group()
    assert "checked" not in checkbox

    response = book(client, room, slot.start, note="最近睡不好", note_consent="on")
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.note == "最近睡不好" and booking.note_consent_at is not None


def test_honeypot_filled_by_a_robot_stores_nothing(client, room):
    slot = free_slots(room)[0]
    form = text(client.get(book_url(room, slot.start)))
    honeypot = re.search(r'<div class="hp-field"[^>]*>.*?</div>', form, re.S).group()
    assert 'aria-hidden="true"' in honeypot
    assert 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot

    response = book(client, room, slot.start, website="http://spam.example")
    assert response.status_code == 400
    assert "提交没有成功" in text(response)
    assert not Booking.objects.exists()


@pytest.mark.parametrize("mobile", ["12345678901", "1391234567", "abc", "23912345678"])
def test_invalid_mobile_gets_a_clear_message_linked_to_the_field(client, room, mobile):
    response = book(client, room, free_slots(room)[0].start, mobile=mobile)
    html = text(response)
    assert response.status_code == 400
    assert "请输入 11 位中国大陆手机号码" in html
    assert 'href="#id_mobile"' in html and 'aria-invalid="true"' in html
    assert not Booking.objects.exists()


def test_missing_visit_type_error_links_to_the_first_choice(client, room):
    response = book(client, room, free_slots(room)[0].start, visit_type=None)
    html = text(response)
    assert response.status_code == 400
    assert 'href="#id_visit_type_0"' in html and 'id="id_visit_type_0"' in html
    assert not Booking.objects.exists()


def test_mobile_typed_with_country_code_and_spaces_is_accepted(client, room):
    assert (
        book(client, room, free_slots(room)[0].start, mobile="+86 139 1234 5678").status_code == 302
    )
    assert Booking.objects.get().mobile == MOBILE


def test_name_is_required_and_short(client, room):
    start = free_slots(room)[0].start
    assert "请填写称呼" in text(book(client, room, start, name=""))
    assert "称呼最多 20 个字" in text(book(client, room, start, name="长" * 21))
    assert not Booking.objects.exists()


def looked_up(client, booking, mobile=MOBILE):
    """Open `booking` from the list of the proven mobile's bookings."""
    prove_mobile(client, mobile)
    return client.post("/yuyue/bookings/", {"booking": booking.reference})


def make_booking(room, slot, mobile=MOBILE):
    return create_booking(
        room=room, starts_at=slot.start, name="小李", mobile=mobile, visit_type="first"
    )


def test_lookup_with_a_proven_mobile_lists_all_its_upcoming_bookings(client, room):
    slots = free_slots(room, first_day=2)
    cancelled = make_booking(room, slots[3])
    cancel_by_resident(cancelled)
    first = make_booking(room, slots[0])
    second = make_booking(room, slots[1])
    someone_elses = make_booking(room, slots[2], mobile="13700000000")

    asked = client.post("/yuyue/", {"mobile": MOBILE})
    assert asked.status_code == 302 and asked["Location"] == "/yuyue/code/"
    code_page = text(client.get("/yuyue/code/"))
    assert "139****5678" in code_page and MOBILE not in code_page
    response = client.post("/yuyue/code/", {"code": sms_code(MOBILE)})
    assert response.status_code == 302 and response["Location"] == "/yuyue/bookings/"

    html = text(client.get("/yuyue/bookings/"))
    assert first.reference_display in html and second.reference_display in html
    assert someone_elses.reference_display not in html
    assert cancelled.reference_display not in html
    assert html.index(first.reference_display) < html.index(second.reference_display)

    opened = client.post("/yuyue/bookings/", {"booking": second.reference})
    assert opened["Location"] == "/yuyue/booking/"
    detail = text(client.get("/yuyue/booking/"))
    assert second.reference_display in detail and room.address in detail
    assert 'href="/yuyue/cancel/"' in detail and 'href="/yuyue/move/"' in detail
    assert 'href="/yuyue/bookings/"' in detail
    # Only the proven number's bookings can be opened.
    client.post("/yuyue/bookings/", {"booking": someone_elses.reference})
    assert someone_elses.reference_display not in text(client.get("/yuyue/booking/"))


def test_a_known_reference_and_a_guessed_mobile_reveal_nothing(client, room):
    """A reference with the masked mobile (138****8123) used to be matched in a
    few guesses: now nothing is shown without the code sent to the real number."""
    booking = make_booking(room, free_slots(room)[0], mobile="13800138123")
    for guess in ("13800008123", "13811118123", "13800138123"):
        client.cookies.clear()
        response = client.post("/yuyue/", {"reference": booking.reference_display, "mobile": guess})
        assert response.status_code == 302 and response["Location"] == "/yuyue/code/"
        assert client.get("/yuyue/bookings/")["Location"] == "/yuyue/"
        assert client.get("/yuyue/booking/")["Location"] == "/yuyue/"
        wrong = client.post("/yuyue/code/", {"code": "000000"})
        assert booking.reference_display not in text(wrong)
    # The codes went to the numbers typed; the guesser sees none of them.
    assert {to for to, _text in sms.MemoryBackend.outbox} == {
        "13800008123",
        "13811118123",
        "13800138123",
    }


def test_cancel_asks_first_then_cancels(client, room):
    booking = make_booking(room, free_slots(room, first_day=2)[0])
    looked_up(client, booking)
    confirm = client.get("/yuyue/cancel/")
    assert "确认取消预约" in text(confirm) and "逾期" not in text(confirm)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED

    response = client.post("/yuyue/cancel/")
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    html = text(client.get(response["Location"]))
    assert "预约已取消" in html and "逾期" not in html
    # The freed time can be booked again.
    assert booking.starts_at in [slot.start for slot in free_slots(room)]


def test_cancel_inside_the_cut_off_is_recorded_and_shown_as_late(client, room, settings):
    settings.COUNSELING_CANCEL_CUTOFF_HOURS = 24 * 30
    booking = make_booking(room, free_slots(room)[0])
    looked_up(client, booking)
    assert "现在取消会记为逾期取消" in text(client.get("/yuyue/cancel/"))
    response = client.post("/yuyue/cancel/", follow=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.LATE_CANCEL
    assert "记为逾期取消" in text(response)


def test_move_to_another_day_and_time(client, room):
    slots = free_slots(room, first_day=2)
    booking = make_booking(room, slots[0])
    target = next(slot for slot in slots if slot.day != slots[0].day)
    looked_up(client, booking)

    days = text(client.get("/yuyue/move/"))
    day_url = reverse("yuyue:move_slots", args=[target.day])
    assert f'href="{day_url}"' in days
    times = text(client.get(day_url))
    assert f'value="{target.start.isoformat()}"' in times

    response = client.post(day_url, {"start": target.start.isoformat()})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.starts_at, booking.status) == (target.start, Booking.Status.CONFIRMED)
    assert "已改约到" in text(client.get(response["Location"]))


def test_move_to_a_taken_time_says_so_and_keeps_the_booking(client, room):
    slots = free_slots(room, first_day=2)
    booking = make_booking(room, slots[0])
    taken = next(slot for slot in slots if slot.day != slots[0].day)
    make_booking(room, taken, mobile="13800000000")
    looked_up(client, booking)
    response = client.post(
        reverse("yuyue:move_slots", args=[taken.day]), {"start": taken.start.isoformat()}
    )
    assert response.status_code == 400
    assert "这个时段刚刚被别人预约了" in text(response)
    booking.refresh_from_db()
    assert booking.starts_at == slots[0].start


def test_booking_attempts_beyond_the_limit_get_429_and_store_nothing(client, room, settings):
    settings.COUNSELING_RATE_LIMITS = {"booking": {"ip": (2, 3600)}}
    start = free_slots(room)[0].start
    for _attempt in range(2):
        assert book(client, room, start, mobile="123").status_code == 400
    response = book(client, room, start)
    assert response.status_code == 429
    assert "尝试次数过多,请稍后再试" in text(response)
    assert not Booking.objects.exists()
    # Another client address is counted on its own.
    other_address = client.post(
        book_url(room, start), form_data(mobile="123"), REMOTE_ADDR="10.0.0.9"
    )
    assert other_address.status_code == 400


def test_booking_limit_per_mobile_applies_across_addresses(client, room, settings):
    settings.COUNSELING_RATE_LIMITS = {"booking": {"mobile": (1, 3600)}}
    first, second = free_slots(room)[:2]
    assert book(client, room, first.start).status_code == 302
    response = client.post(book_url(room, second.start), form_data(), REMOTE_ADDR="192.0.2.77")
    assert response.status_code == 429
    assert Booking.objects.count() == 1


def test_lookup_attempts_beyond_the_limit_get_429(client, room, settings):
    settings.COUNSELING_RATE_LIMITS = {"lookup": {"ip": (3, 900)}}
    make_booking(room, free_slots(room)[0])
    for number in range(3):
        client.post("/yuyue/", {"mobile": f"1370000000{number}"})
    response = client.post("/yuyue/", {"mobile": MOBILE})
    assert response.status_code == 429
    assert "尝试次数过多,请稍后再试" in text(response)
    assert not [to for to, _text in sms.MemoryBackend.outbox if to == MOBILE]
    assert client.get("/yuyue/booking/")["Location"] == "/yuyue/"


def test_lookups_from_one_ipv6_64_network_share_one_limit(client, room, settings):
    settings.COUNSELING_RATE_LIMITS = {"lookup": {"ip": (10, 900), "mobile": (99, 900)}}
    statuses = [
        client.post(
            "/yuyue/", {"mobile": f"137000000{n:02d}"}, REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}"
        ).status_code
        for n in range(25)
    ]
    assert statuses.count(302) == 10 and statuses[10:] == [429] * 15
    elsewhere = client.post("/yuyue/", {"mobile": "13700000099"}, REMOTE_ADDR="2001:db8:1:3::1")
    assert elsewhere.status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/counseling/999/",
        "/counseling/abc/",
        "/counseling/{room}/2026-02-30/",
        "/counseling/{room}/2026-13-01/",
        "/counseling/{room}/20260201/",
        "/counseling/{room}/2026-02-01/2561/",
        "/counseling/{room}/2026-02-01/9am/",
        "/yuyue/move/2026-99-01/",
    ],
)
def test_bad_room_or_date_is_404_not_500(client, room, path):
    assert client.get(path.format(room=room.pk)).status_code == 404


def test_inactive_room_cannot_be_booked(client, room):
    start = free_slots(room)[0].start
    Room.objects.filter(pk=room.pk).update(is_active=False)
    assert client.get(reverse("counseling:days", args=[room.pk])).status_code == 404
    assert book(client, room, start).status_code == 404
    assert not Booking.objects.exists()


def test_slot_not_offered_on_the_move_page_is_refused_not_an_error(client, room):
    """Whatever a client posts as the new time, only the listed times are accepted."""
    slots = free_slots(room, first_day=2)
    booking = make_booking(room, slots[0])
    target = next(slot for slot in slots if slot.day != slots[0].day)
    looked_up(client, booking)
    day_url = reverse("yuyue:move_slots", args=[target.day])
    for forged in ["9999-12-31T23:00:00-12:00", "2026-01-01T09:00:00", "不是时间"]:
        response = client.post(day_url, {"start": forged})
        assert response.status_code in (200, 400)
        assert "请选择页面上列出的可预约时段" in text(response)
    booking.refresh_from_db()
    assert booking.starts_at == slots[0].start


def test_full_width_digits_in_a_mobile_are_read_as_ordinary_digits(client, room):
    response = book(client, room, free_slots(room)[0].start, mobile="１３９１２３４５６７８")
    assert response.status_code == 302
    assert Booking.objects.get().mobile == "13912345678"


def test_overlong_email_gets_a_message_not_an_error(client, room):
    response = book(client, room, free_slots(room)[0].start, email="a" * 250 + "@example.com")
    assert response.status_code == 400
    assert "电子邮箱太长了" in text(response)
    assert not Booking.objects.exists()


def test_attempts_behind_the_proxy_are_counted_per_visitor(client, room, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.COUNSELING_RATE_LIMITS = {"booking": {"ip": (2, 3600), "mobile": (99, 3600)}}
    slots = free_slots(room)
    for number, slot in enumerate(slots[:3]):
        response = client.post(
            book_url(room, slot.start),
            form_data(mobile=f"1391234{number:04d}"),
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_REAL_IP=f"203.0.113.{number}",
        )
        assert response.status_code == 302  # three visitors, one attempt each
    forged = client.post(
        book_url(room, slots[3].start),
        form_data(mobile="13912349999"),
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_REAL_IP="203.0.113.50",
    )
    assert forged.status_code == 302
    # A client that is not the proxy cannot choose its address: its own is counted.
    client.post(
        book_url(room, slots[4].start),
        form_data(mobile="13912348888"),
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_REAL_IP="203.0.113.51",
    )
    third = client.post(
        book_url(room, slots[5].start),
        form_data(mobile="13912347777"),
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_REAL_IP="203.0.113.52",
    )
    assert third.status_code == 429


def test_the_room_days_page_tells_residents_why_the_room_is_closed(client, db):
    from counseling.models import Closure
    from tests.factories import make_open_room

    room = make_open_room()
    soon = timezone.now() + datetime.timedelta(days=3)
    Closure.objects.create(
        room=room, starts_at=soon, ends_at=soon + datetime.timedelta(hours=4), reason="设备检修"
    )
    Closure.objects.create(
        room=None,
        starts_at=soon + datetime.timedelta(days=1),
        ends_at=soon + datetime.timedelta(days=1, hours=2),
        reason="街道统一培训",
    )
    Closure.objects.create(
        room=room,
        starts_at=soon - datetime.timedelta(days=10),
        ends_at=soon - datetime.timedelta(days=9),
        reason="早已结束的检修",
    )
    html = client.get(f"/counseling/{room.pk}/").content.decode()
    assert "临时关闭" in html and "设备检修" in html and "街道统一培训" in html
    assert "早已结束的检修" not in html


def test_the_opening_hours_residents_read_follow_the_schedule(
    client, db, django_capture_on_commit_callbacks
):
    from counseling.models import OpeningHours, Room

    room = Room.objects.create(name="第二管区心理咨询室", address="第二管区服务中心")
    for start, end in ((9, 12), (14, 17)):
        OpeningHours.objects.create(
            room=room,
            weekdays="MO,TU,WE,TH,FR",
            start_time=datetime.time(start),
            end_time=datetime.time(end, 30 if start == 14 else 0),
            starts_on=datetime.date(2025, 1, 1),
        )
    OpeningHours.objects.create(
        room=room,
        weekdays="SA",
        start_time=datetime.time(9),
        end_time=datetime.time(11),
        starts_on=datetime.date(2025, 1, 1),
    )
    OpeningHours.objects.create(  # ended: no longer shown
        room=room,
        weekdays="SU",
        start_time=datetime.time(9),
        end_time=datetime.time(11),
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2025, 6, 30),
    )
    expected = "周一至周五 9:00–12:00、14:00–17:30;周六 9:00–11:00"
    assert expected in client.get("/counseling/").content.decode()
    assert expected in client.get(f"/counseling/{room.pk}/").content.decode()

    saturday = room.opening_bands.get(weekdays="SA")
    saturday.end_time = datetime.time(12)
    with django_capture_on_commit_callbacks(execute=True):  # the coordinator's save commits
        saturday.save()
    assert "周六 9:00–12:00" in client.get("/counseling/").content.decode()


def test_warm_booking_pages_read_only_the_timetable_version_and_closures(client, room):
    """The rooms and their free times are kept in the process per timetable
    version: a page asks only whether the version moved (and the room's days
    page, which closures lie ahead, with their reasons). What every page shows
    (site, menu, settings) is the site's own look-ups' business."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    day = free_slots(room)[0].day
    urls = {
        reverse("counseling:rooms"): ["counseling_timetableversion"],
        reverse("counseling:days", args=[room.pk]): [
            "counseling_timetableversion",
            "counseling_closure",
        ],
        reverse("counseling:slots", args=[room.pk, day]): ["counseling_timetableversion"],
    }
    for url, tables in urls.items():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        booking_tables = [
            re.search(r'FROM "(counseling_\w+)"', query["sql"]).group(1)
            for query in queries
            if '"counseling_' in query["sql"]
        ]
        assert booking_tables == tables, url


def test_a_room_renamed_or_closed_to_bookings_shows_at_once(
    client, room, django_capture_on_commit_callbacks
):
    day = free_slots(room)[0].day
    client.get(reverse("counseling:rooms"))
    client.get(reverse("counseling:slots", args=[room.pk, day]))
    with django_capture_on_commit_callbacks(execute=True):  # the coordinator's save commits
        room.name = "街道心理咨询室(新址)"
        room.save()
    assert "街道心理咨询室(新址)" in text(client.get(reverse("counseling:rooms")))
    assert "街道心理咨询室(新址)" in text(
        client.get(reverse("counseling:slots", args=[room.pk, day]))
    )
    with django_capture_on_commit_callbacks(execute=True):
        room.is_active = False
        room.save()
    assert "街道心理咨询室(新址)" not in text(client.get(reverse("counseling:rooms")))
    assert client.get(reverse("counseling:slots", args=[room.pk, day])).status_code == 404

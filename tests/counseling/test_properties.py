"""Every step of the resident's booking flow and the manage-booking pages at
/yuyue/ take generated input: arbitrary Unicode with control characters and
NULs, huge strings, full-width digits, emoji, right-to-left marks, SQL and HTML
fragments, numbers out of range, missing fields and repeated keys. Whatever
arrives, the answer is a page (never a server error); a refusal says in
Chinese what to fix; and nothing is stored unless the booking was made."""

import datetime
import re
import unicodedata

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from counseling.availability import Availability
from counseling.booking import create_booking
from counseling.models import (
    LOCAL_TZ,
    Booking,
    Notification,
)
from counseling.views import SESSION_KEY
from portal.core.models import MobileCode
from portal.core.privacy import normalise_mobile
from tests.factories import make_open_room, sms_code
from tests.strategies import PROPERTY_SETTINGS, has_chinese, param_values

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
MARKUP = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
BOOKING_FIELDS = {
    "name": ["小李", " 王阿姨 ", "李" * 20],
    "mobile": [MOBILE, "+86 139 1234 5678", "１３９１２３４５６７８", "139-1234-5678"],
    "email": ["", "li@example.com"],
    "visit_type": ["first", "return"],
    "note": ["", "最近睡不好"],
    "note_consent": ["on", ""],
    "website": [""],
}


@pytest.fixture(autouse=True)
def unlimited_attempts(settings):
    """The attempt limits would turn every later example into "too many tries";
    they have tests of their own."""
    unlimited = dict.fromkeys(("ip", "mobile", "mobile_total"), (10**9, 3600))
    settings.COUNSELING_RATE_LIMITS = dict.fromkeys(("booking", "lookup"), unlimited)
    settings.MOBILE_CODE_RATE_LIMITS = dict.fromkeys(("send", "check"), unlimited)
    cache.clear()


@pytest.fixture
def room(db):
    room = make_open_room()
    return room


@pytest.fixture
def slot(room):
    """A free slot from tomorrow on, clear of the minimum notice."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return next(s for s in Availability([room]).slots(room) if s.day >= tomorrow)


def book_url(room, start):
    local = start.astimezone(LOCAL_TZ)
    return reverse(
        "counseling:book", kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()}
    )


def without_missing(data):
    return {key: value for key, value in data.items() if value is not None}


booking_forms = st.fixed_dictionaries(
    {field: param_values(valid) for field, valid in BOOKING_FIELDS.items()}
).map(without_missing)


def assert_refused_in_chinese(response):
    """A 400 page whose error summary (role="alert") says in Chinese what is wrong."""
    assert response.status_code == 400, response.status_code
    html = response.content.decode()
    assert 'class="error-summary" role="alert"' in html
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert has_chinese(summary.replace("请修改以下问题", ""))
    for markup in MARKUP:
        assert markup not in html


def clear_bookings():
    Notification.objects.all().delete()
    Booking.objects.all().delete()
    MobileCode.objects.all().delete()


def through_the_code_step(client, response):
    """When the form asked for the SMS code, type the one the phone got."""
    if response.status_code == 302 and response["Location"] == reverse("counseling:verify"):
        return client.post(response["Location"], {"code": sms_code(MOBILE)})
    return response


@PROPERTY_SETTINGS
@given(data=booking_forms)
def test_booking_form_stores_a_booking_only_from_valid_input(room, slot, new_client, data):
    clear_bookings()
    client = new_client()
    response = through_the_code_step(client, client.post(book_url(room, slot.start), data))
    if response.status_code == 302:
        booking = Booking.objects.get()
        assert response["Location"] == reverse("counseling:done")
        assert booking.starts_at == slot.start
        assert booking.mobile == MOBILE
        assert "\x00" not in booking.name + booking.email + booking.note
        assert 1 <= len(booking.name) <= 20 and booking.name == booking.name.strip()
        assert Notification.objects.filter(booking=booking).exists()
    else:
        assert_refused_in_chinese(response)
        assert not Booking.objects.exists()
        assert not Notification.objects.exists()


day_segments = st.tuples(
    st.integers(min_value=0, max_value=9999),
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=99),
).map(lambda parts: "{:04d}-{:02d}-{:02d}".format(*parts))
time_segments = st.integers(min_value=0, max_value=9999).map("{:04d}".format)
room_ids = st.integers(min_value=0, max_value=10**25)


@PROPERTY_SETTINGS
@given(
    room_id=room_ids,
    day=day_segments | st.dates().map(str),
    time=time_segments,
    data=booking_forms,
)
def test_every_booking_step_answers_any_room_day_and_time(
    room, slot, new_client, room_id, day, time, data
):
    """Steps 2 and 3 (days, times) for any room number and day; step 4 (the form)
    for any day and time of a real room, with any form data."""
    clear_bookings()
    client = new_client()
    for url in (f"/counseling/{room_id}/", f"/counseling/{room_id}/{day}/"):
        response = client.get(url)
        assert response.status_code in (200, 404)
        assert has_chinese(response.content.decode())
    url = f"/counseling/{room.pk}/{day}/{time}/"
    page = client.get(url)
    assert page.status_code in (200, 404)
    response = through_the_code_step(client, client.post(url, data))
    if response.status_code == 302:
        assert Booking.objects.get().starts_at == slot.start  # only a real free slot books
    elif response.status_code == 404:
        assert page.status_code == 404
    else:
        assert_refused_in_chinese(response)
        assert not Booking.objects.exists()
        assert not Notification.objects.exists()


@pytest.fixture
def existing(room, slot):
    booking = create_booking(
        room=room, starts_at=slot.start, name="小李", mobile=MOBILE, visit_type="first"
    )
    Notification.objects.all().delete()
    return booking


def snapshot(booking):
    booking.refresh_from_db()
    return (booking.status, booking.starts_at, booking.room_id, booking.mobile, booking.name)


@PROPERTY_SETTINGS
@given(
    mobile=param_values([MOBILE, "+86 139 1234 5678", "１３９１２３４５６７８", "13700000000"]),
    code=param_values(["123456", "１２３４５６", "12 34 56"]),
    use_real_code=st.booleans(),
)
def test_lookup_shows_bookings_only_to_whoever_types_the_code_the_phone_got(
    existing, new_client, mobile, code, use_real_code
):
    MobileCode.objects.all().delete()
    before = snapshot(existing)
    client = new_client()
    response = client.post("/yuyue/", {} if mobile is None else {"mobile": mobile})
    if response.status_code != 302:
        assert_refused_in_chinese(response)
    else:
        assert response["Location"] == reverse("yuyue:code")
        mobile = mobile[-1] if isinstance(mobile, list) else mobile  # the value a form reads
        typed = sms_code(mobile) if use_real_code else code
        answer = client.post(response["Location"], {} if typed is None else {"code": typed})
        if answer.status_code == 302:
            assert answer["Location"] == reverse("yuyue:bookings")
            typed = typed[-1] if isinstance(typed, list) else typed
            assert typed is not None
            assert re.sub(r"\s", "", unicodedata.normalize("NFKC", typed)) == sms_code(mobile)
            listed = existing.reference_display in client.get(answer["Location"]).content.decode()
            assert listed == (normalise_mobile(mobile) == MOBILE)
        else:
            assert_refused_in_chinese(answer)
            assert client.get("/yuyue/bookings/")["Location"] == reverse("yuyue:lookup")
    assert SESSION_KEY not in client.session
    assert snapshot(existing) == before
    assert not Notification.objects.exists()


def managed_client(client, booking):
    session = client.session
    session[SESSION_KEY] = booking.pk
    session.save()
    return client


def test_examples_share_the_handler_but_not_the_session(existing, new_client):
    """The booking one example may manage is not the next example's to manage."""
    managing = managed_client(new_client(), existing)
    assert managing.get("/yuyue/booking/").status_code == 200
    stranger = new_client()
    assert stranger.handler is managing.handler
    assert not stranger.cookies
    assert stranger.get("/yuyue/booking/")["Location"] == reverse("yuyue:lookup")


@PROPERTY_SETTINGS
@given(
    day=day_segments | st.dates().map(str),
    start=param_values(["2026-09-15T10:00:00+08:00"])
    | st.datetimes(timezones=st.just(LOCAL_TZ)).map(datetime.datetime.isoformat),
)
def test_moving_to_any_day_and_time_never_fails_and_changes_nothing_when_refused(
    existing, new_client, day, start
):
    Notification.objects.all().delete()
    before = snapshot(existing)
    client = managed_client(new_client(), existing)
    url = f"/yuyue/move/{day}/"
    page = client.get(url)
    response = client.post(url, {} if start is None else {"start": start})
    if page.status_code == 404:
        assert response.status_code == 404
    elif response.status_code == 302:
        existing.refresh_from_db()
        assert existing.starts_at != before[1]
    else:
        assert response.status_code == 400
        assert has_chinese(response.content.decode())
        assert snapshot(existing) == before
        assert not Notification.objects.exists()

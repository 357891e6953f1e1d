"""The waitlist's forms take generated input (tests.strategies: arbitrary
Unicode, control characters, huge strings, full-width digits, markup, missing
and repeated keys): joining a waitlist, the code step that proves the mobile,
and confirming a held time. Whatever arrives, the answer is a page, never a
server error; a refusal says in Chinese what to fix; and nothing is stored
unless the input was right."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from counseling import booking as service
from counseling.models import Booking, Notification, WaitlistEntry
from portal.core.models import MobileCode
from portal.core.privacy import normalise_mobile
from tests.counseling.test_properties import assert_refused_in_chinese, without_missing
from tests.factories import make_full_room, prove_mobile, sms_code
from tests.strategies import PROPERTY_SETTINGS, param_values

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"


def day_text(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


@pytest.fixture(autouse=True)
def unlimited_attempts(settings):
    unlimited = dict.fromkeys(("ip", "mobile", "mobile_total"), (10**9, 3600))
    settings.COUNSELING_RATE_LIMITS = dict.fromkeys(("booking", "lookup", "waitlist"), unlimited)
    settings.MOBILE_CODE_RATE_LIMITS = dict.fromkeys(("send", "check"), unlimited)
    cache.clear()


@pytest.fixture
def full_room(db):
    return make_full_room("属性测试咨询室")


DAYS = [day_text(n) for n in (-1, 0, 1, 3, 4)] + ["2026-02-30", "２０２６-１２-０８"]
waitlist_forms = st.fixed_dictionaries(
    {
        "first_day": param_values(DAYS),
        "last_day": param_values(DAYS),
        "mobile": param_values([MOBILE, "+86 139 1234 5678", "１３９１２３４５６７８"]),
        "website": param_values([""]),
    }
).map(without_missing)


def single(value):
    return value[-1] if isinstance(value, list) else value


def acceptable_days(data):
    try:
        first = datetime.date.fromisoformat(single(data.get("first_day")))
        last = datetime.date.fromisoformat(single(data.get("last_day")))
    except (TypeError, ValueError):
        return False
    today = timezone.localdate()
    return today <= first <= last <= today + datetime.timedelta(days=3)


@PROPERTY_SETTINGS
@given(data=waitlist_forms)
def test_joining_stores_an_entry_only_from_right_input(full_room, new_client, data):
    room, _booked = full_room
    WaitlistEntry.objects.all().delete()
    MobileCode.objects.all().delete()
    client = new_client()

    response = client.post(reverse("counseling:waitlist", args=[room.pk]), data)
    if response.status_code == 302 and response["Location"] == reverse(
        "counseling:waitlist_verify"
    ):
        mobile = normalise_mobile(single(data["mobile"]))
        response = client.post(response["Location"], {"code": sms_code(mobile)})

    if response.status_code == 302:
        assert response["Location"] == reverse("counseling:waitlist_done")
        entry = WaitlistEntry.objects.get()
        assert entry.room == room and entry.mobile == MOBILE
        assert acceptable_days(data) and not single(data.get("website"))
    else:
        assert_refused_in_chinese(response)
        assert not WaitlistEntry.objects.exists()


@PROPERTY_SETTINGS
@given(code=param_values(["123456", "１２３４５６", "12 34 56"]), use_real_code=st.booleans())
def test_only_the_code_the_phone_got_joins_the_waitlist(full_room, new_client, code, use_real_code):
    room, _booked = full_room
    WaitlistEntry.objects.all().delete()
    MobileCode.objects.all().delete()
    client = new_client()
    asked = client.post(
        reverse("counseling:waitlist", args=[room.pk]),
        {"first_day": day_text(0), "last_day": day_text(3), "mobile": MOBILE},
    )
    assert asked["Location"] == reverse("counseling:waitlist_verify")
    typed = sms_code(MOBILE) if use_real_code else code

    answer = client.post(asked["Location"], {} if typed is None else {"code": typed})

    if answer.status_code == 302:
        assert answer["Location"] == reverse("counseling:waitlist_done")
        assert WaitlistEntry.objects.get().mobile == MOBILE
    else:
        assert_refused_in_chinese(answer)
        assert not WaitlistEntry.objects.exists()


HOLD_FIELDS = {
    "name": ["小李", " 王阿姨 ", "李" * 20],
    "email": ["", "li@example.com"],
    "visit_type": ["first", "follow_up"],
    "note": ["", "最近睡不好"],
    "note_consent": ["on", ""],
}
hold_forms = st.fixed_dictionaries(
    {field: param_values(valid) for field, valid in HOLD_FIELDS.items()}
).map(without_missing)


@pytest.fixture
def hold(full_room):
    room, booked = full_room
    service.join_waitlist(
        room=room,
        first_day=timezone.localdate(),
        last_day=timezone.localdate() + datetime.timedelta(days=3),
        mobile=MOBILE,
    )
    service.cancel_by_resident(booked[-1])
    return Booking.objects.get(status=Booking.Status.HELD)


@PROPERTY_SETTINGS
@given(data=hold_forms)
def test_a_held_time_is_confirmed_only_from_right_input(hold, new_client, data):
    # Each example starts from the time still held.
    Booking.objects.filter(pk=hold.pk).update(
        status=Booking.Status.HELD,
        name="",
        hold_expires_at=timezone.now() + datetime.timedelta(minutes=30),
    )
    WaitlistEntry.objects.filter(pk=hold.waitlist_entry_id).update(state="offered")
    Notification.objects.all().delete()
    client = new_client()
    prove_mobile(client, MOBILE)

    response = client.post(reverse("yuyue:hold", args=[hold.reference]), data)

    stored = Booking.objects.get(pk=hold.pk)
    if response.status_code == 302:
        assert response["Location"] == reverse("counseling:done")
        assert stored.status == Booking.Status.CONFIRMED
        assert 1 <= len(stored.name) <= 20 and "\x00" not in stored.name
    else:
        assert_refused_in_chinese(response)
        assert stored.status == Booking.Status.HELD and stored.name == ""
        assert not Notification.objects.exists()

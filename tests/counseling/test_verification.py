"""Proof that a resident holds the mobile (portal.core.verification): a six-digit SMS
code, valid five minutes and five tries, a new one after 60 seconds, limited per
number and per visitor, stored only as keyed hashes, in neutral words. Tested
through the real pages, database and SMS outbox, as a resident meets them."""

import datetime
import json
import re

import pytest
from cryptography.fernet import Fernet
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from counseling.availability import Availability
from counseling.models import LOCAL_TZ, Booking
from counseling.views import PENDING_BOOKING_KEY
from portal.core import privacy, sms, verification
from portal.core.models import MobileCode
from portal.core.verification import mark_verified, verified_for
from tests.factories import make_open_room, sms_code

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
VERIFY = "/counseling/verify/"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()


@pytest.fixture
def room(db):
    return make_open_room()


@pytest.fixture
def slot_url(room):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    slot = next(s for s in Availability([room]).slots(room) if s.day >= tomorrow)
    local = slot.start.astimezone(LOCAL_TZ)
    return reverse(
        "counseling:book", kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()}
    )


def form(**overrides):
    return {
        "name": "王阿姨",
        "mobile": MOBILE,
        "email": "wang@example.com",
        "visit_type": "first",
        "note": "晚上睡不着",
        "note_consent": "on",
        "website": "",
        **overrides,
    }


def texts_to(mobile):
    return [text for to, text in sms.MemoryBackend.outbox if to == mobile]


def age_codes(**delta):
    """Move every code's clock back, as if that much time had passed."""
    for code in MobileCode.objects.all():
        code.created_at -= datetime.timedelta(**delta)
        code.expires_at -= datetime.timedelta(**delta)
        code.save()


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def test_the_code_step_asks_for_one_large_code_field_and_keeps_what_was_typed(client, slot_url):
    response = client.post(slot_url, form())
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert not Booking.objects.exists()

    page = client.get(VERIFY).content.decode()
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", page).group()
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    assert 'class="code-input"' in field
    assert "139****5678" in page and MOBILE not in page
    assert "<script" not in page.split("<main", 1)[1]  # the step needs no JavaScript

    # Going back to change something shows everything as it was typed.
    back = client.get(slot_url).content.decode()
    for value in ('value="王阿姨"', 'value="wang@example.com"', "晚上睡不着</textarea>"):
        assert value in back
    assert re.search(r"<input[^>]*name=\"note_consent\"[^>]*checked", back)


def test_the_right_code_books_and_the_text_is_neutral(client, slot_url):
    client.post(slot_url, form())
    [text] = texts_to(MOBILE)
    assert re.search(r"验证码 \d{6},5 分钟内有效", text)
    for word in ("心理", "咨询", "预约"):
        assert word not in text

    response = client.post(VERIFY, {"code": sms_code(MOBILE)})

    assert response.status_code == 302 and response["Location"] == reverse("counseling:done")
    booking = Booking.objects.get()
    assert (booking.name, booking.email, booking.note) == (
        "王阿姨",
        "wang@example.com",
        "晚上睡不着",
    )
    # The code is used up.
    assert MobileCode.objects.get().used_at is not None


def test_a_wrong_code_says_how_many_tries_are_left_and_books_nothing(client, slot_url):
    client.post(slot_url, form())
    code = sms_code(MOBILE)

    response = client.post(VERIFY, {"code": wrong(code)})

    assert response.status_code == 400
    assert "验证码不对,请核对短信中的 6 位数字,还可以再试 4 次。" in response.content.decode()
    assert not Booking.objects.exists()
    assert client.post(VERIFY, {"code": code}).status_code == 302


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", "", "１２３"])
def test_a_code_that_is_not_six_digits_gets_a_clear_message(client, slot_url, typed):
    client.post(slot_url, form())
    response = client.post(VERIFY, {"code": typed})
    assert response.status_code == 400
    html = response.content.decode()
    assert "验证码是 6 位数字" in html or "请输入短信中的 6 位数字验证码" in html
    assert 'href="#id_code"' in html


def test_full_width_digits_and_spaces_in_the_code_are_read(client, slot_url):
    client.post(slot_url, form())
    code = sms_code(MOBILE)
    typed = " ".join(chr(ord(digit) + 0xFEE0) for digit in code)  # １ ２ ３ …
    assert client.post(VERIFY, {"code": typed}).status_code == 302


def test_five_wrong_tries_use_the_code_up(client, slot_url):
    client.post(slot_url, form())
    code = sms_code(MOBILE)
    for _ in range(4):
        client.post(VERIFY, {"code": wrong(code)})
    fifth = client.post(VERIFY, {"code": wrong(code)})
    assert "验证码输错次数太多,请点“重新获取验证码”" in fifth.content.decode()

    right_too_late = client.post(VERIFY, {"code": code})

    assert right_too_late.status_code == 400
    assert "输错次数太多" in right_too_late.content.decode()
    assert not Booking.objects.exists()


def test_a_code_expires_after_five_minutes(client, slot_url):
    client.post(slot_url, form())
    code = sms_code(MOBILE)
    age_codes(minutes=5, seconds=1)

    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 400
    assert "验证码已过期或已经用过" in response.content.decode()
    assert not Booking.objects.exists()


def test_a_new_code_comes_after_60_seconds_and_replaces_the_old_one(client, slot_url):
    client.post(slot_url, form())
    first = sms_code(MOBILE)

    too_soon = client.post(VERIFY, {"resend": "1"})
    assert too_soon.status_code == 400
    assert re.search(r"请等 \d+ 秒后再重新获取", too_soon.content.decode())
    assert len(texts_to(MOBILE)) == 1

    age_codes(seconds=61)
    resent = client.post(VERIFY, {"resend": "1"})
    assert resent.status_code == 302
    assert "新的验证码已发送" in client.get(VERIFY).content.decode()
    second = sms_code(MOBILE)
    assert len(texts_to(MOBILE)) == 2
    if second != first:
        assert client.post(VERIFY, {"code": first}).status_code == 400
    assert client.post(VERIFY, {"code": second}).status_code == 302


def test_codes_and_numbers_are_stored_only_as_keyed_hashes(client, slot_url):
    client.post(slot_url, form())
    code = sms_code(MOBILE)
    row = MobileCode.objects.values().get()
    stored = " ".join(str(value) for value in row.values())
    assert code not in stored and MOBILE not in stored and MOBILE[-4:] not in row["code_hash"]
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    assert re.fullmatch(r"[0-9a-f]{64}", row["mobile_hash"])


def test_codes_to_one_number_are_limited_from_one_visitor_and_from_everywhere(
    client, slot_url, settings
):
    settings.MOBILE_CODE_RATE_LIMITS = {
        "send": {"mobile": (2, 3600), "mobile_total": (3, 3600), "ip": (99, 3600)}
    }

    def ask(address):
        client.cookies.clear()
        return client.post(slot_url, form(), REMOTE_ADDR=address)

    assert ask("198.51.100.1")["Location"] == VERIFY
    assert ask("198.51.100.1")["Location"] == VERIFY
    from_one = ask("198.51.100.1")
    assert from_one.status_code == 429
    assert "这个号码获取验证码的次数过多" in from_one.content.decode()
    assert ask("198.51.100.2")["Location"] == VERIFY  # someone else still can
    from_anywhere = ask("198.51.100.3")
    assert from_anywhere.status_code == 429
    assert 'value="王阿姨"' in from_anywhere.content.decode()
    assert len(texts_to(MOBILE)) == 3


def test_another_session_can_neither_replace_nor_spend_nor_see_a_residents_code(client, slot_url):
    client.post(slot_url, form())
    code = sms_code(MOBILE)
    stranger = Client()
    # Moments later someone else asks for a code to the same number: the page is
    # the same as for any number (no "just sent" wait), and a code is sent...
    asked = stranger.post("/yuyue/", {"mobile": MOBILE})
    assert asked["Location"] == "/yuyue/code/"
    page = stranger.get("/yuyue/code/").content.decode()
    assert "秒后可以重新获取" in page and "验证码刚刚发出" not in page
    # ...and every wrong try the stranger makes is spent on the stranger's own code.
    for _ in range(5):
        stranger.post("/yuyue/code/", {"code": wrong(code)})
    stranger_code = sms_code(MOBILE)
    assert stranger.post("/yuyue/code/", {"code": code}).status_code == 400

    # The stranger's code is no good in the resident's session (one in a million
    # codes match by chance), and the resident's own code still books.
    if stranger_code != code:
        assert client.post(VERIFY, {"code": stranger_code}).status_code == 400
    assert client.post(VERIFY, {"code": code})["Location"] == reverse("counseling:done")


def test_a_text_the_gateway_refused_uses_up_no_allowance(client, slot_url, settings):
    settings.MOBILE_CODE_RATE_LIMITS = {"send": {"ip": (2, 3600)}}
    settings.SMS_BACKEND = "tests.counseling.test_faults.GatewayDown"
    for _ in range(4):
        assert client.post(slot_url, form()).status_code == 503
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    assert client.post(slot_url, form())["Location"] == VERIFY


def test_what_was_typed_is_forgotten_after_half_an_hour_or_on_leaving(client, slot_url):
    client.post(slot_url, form())
    session = client.session
    kept = json.loads(privacy.decrypt(session[PENDING_BOOKING_KEY]))
    kept["kept_at"] -= verification.knob("PENDING_FORM_MINUTES") * 60 + 1
    session[PENDING_BOOKING_KEY] = privacy.encrypt(json.dumps(kept))
    session.save()

    back = client.get(slot_url).content.decode()
    assert "王阿姨" not in back and "晚上睡不着" not in back
    assert client.get(VERIFY)["Location"] == reverse("counseling:rooms")

    client.post(slot_url, form())
    client.post("/yuyue/leave/")
    assert "王阿姨" not in client.get(slot_url).content.decode()
    assert PENDING_BOOKING_KEY not in client.session


def test_typed_details_under_a_retired_data_key_are_dropped_not_an_error(
    client, slot_url, settings
):
    client.post(slot_url, form())
    settings.BOOKING_DATA_KEYS = [Fernet.generate_key().decode()]
    assert client.get(slot_url).status_code == 200
    assert client.get(VERIFY)["Location"] == reverse("counseling:rooms")


def test_codes_asked_from_one_visitor_are_limited_across_numbers(client, slot_url, settings):
    settings.MOBILE_CODE_RATE_LIMITS = {"send": {"ip": (3, 3600), "mobile": (99, 3600)}}
    for number in range(3):
        response = client.post(
            slot_url, form(mobile=f"1370000000{number}"), REMOTE_ADDR=f"2001:db8:7:7::{number}"
        )
        assert response["Location"] == VERIFY

    refused = client.post(slot_url, form(mobile="13700000009"), REMOTE_ADDR="2001:db8:7:7::99")

    assert refused.status_code == 429
    assert "获取验证码的次数过多" in refused.content.decode()
    assert not texts_to("13700000009")


def test_a_proven_number_books_again_without_a_new_code_for_a_while(client, room, slot_url):
    client.post(slot_url, form())
    client.post(VERIFY, {"code": sms_code(MOBILE)})
    other = next(
        s
        for s in Availability([room]).slots(room)
        if s.start > Booking.objects.get().ends_at + datetime.timedelta(hours=2)
    )
    local = other.start.astimezone(LOCAL_TZ)
    url = reverse(
        "counseling:book", kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()}
    )
    assert "确认预约" in client.get(url).content.decode()
    assert client.post(url, form())["Location"] == reverse("counseling:done")
    assert len([text for text in texts_to(MOBILE) if "验证码" in text]) == 1

    # Another number in the same session still needs its own code.
    assert client.post(url, form(mobile="13700000001"))["Location"] == VERIFY


def test_the_proof_runs_out(client, rf):
    request = rf.get("/")
    request.session = client.session
    mark_verified(
        request, MOBILE, "booking", now=timezone.now() - verified_for() - datetime.timedelta(1)
    )
    request.session.save()
    client.cookies["sessionid"] = request.session.session_key
    assert client.get("/yuyue/bookings/")["Location"] == "/yuyue/"


def test_the_verify_step_without_a_booking_in_progress_goes_back_to_the_rooms(client):
    response = client.get(VERIFY)
    assert response.status_code == 302 and response["Location"] == reverse("counseling:rooms")

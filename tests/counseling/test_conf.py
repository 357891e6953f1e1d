"""The booking module's knobs (counseling.conf): each default pinned by the
behaviour it controls, and a site's setting taking its place."""

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from counseling import booking as service
from counseling import conf, notifications, ratelimit
from counseling.booking import BookingRefused
from counseling.models import LOCAL_TZ, Booking
from portal.core import sms, verification
from portal.core.models import MobileCode
from portal.core.verification import CodeRefused
from tests.factories import make_weekday_room, sms_code

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 9, 14)
TUESDAY = MONDAY + datetime.timedelta(days=1)
NOW = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL_TZ)
MOBILE = "13800000001"
DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def at(day, hhmm):
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), LOCAL_TZ)


@pytest.fixture(autouse=True)
def defaults(settings):
    """No COUNSELING_* or MOBILE_CODE_* setting: the defaults apply."""
    for module in (conf, verification):
        for name in module.DEFAULTS:
            if hasattr(settings, module.PREFIX + name):
                delattr(settings, module.PREFIX + name)


@pytest.fixture
def room():
    return make_weekday_room(weekdays="MO,TU,WE,TH,FR,SA,SU", hours=(9, 17))


def book(room, starts_at, mobile=MOBILE, now=NOW):
    return service.create_booking(
        room=room,
        starts_at=starts_at,
        name="张女士",
        mobile=mobile,
        visit_type=Booking.VisitType.FIRST,
        now=now,
    )


def wrong(code):
    return f"{(int(code) + 1) % 10**6:06d}"


def refusal_code(call, *args, **kwargs):
    with pytest.raises(BookingRefused) as caught:
        call(*args, **kwargs)
    return caught.value.code


class TestUpcomingBookingsPerMobile:
    def test_by_default_a_mobile_holding_two_is_refused_a_third(self, room):
        book(room, at(MONDAY, "10:00"))
        book(room, at(MONDAY, "11:00"))
        assert refusal_code(book, room, at(MONDAY, "12:00")) == "mobile_limit"
        assert Booking.objects.count() == 2

    def test_the_setting_raises_the_cap(self, room, settings):
        settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 3
        for hhmm in ("10:00", "11:00", "12:00"):
            book(room, at(MONDAY, hhmm))
        assert refusal_code(book, room, at(MONDAY, "13:00")) == "mobile_limit"


class TestCancelCutOff:
    """By default the cut-off is two hours before the session: a booking at 10:00."""

    JUST_INSIDE = at(MONDAY, "08:01")
    JUST_OUTSIDE = at(MONDAY, "07:59")

    def test_inside_the_default_cut_off_a_cancel_is_late_and_a_move_refused(self, room):
        cancelled = service.cancel_by_resident(
            book(room, at(MONDAY, "10:00")), now=self.JUST_INSIDE
        )
        assert cancelled.status == Booking.Status.LATE_CANCEL
        booking = book(room, at(MONDAY, "11:00"))
        code = refusal_code(
            service.move_booking, booking, at(TUESDAY, "10:00"), now=at(MONDAY, "09:01")
        )
        assert code == "too_late_to_move"

    def test_outside_the_default_cut_off_a_cancel_is_ordinary_and_a_move_allowed(self, room):
        cancelled = service.cancel_by_resident(
            book(room, at(MONDAY, "10:00")), now=self.JUST_OUTSIDE
        )
        assert cancelled.status == Booking.Status.CANCELLED
        booking = book(room, at(MONDAY, "11:00"))
        moved = service.move_booking(booking, at(TUESDAY, "10:00"), now=at(MONDAY, "08:59"))
        assert moved.starts_at == at(TUESDAY, "10:00")

    def test_the_setting_moves_the_cut_off(self, room, settings):
        settings.COUNSELING_CANCEL_CUTOFF_HOURS = 4
        cancelled = service.cancel_by_resident(
            book(room, at(MONDAY, "10:00")), now=self.JUST_OUTSIDE
        )
        assert cancelled.status == Booking.Status.LATE_CANCEL


class TestRetention:
    def make_ended(self, room, days_ago, mobile):
        """A booking whose session ended `days_ago` days ago."""
        booking = book(room, at(MONDAY, "10:00"), mobile=mobile)
        ends_at = timezone.now() - datetime.timedelta(days=days_ago)
        Booking.objects.filter(pk=booking.pk).update(
            starts_at=ends_at - datetime.timedelta(minutes=50), ends_at=ends_at
        )
        return booking

    def erased(self, booking):
        return Booking.objects.get(pk=booking.pk).personal_data_erased_at is not None

    def test_by_default_details_go_180_days_after_the_session(self, room):
        kept = self.make_ended(room, 179, "13800000001")
        gone = self.make_ended(room, 181, "13800000002")
        call_command("purge_bookings", stdout=StringIO())
        assert (self.erased(kept), self.erased(gone)) == (False, True)

    def test_the_setting_shortens_the_period(self, room, settings):
        settings.COUNSELING_RETENTION_DAYS = 30
        booking = self.make_ended(room, 31, "13800000001")
        call_command("purge_bookings", stdout=StringIO())
        assert self.erased(booking)


class TestRateLimits:
    def test_by_default_one_visitor_makes_ten_booking_attempts_an_hour(self):
        allowed = [ratelimit.attempt("booking", "ip", "192.0.2.1") for _ in range(11)]
        assert allowed == [True] * 10 + [False]
        assert conf.rate_limit("booking", "ip") == (10, 60 * 60)

    def test_a_setting_replaces_one_entry_and_keeps_the_others(self, settings):
        settings.COUNSELING_RATE_LIMITS = {"booking": {"ip": (2, 60)}}
        allowed = [ratelimit.attempt("booking", "ip", "192.0.2.1") for _ in range(3)]
        assert allowed == [True, True, False]
        assert conf.rate_limit("booking", "mobile") == (5, 60 * 60)
        assert conf.rate_limit("lookup", "ip") == (10, 15 * 60)


@pytest.fixture
def request_with_session(client, rf):
    request = rf.get("/")
    request.session = client.session
    return request


class TestMobileCodes:
    def test_by_default_a_code_holds_for_five_minutes(self, request_with_session):
        verification.send_code(request_with_session, MOBILE, now=NOW)
        assert "5 分钟内有效" in sms.MemoryBackend.outbox[-1][1]
        code = sms_code(MOBILE)
        five = datetime.timedelta(minutes=5)
        later = NOW + five - datetime.timedelta(seconds=1)
        verification.check_code(request_with_session, MOBILE, code, now=later, consume=False)
        with pytest.raises(CodeRefused) as caught:
            verification.check_code(request_with_session, MOBILE, code, now=NOW + five)
        assert caught.value.reason == "expired"

    def test_by_default_five_wrong_tries_use_a_code_up(self, request_with_session):
        verification.send_code(request_with_session, MOBILE, now=NOW)
        typed = wrong(sms_code(MOBILE))
        reasons = []
        for _ in range(5):
            with pytest.raises(CodeRefused) as caught:
                verification.check_code(request_with_session, MOBILE, typed, now=NOW)
            reasons.append(caught.value.reason)
        assert reasons == ["wrong"] * 4 + ["too_many"]

    def test_by_default_another_code_waits_a_minute(self, request_with_session):
        verification.send_code(request_with_session, MOBILE, now=NOW)
        assert verification.wait_before_resend(request_with_session, MOBILE, now=NOW) == 60
        later = NOW + datetime.timedelta(seconds=60)
        assert verification.wait_before_resend(request_with_session, MOBILE, now=later) == 0

    def test_by_default_a_proof_lasts_half_an_hour(self, request_with_session):
        proved_at = timezone.now() - datetime.timedelta(minutes=29)
        verification.mark_verified(request_with_session, MOBILE, "booking", now=proved_at)
        assert verification.is_verified(request_with_session, MOBILE, "booking")
        proved_at -= datetime.timedelta(minutes=2)
        verification.mark_verified(request_with_session, MOBILE, "booking", now=proved_at)
        assert not verification.is_verified(request_with_session, MOBILE, "booking")

    def test_by_default_codes_are_deleted_after_a_day(self, request_with_session):
        verification.send_code(request_with_session, MOBILE)
        MobileCode.objects.update(created_at=timezone.now() - datetime.timedelta(hours=23))
        call_command("purge_bookings", stdout=StringIO())
        assert MobileCode.objects.exists()
        MobileCode.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
        call_command("purge_bookings", stdout=StringIO())
        assert not MobileCode.objects.exists()

    def test_settings_change_the_lifetime_and_tries(self, request_with_session, settings):
        settings.MOBILE_CODE_LIFETIME_MINUTES = 10
        settings.MOBILE_CODE_TRIES = 1
        record = verification.send_code(request_with_session, MOBILE, now=NOW)
        assert record.expires_at == NOW + datetime.timedelta(minutes=10)
        assert "10 分钟内有效" in sms.MemoryBackend.outbox[-1][1]
        with pytest.raises(CodeRefused) as caught:
            verification.check_code(request_with_session, MOBILE, wrong(sms_code(MOBILE)), now=NOW)
        assert caught.value.reason == "too_many"


class TestMessages:
    def test_by_default_a_message_is_tried_six_times_over_four_hours(self):
        delays = [notifications.retry_delay(attempts) for attempts in range(1, 6)]
        assert [delay.total_seconds() / 60 for delay in delays] == [1, 5, 15, 60, 180]
        assert notifications.retry_delay(9) == datetime.timedelta(minutes=180)
        assert conf.get("MESSAGE_ATTEMPTS") == 6

    def test_by_default_texts_go_to_the_console(self, settings, capsys):
        del settings.SMS_BACKEND
        sms.get_backend().send(MOBILE, "【金家岭街道】测试")
        assert "138****0001" in capsys.readouterr().out


def test_every_knob_is_listed_in_the_deployment_guide():
    guide = DEPLOY_DOC.read_text(encoding="utf-8")
    missing = [
        module.PREFIX + name
        for module in (conf, verification)
        for name in module.DEFAULTS
        if module.PREFIX + name not in guide
    ]
    assert not missing

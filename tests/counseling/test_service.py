"""The booking service: the one writer of bookings, re-checking every slot."""

import datetime
import re

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.booking import BookingRefused
from counseling.models import LOCAL_TZ, Booking, Closure, Notification
from portal.core import references
from tests.factories import make_weekday_room
from tests.outages import other_connection, postgres_only

MONDAY = datetime.date(2026, 9, 14)
TUESDAY = MONDAY + datetime.timedelta(days=1)
NOW = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL_TZ)
WEEK = datetime.timedelta(days=7)


def at(day, hhmm):
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), LOCAL_TZ)


@pytest.fixture
def room(db):
    return make_weekday_room()


def book(room, starts_at, mobile="13800000001", now=NOW, **fields):
    return service.create_booking(
        room=room,
        starts_at=starts_at,
        name=fields.pop("name", "张女士"),
        mobile=mobile,
        visit_type=fields.pop("visit_type", Booking.VisitType.FIRST),
        now=now,
        **fields,
    )


def refused(code, call, *args, **kwargs):
    with pytest.raises(BookingRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code
    assert re.search(r"[\u4e00-\u9fff]", caught.value.message), "the resident reads Chinese"
    return caught.value


class TestCreate:
    def test_stores_the_booking_in_the_slot_with_the_counsellor_on_duty(self, room):
        booking = book(room, at(MONDAY, "10:00"), email="a@example.com")
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
        assert (booking.starts_at, booking.ends_at) == (at(MONDAY, "10:00"), at(MONDAY, "10:50"))
        assert booking.counsellor.name == "测试咨询室咨询师"
        assert (booking.name, booking.mobile, booking.email) == (
            "张女士",
            "13800000001",
            "a@example.com",
        )

    def test_reference_is_eight_digits_unique_and_read_in_two_groups(self, room):
        bookings = [
            book(room, at(day, start), mobile=f"1380000{n:04d}")
            for n, (day, start) in enumerate(
                (day, start) for day in (MONDAY, TUESDAY) for start in ("09:00", "10:00", "11:00")
            )
        ]
        references = [b.reference for b in bookings]
        assert all(re.fullmatch(r"[1-9]\d{7}", ref) for ref in references)
        assert len(set(references)) == len(references)
        assert bookings[0].reference_display == f"{references[0][:4]} {references[0][4:]}"

    def test_note_is_kept_only_with_its_own_consent(self, room):
        without = book(room, at(MONDAY, "09:00"), note="睡不好", note_consent=False)
        with_consent = book(
            room, at(MONDAY, "10:00"), mobile="13800000002", note="睡不好", note_consent=True
        )
        without.refresh_from_db()
        with_consent.refresh_from_db()
        assert (without.note, without.note_consent_at) == ("", None)
        assert (with_consent.note, with_consent.note_consent_at) == ("睡不好", NOW)

    def test_a_taken_slot_is_refused_and_nothing_is_stored(self, room):
        book(room, at(MONDAY, "10:00"))
        refused("taken", book, room, at(MONDAY, "10:00"), mobile="13900000000")
        assert Booking.objects.count() == 1

    def test_too_soon_too_far_and_not_a_slot_are_refused(self, room):
        refused("too_soon", book, room, at(MONDAY, "08:30"))
        refused("too_far", book, room, at(MONDAY + datetime.timedelta(days=16), "09:00"))
        refused("not_a_slot", book, room, at(MONDAY, "09:30"))
        refused("closed", book, room, at(MONDAY + datetime.timedelta(days=5), "09:00"))
        assert not Booking.objects.exists()

    def test_each_refusal_tells_the_resident_what_to_choose_instead(self, room):
        saturday = MONDAY + datetime.timedelta(days=5)
        far = MONDAY + datetime.timedelta(days=16)
        book(room, at(TUESDAY, "10:00"), mobile="13900000000")
        said = {
            "too_soon": refused("too_soon", book, room, at(MONDAY, "08:30")).message,
            "too_far": refused("too_far", book, room, at(far, "09:00")).message,
            "not_a_slot": refused("not_a_slot", book, room, at(MONDAY, "09:30")).message,
            "closed": refused("closed", book, room, at(saturday, "09:00")).message,
            "taken": refused("taken", book, room, at(TUESDAY, "10:00")).message,
        }
        assert said == {
            "too_soon": "这个时段太近了,请至少提前 2 小时预约。",
            "too_far": "只能预约 14 天以内的时段,请选择更近的日期。",
            "not_a_slot": "请选择页面上列出的可预约时段。",
            "closed": "咨询室这一天不开放,请选择其他日期。",
            "taken": "这个时段刚刚被别人预约了,请选择其他时段。",
        }
        room.daily_cap = 1
        room.save()
        full = refused("day_full", book, room, at(TUESDAY, "11:00"), mobile="13900000000")
        assert full.message == "这一天的预约已满,请选择其他日期。"

    def test_the_notice_asked_for_is_the_rooms_own_in_hours(self, room):
        room.min_notice_hours = 1
        room.save()
        too_soon = refused("too_soon", book, room, at(MONDAY, "09:00"), now=at(MONDAY, "08:30"))
        assert too_soon.message == "这个时段太近了,请至少提前 1 小时预约。"
        assert book(room, at(MONDAY, "09:00"), now=at(MONDAY, "08:00")).is_active

    def test_a_closure_added_after_the_page_was_shown_is_refused(self, room):
        shown = Availability([room], NOW).slots_on(room, TUESDAY)
        assert at(TUESDAY, "10:00") in [slot.start for slot in shown]
        Closure.objects.create(
            room=room, starts_at=at(TUESDAY, "00:00"), ends_at=at(TUESDAY, "23:59"), reason="停电"
        )
        refused("closed", book, room, at(TUESDAY, "10:00"))
        assert not Booking.objects.exists()

    def test_a_mobile_at_its_limit_is_refused_until_one_is_cancelled_or_past(self, room, settings):
        settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 2
        first = book(room, at(MONDAY, "09:00"))
        book(room, at(MONDAY, "10:00"))
        over = refused("mobile_limit", book, room, at(MONDAY, "11:00"))
        assert over.message == (
            "这个手机号码已有 2 个还没到期的预约,暂时不能再约。"
            "如需换时间,请在“我的预约”中改约,或取消不需要的预约后再约。"
        )
        assert Booking.objects.count() == 2
        # The cap is per number: someone else books that time.
        assert book(room, at(MONDAY, "11:00"), mobile="13800000009").is_active
        service.cancel_by_resident(first, now=NOW)
        assert book(room, at(TUESDAY, "09:00")).is_active
        # Bookings already past do not count.
        later = NOW + datetime.timedelta(days=1, hours=8)
        assert book(room, at(TUESDAY + datetime.timedelta(days=1), "10:00"), now=later).is_active

    def test_a_limit_of_one_says_the_number_already_holds_one(self, room, settings):
        settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 1
        book(room, at(MONDAY, "09:00"))
        over = refused("mobile_limit", book, room, at(TUESDAY, "09:00"))
        assert over.message == (
            "这个手机号码已有 1 个还没到期的预约,暂时不能再约。"
            "如需换时间,请在“我的预约”中改约,或取消不需要的预约后再约。"
        )

    def test_without_an_email_only_a_text_confirms_it(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        booking.refresh_from_db()
        assert booking.email == ""
        assert [(n.kind, n.channel) for n in booking.notifications.all()] == [
            (Notification.Kind.CONFIRMATION, Notification.Channel.SMS)
        ]

    def test_a_note_is_not_kept_unless_consent_is_given(self, room):
        unasked = book(room, at(MONDAY, "09:00"), note="睡不好")
        consent_alone = book(room, at(MONDAY, "10:00"), mobile="13900000000", note_consent=True)
        unasked.refresh_from_db()
        consent_alone.refresh_from_db()
        assert (unasked.note, unasked.note_consent_at) == ("", None)
        assert (consent_alone.note, consent_alone.note_consent_at) == ("", None)

    def test_a_follow_up_visit_is_recorded_as_one(self, room):
        booking = book(room, at(MONDAY, "10:00"), visit_type=Booking.VisitType.FOLLOW_UP)
        booking.refresh_from_db()
        assert booking.visit_type == Booking.VisitType.FOLLOW_UP

    def test_a_reference_never_starts_with_zero_nor_repeats_one_in_use(self, room, monkeypatch):
        taken = book(room, at(MONDAY, "09:00")).reference
        drawn = iter("01234567" + taken + "76543210")
        monkeypatch.setattr(references.secrets, "choice", lambda digits: next(drawn))
        booking = book(room, at(MONDAY, "10:00"), mobile="13900000000")
        assert booking.reference == "76543210"

    def test_a_cancelled_booking_frees_its_slot(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        service.cancel_by_resident(booking, now=NOW)
        again = book(room, at(MONDAY, "10:00"), mobile="13900000000")
        assert again.starts_at == booking.starts_at


class TestCancel:
    def test_before_the_cut_off_is_an_ordinary_cancellation(self, room):
        booking = service.cancel_by_resident(book(room, at(MONDAY, "10:00")), now=NOW)
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert booking.cancelled_at == NOW

    def test_within_the_cut_off_is_recorded_as_late(self, room, settings):
        settings.COUNSELING_CANCEL_CUTOFF_HOURS = 2
        booking = book(room, at(MONDAY, "10:00"))
        late = service.cancel_by_resident(booking, now=at(MONDAY, "08:30"))
        assert late.status == Booking.Status.LATE_CANCEL

    def test_exactly_at_the_cut_off_is_still_on_time(self, room, settings):
        settings.COUNSELING_CANCEL_CUTOFF_HOURS = 2
        booking = book(room, at(MONDAY, "10:00"))
        assert not service.is_late_cancellation(booking, now=at(MONDAY, "08:00"))
        cancelled = service.cancel_by_resident(booking, now=at(MONDAY, "08:00"))
        cancelled.refresh_from_db()
        assert cancelled.status == Booking.Status.CANCELLED

    def test_a_cancelled_or_past_booking_cannot_be_cancelled(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        started = refused("started", service.cancel_by_resident, booking, now=at(MONDAY, "10:00"))
        assert started.message == "预约时间已过,无法在线取消。"
        service.cancel_by_resident(booking, now=NOW)
        again = refused("not_active", service.cancel_by_resident, booking, now=NOW)
        assert again.message == "这个预约已经取消或已结束,无需再取消。"

    def test_staff_cancellation_keeps_the_reason_and_tells_the_resident(self, room):
        booking = service.cancel_by_staff(
            book(room, at(MONDAY, "10:00")), "咨询师临时有事", now=NOW
        )
        booking.refresh_from_db()
        assert booking.status == Booking.Status.STAFF_CANCELLED
        assert booking.cancel_reason == "咨询师临时有事"
        assert booking.cancelled_at == NOW
        assert booking.notifications.filter(kind=Notification.Kind.CANCELLATION).count() == 1

    def test_staff_cancellation_is_dated_when_it_happens(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        before = timezone.now()
        service.cancel_by_staff(booking, "场地临时停电")
        booking.refresh_from_db()
        assert before <= booking.cancelled_at <= timezone.now()

    def test_a_batch_judged_fake_is_cancelled_without_a_text(self, room):
        booking = service.cancel_by_staff(
            book(room, at(MONDAY, "10:00")), "虚假预约", now=NOW, tell_resident=False
        )
        assert not booking.notifications.filter(kind=Notification.Kind.CANCELLATION).exists()

    def test_staff_can_cancel_only_a_confirmed_booking(self, room):
        booking = service.cancel_by_resident(book(room, at(MONDAY, "10:00")), now=NOW)
        refusal = refused("not_active", service.cancel_by_staff, booking, "重复预约", now=NOW)
        assert refusal.message == "只能取消已确认的预约。"
        booking.refresh_from_db()
        assert (booking.status, booking.cancel_reason) == (Booking.Status.CANCELLED, "")


class TestMove:
    def test_moves_to_another_free_slot_and_frees_the_old_one(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        moved = service.move_booking(booking, at(TUESDAY, "11:00"), now=NOW)
        moved.refresh_from_db()
        assert (moved.starts_at, moved.ends_at) == (at(TUESDAY, "11:00"), at(TUESDAY, "11:50"))
        assert moved.reference == booking.reference
        assert book(room, at(MONDAY, "10:00"), mobile="13900000000")

    def test_moves_within_the_same_morning_past_its_own_buffer(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        moved = service.move_booking(booking, at(MONDAY, "11:00"), now=NOW)
        assert moved.starts_at == at(MONDAY, "11:00")

    def test_moves_to_another_room(self, room):
        other = make_weekday_room("另一咨询室")
        booking = book(room, at(MONDAY, "10:00"))
        moved = service.move_booking(booking, at(MONDAY, "10:00"), room=other, now=NOW)
        moved.refresh_from_db()
        assert moved.room == other
        assert moved.counsellor.name == "另一咨询室咨询师"

    def test_a_taken_slot_or_a_late_move_is_refused_and_nothing_changes(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        book(room, at(TUESDAY, "10:00"), mobile="13900000000")
        refused("taken", service.move_booking, booking, at(TUESDAY, "10:00"), now=NOW)
        too_late = refused(
            "too_late_to_move",
            service.move_booking,
            booking,
            at(TUESDAY, "11:00"),
            now=at(MONDAY, "09:00"),
        )
        assert too_late.message == "距离预约时间已不足 2 小时,无法在线改约,请致电咨询室。"
        booking.refresh_from_db()
        assert booking.starts_at == at(MONDAY, "10:00")

    def test_exactly_at_the_cut_off_it_can_still_be_moved(self, room, settings):
        settings.COUNSELING_CANCEL_CUTOFF_HOURS = 2
        booking = book(room, at(MONDAY, "10:00"))
        moved = service.move_booking(booking, at(TUESDAY, "11:00"), now=at(MONDAY, "08:00"))
        moved.refresh_from_db()
        assert moved.starts_at == at(TUESDAY, "11:00")

    def test_moves_within_a_day_at_its_cap(self, room):
        room.daily_cap = 1
        room.save()
        booking = book(room, at(MONDAY, "10:00"))
        moved = service.move_booking(booking, at(MONDAY, "11:00"), now=NOW)
        assert moved.starts_at == at(MONDAY, "11:00")

    def test_a_cancelled_booking_cannot_be_moved(self, room):
        booking = service.cancel_by_resident(book(room, at(MONDAY, "10:00")), now=NOW)
        refusal = refused(
            "not_active", service.move_booking, booking, at(TUESDAY, "10:00"), now=NOW
        )
        assert refusal.message == "这个预约已经取消或已结束,不能改约。"
        booking.refresh_from_db()
        assert booking.starts_at == at(MONDAY, "10:00")

    def test_a_moved_booking_gets_a_new_reminder(self, room):
        booking = book(room, at(TUESDAY, "10:00"))
        assert service.send_reminders(now=NOW) == 1
        moved = service.move_booking(booking, at(TUESDAY, "11:00"), now=NOW)
        assert moved.reminder_sent_at is None


class TestReminders:
    def test_only_confirmed_bookings_are_reminded(self, room):
        kept = book(room, at(TUESDAY, "10:00"))
        cancelled = service.cancel_by_resident(
            book(room, at(TUESDAY, "11:00"), mobile="13900000000"), now=NOW
        )
        assert service.send_reminders(now=NOW) == 1
        kept.refresh_from_db()
        cancelled.refresh_from_db()
        assert kept.reminder_sent_at is not None and cancelled.reminder_sent_at is None

    def test_each_of_tomorrows_bookings_is_reminded_once(self, room):
        tomorrow = [
            book(room, at(TUESDAY, "09:00")),
            book(room, at(TUESDAY, "11:00"), mobile="13900000000"),
        ]
        today = book(room, at(MONDAY, "11:00"), mobile="13700000000")
        assert service.send_reminders(now=NOW) == 2
        assert service.send_reminders(now=NOW + datetime.timedelta(hours=1)) == 0
        reminded = Notification.objects.filter(kind=Notification.Kind.REMINDER)
        assert sorted(n.booking_id for n in reminded) == sorted(b.pk for b in tomorrow)
        for booking in tomorrow:
            booking.refresh_from_db()
            assert booking.reminder_sent_at == NOW
        today.refresh_from_db()
        assert today.reminder_sent_at is None


class TestOutcome:
    def test_attended_and_no_show_are_recorded(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        assert service.record_outcome(booking, Booking.Status.ATTENDED).status == "attended"
        assert service.record_outcome(booking, Booking.Status.NO_SHOW).status == "no_show"
        booking.refresh_from_db()
        assert booking.status == Booking.Status.NO_SHOW

    def test_nothing_is_recorded_before_the_session_begins(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        early = refused(
            "not_started",
            service.record_outcome,
            booking,
            Booking.Status.NO_SHOW,
            now=at(MONDAY, "09:59"),
        )
        assert early.message == "这次预约 9月14日 10:00 才开始,开始之后才能标记到访情况。"
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
        service.record_outcome(booking, Booking.Status.ATTENDED, now=at(MONDAY, "10:00"))
        booking.refresh_from_db()
        assert booking.status == Booking.Status.ATTENDED

    def test_a_cancelled_booking_has_no_outcome(self, room):
        booking = service.cancel_by_resident(book(room, at(MONDAY, "10:00")), now=NOW)
        refusal = refused("not_active", service.record_outcome, booking, Booking.Status.ATTENDED)
        assert refusal.message == "已取消的预约不能标记到访情况。"
        with pytest.raises(ValueError):
            service.record_outcome(booking, Booking.Status.CANCELLED)
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED


class TestErasure:
    def test_erases_the_residents_details_and_keeps_what_statistics_need(self, room):
        ended = service.cancel_by_staff(
            book(
                room, at(MONDAY, "10:00"), email="a@example.com", note="睡不好", note_consent=True
            ),
            "咨询师临时有事",
            now=NOW,
        )
        later = book(room, at(TUESDAY, "10:00"), mobile="13900000000", email="b@example.com")
        erased_at = at(TUESDAY, "20:00")

        erased, _messages = service.erase_personal_data(at(TUESDAY, "00:00"), now=erased_at)

        assert erased == 1
        ended = Booking.objects.get(pk=ended.pk)
        personal = ("name", "mobile", "mobile_hash", "email", "note", "cancel_reason")
        assert [getattr(ended, field) for field in personal] == ["已删除", "", "", "", "", ""]
        assert (ended.personal_data_erased_at, ended.updated_at) == (erased_at, erased_at)
        assert (ended.room, ended.starts_at, ended.ends_at) == (
            room,
            at(MONDAY, "10:00"),
            at(MONDAY, "10:50"),
        )
        assert (ended.status, ended.visit_type) == (
            Booking.Status.STAFF_CANCELLED,
            Booking.VisitType.FIRST,
        )
        assert not Booking.objects.for_mobile("13800000001").exists()
        later = Booking.objects.get(pk=later.pk)
        assert (later.name, later.mobile, later.email) == ("张女士", "13900000000", "b@example.com")
        assert later.personal_data_erased_at is None

    def test_a_second_run_finds_nothing_left_to_erase(self, room):
        booking = book(room, at(MONDAY, "10:00"))
        first_run = at(TUESDAY, "20:00")
        service.erase_personal_data(at(TUESDAY, "00:00"), now=first_run)
        assert service.erase_personal_data(at(TUESDAY, "00:00"), now=NOW + WEEK) == (0, 0)
        booking.refresh_from_db()
        assert (booking.personal_data_erased_at, booking.updated_at) == (first_run, first_run)

    def test_deletes_the_messages_of_erased_bookings_and_any_older_than_the_cut_off(self, room):
        cut_off = at(TUESDAY, "00:00")
        ended = book(room, at(MONDAY, "10:00"))
        later = book(room, at(TUESDAY, "10:00"), mobile="13900000000")
        service.move_booking(later, at(TUESDAY, "11:00"), now=NOW)
        before, after = cut_off - WEEK, cut_off + WEEK
        ended.notifications.update(created_at=after)
        later.notifications.filter(kind=Notification.Kind.CONFIRMATION).update(created_at=before)
        later.notifications.filter(kind=Notification.Kind.MOVED).update(created_at=after)

        assert service.erase_personal_data(cut_off, now=at(TUESDAY, "20:00")) == (1, 2)
        assert [(n.booking_id, n.kind) for n in Notification.objects.all()] == [
            (later.pk, Notification.Kind.MOVED)
        ]


class TestKeyRotation:
    def test_every_booking_moves_to_the_new_keys_and_is_otherwise_left_as_it_was(
        self, room, settings
    ):
        residents = {"13800000001": "a@example.com", "13900000000": ""}
        bookings = [
            book(room, at(day, "10:00"), mobile=mobile, email=email)
            for day, (mobile, email) in zip((MONDAY, TUESDAY), residents.items(), strict=True)
        ]
        updated = {b.pk: Booking.objects.get(pk=b.pk).updated_at for b in bookings}
        new_data_key = Fernet.generate_key().decode()
        settings.BOOKING_DATA_KEYS = [new_data_key, *settings.BOOKING_DATA_KEYS]
        settings.BOOKING_LOOKUP_KEYS = ["new lookup key", *settings.BOOKING_LOOKUP_KEYS]

        assert service.rotate_keys() == 2

        settings.BOOKING_DATA_KEYS = [new_data_key]
        settings.BOOKING_LOOKUP_KEYS = ["new lookup key"]
        for booking, (mobile, email) in zip(bookings, residents.items(), strict=True):
            rotated = Booking.objects.for_mobile(mobile).get()
            assert rotated.pk == booking.pk
            assert (rotated.name, rotated.mobile, rotated.email) == ("张女士", mobile, email)
            assert rotated.updated_at == updated[booking.pk]


def number_locks():
    """The advisory locks this session holds, as the 64-bit keys they were taken by."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks"
            " WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        return {key for (key,) in cursor.fetchall()}


@postgres_only
class TestOnPostgresql:
    def test_a_booking_holds_its_number_until_it_commits(self, room):
        """Two rooms booked at once for one number must not both slip under the
        cap: a booking holds its number to the end of its transaction, and any
        other session's booking for that number waits for it."""
        book(room, at(MONDAY, "09:00"))
        (held,) = number_locks()
        book(room, at(MONDAY, "10:00"))
        assert number_locks() == {held}
        book(room, at(MONDAY, "11:00"), mobile="13900000000")
        assert len(number_locks()) == 2
        other = other_connection()
        try:
            taken = other.execute("SELECT pg_try_advisory_xact_lock(%s)", [held]).fetchone()
            assert taken == (False,)
        finally:
            other.rollback()
            other.close()

    def test_an_overlap_the_check_missed_is_refused_by_the_database(self, room, monkeypatch):
        """The room lock keeps two checks of one room apart; were a check ever to
        run before another booking committed, the exclusion constraint refuses
        the second row and the resident hears what the check would have said."""
        first = book(room, at(MONDAY, "10:00"))

        def checked_before_first_committed(rooms, now, exclude_booking=None):
            return Availability(rooms, now, exclude_booking=first)

        monkeypatch.setattr(service, "Availability", checked_before_first_committed)
        refusal = refused("taken", book, room, at(MONDAY, "10:00"), mobile="13900000000")
        assert refusal.message == "这个时段刚刚被别人预约了,请选择其他时段。"
        assert list(Booking.objects.all()) == [first]
        assert list(Notification.objects.values_list("booking", flat=True)) == [first.pk]

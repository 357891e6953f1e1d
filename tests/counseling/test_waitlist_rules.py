"""The waitlist's and follow-ups' rules one by one: each refusal's words, who is
offered what and in which order, what a hold, a release and a confirmation
record. Each test pins a rule a change to counseling/booking.py could break
unnoticed."""

import datetime

import pytest
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.booking import BookingRefused
from counseling.models import LOCAL_TZ, Booking, Closure, Counsellor, WaitlistEntry
from tests.counseling.test_waitlist import HALF_HOUR, NOW, day, held, join, make_full_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_room(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return make_full_room()


def refusal(action):
    with pytest.raises(BookingRefused) as refused:
        action()
    return refused.value


def test_each_refusal_to_join_says_why_in_chinese(full_room, settings):
    room, _booked = full_room
    bad = refusal(lambda: join(room, "13900000001", 2, 1))
    assert (bad.code, bad.message) == (
        "bad_days",
        "请选择今天到 9月17日 周四 之间的日期,而且开始日期不能晚于结束日期。",
    )
    join(room, "13900000001")
    again = refusal(lambda: join(room, "13900000001"))
    assert again.message == (
        "这个手机号码已经在这间咨询室候补了。需要改日期,请先在“我的预约”里退出候补再重新登记。"
    )
    settings.COUNSELING_WAITLIST_MAX_PER_MOBILE = 1
    other, _ = make_full_room("第二间", "1350000")
    limit = refusal(lambda: join(other, "13900000001"))
    assert limit.message == "这个手机号码候补的咨询室已经够多了,请先在“我的预约”里退出一个再登记。"
    open_room = make_full_room("第三间", "1340000")[0]
    Booking.objects.filter(room=open_room).update(status=Booking.Status.CANCELLED)
    free = refusal(lambda: join(open_room, "13900000002"))
    assert (free.code, free.message) == ("free", "这段时间还有空余时段,可以直接预约,不用候补。")
    open_room.is_active = False
    open_room.save()
    assert refusal(lambda: join(open_room, "13900000003")).code == "closed"


def test_an_entry_records_when_it_joined(full_room):
    room, _booked = full_room
    assert join(room, "13900000001").created_at == NOW


def test_offers_go_by_when_residents_joined_not_by_row_order(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    later = join(room, "13900000001")
    earlier = join(room, "13900000002")
    WaitlistEntry.objects.filter(pk=earlier.pk).update(created_at=NOW - HALF_HOUR)

    with django_capture_on_commit_callbacks(execute=True):
        holds = service.offer_free_times(room, NOW)
    assert holds == []
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    assert held().get().waitlist_entry_id == earlier.pk
    later.refresh_from_db()
    assert later.state == WaitlistEntry.State.WAITING


def test_only_this_rooms_entries_for_days_still_ahead_are_offered(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    other, _ = make_full_room("别的咨询室", "1350000")
    join(other, "13900000001")
    past = join(room, "13900000002", 0, 1)
    WaitlistEntry.objects.filter(pk=past.pk).update(last_day=day(-1), first_day=day(-1))
    mine = join(room, "13900000003")

    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    assert held().get().waitlist_entry_id == mine.pk


def test_a_hold_is_the_slots_own_time_and_counsellor_with_no_name(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    entry = join(room, "13900000001")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    hold = held().get()
    assert (hold.starts_at, hold.ends_at) == (booked[1].starts_at, booked[1].ends_at)
    assert hold.counsellor_id == booked[1].counsellor_id is not None
    assert hold.name == "" and hold.mobile == entry.mobile
    assert hold.visit_type == Booking.VisitType.FIRST


def test_offer_free_times_returns_the_holds_it_made(full_room):
    room, booked = full_room
    entry = join(room, "13900000001")
    Booking.objects.filter(pk=booked[1].pk).update(status=Booking.Status.CANCELLED)

    holds = service.offer_free_times(room, NOW)

    assert [(h.pk, h.waitlist_entry_id, h.status) for h in holds] == [
        (held().get().pk, entry.pk, Booking.Status.HELD)
    ]


def test_a_release_records_when_and_how_the_entry_ended(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    entry = join(room, "13900000001")
    waiting = join(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
    hold = held().get()
    later = NOW + datetime.timedelta(minutes=5)

    service.decline_hold(hold, now=later)

    hold.refresh_from_db()
    entry.refresh_from_db()
    assert (hold.status, hold.cancelled_at) == (Booking.Status.HOLD_RELEASED, later)
    assert (entry.state, entry.ended_at) == (WaitlistEntry.State.LEFT, later)
    assert held().get().waitlist_entry_id == waiting.pk


def test_leaving_while_waiting_records_when(full_room):
    room, _booked = full_room
    entry = join(room, "13900000001")
    other = join(room, "13900000002")
    later = NOW + HALF_HOUR

    service.leave_waitlist(entry, now=later)

    entry.refresh_from_db()
    other.refresh_from_db()
    assert (entry.state, entry.ended_at) == (WaitlistEntry.State.LEFT, later)
    assert other.state == WaitlistEntry.State.WAITING and other.ended_at is None
    # Leaving again changes nothing.
    assert service.leave_waitlist(entry, now=later + HALF_HOUR).ended_at == later


def test_confirming_records_the_details_and_when_and_keeps_a_note_only_with_consent(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    entry = join(room, "13900000001")
    join(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
        service.cancel_by_resident(booked[2], now=NOW)
    first, second = held().order_by("starts_at")
    at = NOW + datetime.timedelta(minutes=10)

    with_note = service.claim_hold(
        first,
        name="王阿姨",
        visit_type="follow_up",
        email="wang@example.com",
        note="睡不好",
        note_consent=True,
        now=at,
    )
    without = service.claim_hold(second, name="李先生", visit_type="first", note="不想存", now=at)

    assert (with_note.note, with_note.note_consent_at) == ("睡不好", at)
    assert (with_note.email, with_note.visit_type) == ("wang@example.com", "follow_up")
    assert (without.note, without.note_consent_at) == ("", None)
    assert Booking.objects.get(pk=without.pk).note == ""
    entry.refresh_from_db()
    assert (entry.state, entry.ended_at) == (WaitlistEntry.State.BOOKED, at)
    lapsed = refusal(lambda: service.claim_hold(first, name="x", visit_type="first", now=at))
    assert (lapsed.code, lapsed.message) == (
        "hold_lapsed",
        "为您保留的时间已过,这个时段已让给下一位居民。您可以选择其他时间,或重新登记候补。",
    )


def test_a_refused_confirmation_says_why_and_the_release_records_when(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    entry = join(room, "13900000001")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
    hold = held().get()
    Closure.objects.create(
        room=room, starts_at=hold.starts_at, ends_at=hold.ends_at, reason="消防检查"
    )
    at = NOW + datetime.timedelta(minutes=3)

    refused = refusal(lambda: service.claim_hold(hold, name="王阿姨", visit_type="first", now=at))

    assert (refused.code, refused.message) == ("closed", "咨询室这一天不开放,请选择其他日期。")
    hold.refresh_from_db()
    entry.refresh_from_db()
    assert (hold.status, hold.cancelled_at) == (Booking.Status.HOLD_RELEASED, at)
    assert (entry.state, entry.ended_at) == (WaitlistEntry.State.MISSED, at)


def test_the_mobile_limit_at_confirmation_passes_the_time_on(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    join(room, "13900000001")
    second = join(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
    hold = held().get()
    settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 1
    # Meanwhile the resident booked another time with the same number.
    other = Booking.objects.get(pk=booked[3].pk)
    other.mobile = "13900000001"
    other.save()

    refused = refusal(lambda: service.claim_hold(hold, name="王阿姨", visit_type="first", now=NOW))

    assert refused.code == "mobile_limit"
    assert held().get().waitlist_entry_id == second.pk


def test_run_waitlist_releases_only_the_holds_that_ran_out(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    join(room, "13900000001")
    join(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
        service.cancel_by_resident(booked[2], now=NOW + datetime.timedelta(minutes=10))
    first, second = held().order_by("hold_expires_at")
    confirmed = booked[3]

    assert service.run_waitlist(now=NOW + HALF_HOUR) == (1, 0, 0)

    first.refresh_from_db()
    second.refresh_from_db()
    confirmed.refresh_from_db()
    assert first.status == Booking.Status.HOLD_RELEASED
    assert second.status == Booking.Status.HELD
    assert confirmed.status == Booking.Status.CONFIRMED


def test_run_waitlist_ends_entries_by_the_local_day(full_room):
    room, _booked = full_room
    entry = join(room, "13900000001", 1, 1)
    # 23:30 in Shanghai on day 1 is still day 1 there, though UTC says 15:30.
    late = datetime.datetime.combine(day(1), datetime.time(23, 30), LOCAL_TZ)
    assert service.run_waitlist(now=late)[1] == 0
    after_midnight = late + HALF_HOUR
    assert service.run_waitlist(now=after_midnight)[1] == 1
    entry.refresh_from_db()
    assert (entry.state, entry.ended_at) == (WaitlistEntry.State.ENDED, after_midnight)


def test_a_follow_up_is_refused_from_a_session_not_attended_or_erased(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    earlier = booked[0]
    assert earlier.counsellor_id is not None
    slot_time = booked[1].starts_at
    message = "找不到上次那位咨询师的安排,请直接选择咨询室和时间预约。"

    not_attended = refusal(lambda: service.book_follow_up(earlier, slot_time, now=NOW))
    assert (not_attended.code, not_attended.message) == ("no_counsellor", message)
    Booking.objects.filter(pk=earlier.pk).update(
        status=Booking.Status.ATTENDED, personal_data_erased_at=NOW
    )
    earlier.refresh_from_db()
    assert refusal(lambda: service.book_follow_up(earlier, slot_time, now=NOW)).code == (
        "no_counsellor"
    )


def test_a_follow_up_is_booked_on_the_clock_it_is_given(full_room):
    room, booked = full_room
    Booking.objects.filter(pk=booked[0].pk).update(status=Booking.Status.ATTENDED)
    Booking.objects.filter(pk=booked[1].pk).update(status=Booking.Status.CANCELLED)
    earlier = Booking.objects.get(pk=booked[0].pk)
    # In September by the clock given, though the real one says otherwise.
    follow_up = service.book_follow_up(earlier, booked[1].starts_at, now=NOW)
    assert follow_up.created_at <= timezone.now()
    assert follow_up.starts_at == booked[1].starts_at
    assert follow_up.counsellor == Counsellor.objects.get(pk=earlier.counsellor_id)


def test_availability_of_a_follow_up_is_its_counsellors_only(full_room):
    room, booked = full_room
    Booking.objects.filter(pk=booked[1].pk).update(status=Booking.Status.CANCELLED)
    earlier = booked[0]
    free = Availability([room], NOW)
    assert [s.start for s in service.follow_up_slots(free, earlier)] == [booked[1].starts_at]
    Booking.objects.filter(pk=earlier.pk).update(counsellor=None)
    earlier.refresh_from_db()
    assert service.follow_up_slots(free, earlier) == []


@pytest.mark.parametrize(
    "quiet,clock,is_quiet,texted_at",
    [
        ((21, 8), "20:59", False, None),
        ((21, 8), "21:00", True, "2026-09-15 08:00"),
        ((21, 8), "23:17", True, "2026-09-15 08:00"),
        ((21, 8), "07:59", True, "2026-09-14 08:00"),
        ((21, 8), "08:00", False, None),
        ((12, 14), "13:05", True, "2026-09-14 14:00"),
        ((12, 14), "11:59", False, None),
        ((12, 14), "14:00", False, None),
        ((0, 0), "03:00", False, None),
    ],
)
def test_quiet_hours_and_when_a_hold_made_in_them_runs_out(
    settings, quiet, clock, is_quiet, texted_at
):
    settings.COUNSELING_WAITLIST_QUIET_HOURS = quiet
    at = datetime.datetime.combine(day(0), datetime.time.fromisoformat(clock), LOCAL_TZ)
    session = at + datetime.timedelta(days=2)

    assert service.in_quiet_hours(at) is is_quiet
    sent = datetime.datetime.fromisoformat(texted_at).replace(tzinfo=LOCAL_TZ) if texted_at else at
    assert service.hold_ends(at, session) == sent + HALF_HOUR
    assert service.hold_ends(at, at + datetime.timedelta(minutes=10)) == at + datetime.timedelta(
        minutes=10
    )


def test_only_bookings_and_holds_still_ahead_count_against_the_limit(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 1
    mobile = booked[0].mobile
    Booking.objects.filter(pk=booked[3].pk).update(status=Booking.Status.CANCELLED)
    service.cancel_by_resident(booked[0], now=NOW - datetime.timedelta(hours=3))
    # A past session of the same number, and its cancelled booking, do not count.
    join(room, mobile, 1, 2)
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
    assert held().get().mobile == mobile


def test_an_inactive_room_refuses_to_take_a_waitlist_entry_and_says_so(full_room):
    room, _booked = full_room
    room.is_active = False
    room.save()
    refused = refusal(lambda: join(room, "13900000001"))
    assert (refused.code, refused.message) == ("closed", "咨询室这一天不开放,请选择其他日期。")


def test_leaving_releases_only_ones_own_hold_and_records_when(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    mine = join(room, "13900000001")
    theirs = join(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
        service.cancel_by_resident(booked[2], now=NOW)
    my_hold = held().get(waitlist_entry=mine)
    later = NOW + datetime.timedelta(minutes=7)

    service.leave_waitlist(mine, now=later)

    my_hold.refresh_from_db()
    assert (my_hold.status, my_hold.cancelled_at) == (Booking.Status.HOLD_RELEASED, later)
    assert held().get(waitlist_entry=theirs).status == Booking.Status.HELD


def test_run_waitlist_counts_every_release_and_offer_and_leaves_confirmed_holds_be(
    django_capture_on_commit_callbacks,
):
    rooms = [make_full_room(f"候补室{n}", f"13{n}0000") for n in range(1, 3)]
    # Entry ids differ from room ids: one more entry in the first room.
    for room, _booked in rooms:
        join(room, f"139{room.pk:04d}0001")
        join(room, f"139{room.pk:04d}0002")
    (first, first_booked), (second, second_booked) = rooms
    join(first, "13977770003")
    join(second, "13977770004")
    with django_capture_on_commit_callbacks(execute=True):
        for booked in (first_booked, second_booked):
            service.cancel_by_resident(booked[1], now=NOW)
            service.cancel_by_resident(booked[2], now=NOW)
    claimed = held().filter(room=second).order_by("starts_at").first()
    service.claim_hold(claimed, name="王阿姨", visit_type="first", now=NOW)
    later = NOW + HALF_HOUR

    with django_capture_on_commit_callbacks(execute=True):
        released, ended, made = service.run_waitlist(now=later)

    assert (released, ended, made) == (3, 0, 2)
    claimed.refresh_from_db()
    assert claimed.status == Booking.Status.CONFIRMED
    assert set(
        Booking.objects.filter(status=Booking.Status.HOLD_RELEASED).values_list(
            "cancelled_at", flat=True
        )
    ) == {later}


def test_run_waitlist_offers_time_added_in_a_room_other_than_the_first(
    django_capture_on_commit_callbacks,
):
    first, _ = make_full_room("候补室甲", "1310000")
    second, second_booked = make_full_room("候补室乙", "1320000")
    for n in range(3):
        join(first, f"1390000100{n}")
    entry = join(second, "13900002001")
    # A coordinator frees time without any booking change: the booking goes.
    Booking.objects.filter(pk=second_booked[2].pk).delete()

    with django_capture_on_commit_callbacks(execute=True):
        assert service.run_waitlist(now=NOW)[2] == 1

    assert held().get().waitlist_entry == entry

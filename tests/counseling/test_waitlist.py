"""The waitlist (候补): a freed time is held for the first resident waiting for
it, for half an hour, then passed on; nobody else can book it meanwhile, and it
is never given to two residents nor lost."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.booking import BookingRefused
from counseling.models import LOCAL_TZ, Booking, Counsellor, DutyShift, Notification, WaitlistEntry
from portal.core import outbox
from portal.core.sms import MemoryBackend
from tests.factories import make_full_room as full_room_at
from tests.factories import make_weekday_room

NOW = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL_TZ)  # a Monday
MONDAY = NOW.date()
HALF_HOUR = datetime.timedelta(minutes=30)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and the exclusion constraint exist only on PostgreSQL; "
    "set DATABASE_URL=postgres://... to run",
)


def day(n):
    return MONDAY + datetime.timedelta(days=n)


def make_full_room(name="候补测试室", mobiles="1370000"):
    """booked[n] is day n's 9:00 session."""
    room, booked = full_room_at(name, mobiles, now=NOW)
    assert len(booked) == 4
    return room, booked


def join(room, mobile, first=1, last=3, **kwargs):
    return service.join_waitlist(
        room=room, first_day=day(first), last_day=day(last), mobile=mobile, now=NOW, **kwargs
    )


def held(**filters):
    return Booking.objects.filter(status=Booking.Status.HELD, **filters)


def texts_to(mobile):
    return [text for to, text in MemoryBackend.outbox if to == mobile]


@pytest.fixture
def full_room(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return make_full_room()


def test_a_resident_cannot_wait_for_days_that_still_have_a_free_time(db):
    room = make_weekday_room("有空位的咨询室", weekdays="MO,TU,WE,TH,FR,SA,SU", hours=(9, 10))

    with pytest.raises(BookingRefused) as refused:
        join(room, "13900000001")

    assert refused.value.code == "free" and "可以直接预约" in refused.value.message
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize(
    "first,last",
    [(-1, 2), (2, 1), (1, 30)],
    ids=["before today", "backwards", "beyond the horizon"],
)
def test_days_outside_what_can_be_booked_are_refused(full_room, first, last):
    room, _booked = full_room
    with pytest.raises(BookingRefused) as refused:
        join(room, "13900000001", first, last)
    assert refused.value.code == "bad_days"
    assert not WaitlistEntry.objects.exists()


def test_one_mobile_waits_once_per_room_and_for_few_rooms(full_room, settings):
    room, _booked = full_room
    join(room, "13900000001")
    with pytest.raises(BookingRefused) as again:
        join(room, "13900000001")
    assert again.value.code == "already_waiting"

    settings.COUNSELING_WAITLIST_MAX_PER_MOBILE = 1
    other, _ = make_full_room("另一间候补测试室", "1350000")
    with pytest.raises(BookingRefused) as too_many:
        join(other, "13900000001")
    assert too_many.value.code == "waitlist_limit"
    assert WaitlistEntry.objects.count() == 1


def test_a_cancelled_time_is_held_for_the_first_resident_waiting_and_texted(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    first = join(room, "13900000001", 2, 3)
    second = join(room, "13900000002", 1, 3)

    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[2], now=NOW)  # day 2, which both want

    hold = held().get()
    assert hold.waitlist_entry == first and hold.mobile == "13900000001"
    assert hold.starts_at == booked[2].starts_at
    assert hold.hold_expires_at == NOW + HALF_HOUR
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("offered", "waiting")
    [offer] = texts_to("13900000001")
    assert "候补的时间有空位了" in offer and "9月16日" in offer and "07:30" in offer
    assert "心理" not in offer and "咨询" not in offer
    assert texts_to("13900000002") == []

    # Nobody else can book it while it is held.
    assert Availability([room], NOW).slots(room) == []
    with pytest.raises(BookingRefused) as refused:
        service.create_booking(
            room=room,
            starts_at=booked[2].starts_at,
            name="路人",
            mobile="13600000000",
            visit_type="first",
            now=NOW,
        )
    assert refused.value.code == "taken"


def test_the_resident_confirms_the_held_time_within_the_hold(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    entry = join(room, "13900000001")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_staff(booked[1], "咨询师临时有事", now=NOW)
    hold = held().get()

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = service.claim_hold(
            hold, name="王阿姨", visit_type="first", now=NOW + datetime.timedelta(minutes=29)
        )

    assert confirmed.pk == hold.pk and confirmed.status == Booking.Status.CONFIRMED
    assert confirmed.name == "王阿姨" and confirmed.waitlist_entry == entry
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.BOOKED
    assert "您的预约已确认" in texts_to("13900000001")[-1]


def test_a_hold_that_runs_out_goes_to_the_next_resident(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    first = join(room, "13900000001")
    second = join(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
    hold = held().get()
    later = NOW + HALF_HOUR

    with pytest.raises(BookingRefused) as refused:
        service.claim_hold(hold, name="王阿姨", visit_type="first", now=later)
    assert refused.value.code == "hold_lapsed"

    with django_capture_on_commit_callbacks(execute=True):
        assert service.run_waitlist(now=later) == (1, 0, 1)

    passed_on = held().get()
    assert passed_on.waitlist_entry == second and passed_on.starts_at == hold.starts_at
    assert passed_on.hold_expires_at == later + HALF_HOUR
    first.refresh_from_db()
    assert first.state == WaitlistEntry.State.MISSED
    assert Booking.objects.get(pk=hold.pk).status == Booking.Status.HOLD_RELEASED
    assert len(texts_to("13900000002")) == 1


def test_a_time_nobody_waits_for_any_more_is_free_for_everyone_again(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    join(room, "13900000001")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    service.run_waitlist(now=NOW + HALF_HOUR)

    assert not held().exists()
    assert [s.start for s in Availability([room], NOW + HALF_HOUR).slots(room)] == [
        booked[1].starts_at
    ]


def test_declining_or_leaving_passes_the_time_on(full_room, django_capture_on_commit_callbacks):
    room, booked = full_room
    first = join(room, "13900000001")
    second = join(room, "13900000002")
    third = join(room, "13900000003")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        service.decline_hold(held().get(), now=NOW)
    assert held().get().waitlist_entry == second

    with django_capture_on_commit_callbacks(execute=True):
        service.leave_waitlist(second, now=NOW)
    assert held().get().waitlist_entry == third
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("left", "left")


def test_a_moved_booking_offers_the_time_it_left(full_room, django_capture_on_commit_callbacks):
    room, booked = full_room
    room.horizon_days = 4
    room.save()
    free = Availability([room], NOW).slots(room)
    assert len(free) == 1
    entry = join(room, "13900000001", 1, 1)

    with django_capture_on_commit_callbacks(execute=True):
        service.move_booking(booked[1], free[0].start, now=NOW)

    hold = held().get()
    assert hold.waitlist_entry == entry and hold.starts_at == booked[1].starts_at


def test_a_follow_up_entry_waits_only_for_its_counsellor(
    full_room, django_capture_on_commit_callbacks
):
    room, booked = full_room
    other = Counsellor.objects.create(name="另一位咨询师")
    mine = booked[1].counsellor
    assert mine is not None and mine != other
    waits_for_other = join(room, "13900000001", counsellor=other)
    waits_for_mine = join(room, "13900000002", counsellor=mine)

    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    hold = held().get()
    assert hold.waitlist_entry == waits_for_mine
    assert hold.visit_type == Booking.VisitType.FOLLOW_UP
    waits_for_other.refresh_from_db()
    assert waits_for_other.state == WaitlistEntry.State.WAITING
    assert DutyShift.objects.filter(counsellor=other).count() == 0


def test_a_resident_at_the_mobile_limit_is_passed_over(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 1
    at_limit = booked[2].mobile
    join(room, at_limit, 1, 1)
    next_one = join(room, "13900000002", 1, 1)

    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    assert held().get().waitlist_entry == next_one


def test_an_offer_confirmed_before_a_retry_is_not_sent_late(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    join(room, "13900000001")
    settings.SMS_BACKEND = "tests.provider_sms.ProviderBackend"  # the gateway refuses
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
    offer = Notification.objects.get(kind=Notification.Kind.OFFER)
    assert offer.state == Notification.State.PENDING
    service.claim_hold(held().get(), name="王阿姨", visit_type="first", now=NOW)

    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    outbox.retry_all_due(now=timezone.now() + datetime.timedelta(hours=1))

    offer.refresh_from_db()
    assert offer.state == Notification.State.FAILED and offer.last_error == "offer no longer held"
    assert not any("有空位" in text for text in texts_to("13900000001"))


def test_waiting_ends_when_the_days_have_passed_and_the_purge_erases_the_mobile(full_room):
    room, _booked = full_room
    entry = join(room, "13900000001", 1, 2)

    assert service.run_waitlist(now=NOW + datetime.timedelta(days=3)) == (0, 1, 0)
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.ENDED

    service.erase_personal_data(NOW + datetime.timedelta(days=4))
    entry.refresh_from_db()
    assert entry.mobile == "" and entry.mobile_hash == "" and entry.personal_data_erased_at
    assert (entry.room, entry.first_day, entry.state) == (room, day(1), "ended")


# --- Races (PostgreSQL: row locks and the exclusion constraint) --------------


def run_at_once(*actions):
    """Run each action on its own thread and connection, released together;
    return what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(number, action):
        try:
            barrier.wait()
            outcomes[number] = action()
        except Exception as error:  # noqa: BLE001 - every outcome is inspected
            outcomes[number] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def public_booking(room, start, number, now):
    return lambda: service.create_booking(
        room=room,
        starts_at=start,
        name=f"居民{number}",
        mobile=f"1360000{number:04d}",
        visit_type="first",
        now=now,
    )


def blocking_at(room, start):
    return list(Booking.objects.blocking().filter(room=room, starts_at=start))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_freed_time_raced_for_by_the_public_goes_to_the_resident_waiting():
    room, booked = make_full_room()
    entry = join(room, "13900000001")
    start = booked[1].starts_at

    outcomes = run_at_once(
        lambda: service.cancel_by_resident(booked[1], now=NOW),
        *(public_booking(room, start, n, NOW) for n in range(12)),
    )

    errors = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, BookingRefused)]
    assert errors == []
    assert isinstance(outcomes[0], Booking)
    # Each resident who raced was refused: before the cancel it was booked,
    # after it the waitlist held it in the same transaction.
    assert {o.code for o in outcomes[1:]} == {"taken"}
    [holder] = blocking_at(room, start)
    assert holder.status == Booking.Status.HELD and holder.waitlist_entry_id == entry.pk


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_hold_running_out_while_everyone_races_is_given_once_and_never_lost():
    room, booked = make_full_room()
    first = join(room, "13900000001")
    second = join(room, "13900000002")
    service.cancel_by_resident(booked[1], now=NOW)
    start = booked[1].starts_at
    hold = Booking.objects.get(status=Booking.Status.HELD)
    assert hold.waitlist_entry_id == first.pk
    later = NOW + HALF_HOUR

    outcomes = run_at_once(
        lambda: service.claim_hold(hold, name="迟到的人", visit_type="first", now=later),
        lambda: service.run_waitlist(now=later),
        lambda: service.run_waitlist(now=later),
        *(public_booking(room, start, n, later) for n in range(10)),
    )

    errors = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, BookingRefused)]
    assert errors == []
    assert outcomes[0].code == "hold_lapsed"
    assert all(o.code == "taken" for o in outcomes[3:])
    [holder] = blocking_at(room, start)  # given once
    assert holder.status == Booking.Status.HELD and holder.waitlist_entry_id == second.pk
    assert sorted(o[0] for o in outcomes[1:3]) == [0, 1]  # released once

    # And once nobody waits, the time is free again rather than lost.
    service.run_waitlist(now=later + HALF_HOUR)
    assert blocking_at(room, start) == []
    assert start in [s.start for s in Availability([room], later + HALF_HOUR).slots(room)]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_times_freed_at_once_go_to_two_residents_one_each():
    room, booked = make_full_room()
    first = join(room, "13900000001")
    second = join(room, "13900000002")

    outcomes = run_at_once(
        lambda: service.cancel_by_resident(booked[1], now=NOW),
        lambda: service.cancel_by_staff(booked[2], "停电", now=NOW),
    )

    assert all(isinstance(o, Booking) for o in outcomes)
    holds = Booking.objects.filter(status=Booking.Status.HELD)
    assert sorted(h.waitlist_entry_id for h in holds) == [first.pk, second.pk]
    assert len({h.starts_at for h in holds}) == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_booking_over_a_held_time():
    from django.db import IntegrityError, transaction

    room, booked = make_full_room()
    join(room, "13900000001")
    service.cancel_by_resident(booked[1], now=NOW)
    hold = Booking.objects.get(status=Booking.Status.HELD)

    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            reference="99999999",
            room=room,
            starts_at=hold.starts_at,
            ends_at=hold.ends_at,
            name="绕过服务",
            mobile="13600000000",
        )


def test_a_time_freed_at_night_is_held_and_texted_in_the_morning(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    settings.COUNSELING_WAITLIST_QUIET_HOURS = (21, 8)
    entry = join(room, "13900000001", 2, 3)
    night = datetime.datetime(2026, 9, 14, 23, 0, tzinfo=LOCAL_TZ)

    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[2], now=night)

    hold = held().get()
    assert hold.waitlist_entry == entry
    assert hold.hold_expires_at == datetime.datetime(2026, 9, 15, 8, 30, tzinfo=LOCAL_TZ)
    assert texts_to("13900000001") == []  # nobody is woken
    with django_capture_on_commit_callbacks(execute=True):
        service.run_waitlist(now=night + datetime.timedelta(hours=4))
    assert texts_to("13900000001") == []

    morning = datetime.datetime(2026, 9, 15, 8, 0, tzinfo=LOCAL_TZ)
    with django_capture_on_commit_callbacks(execute=True):
        service.run_waitlist(now=morning)
        service.run_waitlist(now=morning + datetime.timedelta(minutes=1))
    [offer] = texts_to("13900000001")
    assert "9月15日 08:30" in offer


def test_a_hold_never_outlasts_its_session_and_cannot_be_confirmed_once_it_began(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    settings.COUNSELING_WAITLIST_HOLD_MINUTES = 600
    join(room, "13900000001", 0, 3)
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[0], now=NOW - datetime.timedelta(hours=1))

    hold = held().get()
    assert hold.hold_expires_at == hold.starts_at
    with pytest.raises(BookingRefused) as refused:
        service.claim_hold(hold, name="王阿姨", visit_type="first", now=hold.starts_at)
    assert refused.value.code == "hold_lapsed"


def test_a_closure_over_a_held_time_is_refused_at_confirmation_and_passed_on(
    full_room, django_capture_on_commit_callbacks
):
    from counseling.models import Closure

    room, booked = full_room
    first = join(room, "13900000001")
    second = join(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
    hold = held().get()
    # Inside the minimum notice by now, and a coordinator closed the room since.
    late = hold.starts_at - datetime.timedelta(hours=1)
    Booking.objects.filter(pk=hold.pk).update(hold_expires_at=late + HALF_HOUR)
    Closure.objects.create(
        room=room,
        starts_at=hold.starts_at - HALF_HOUR,
        ends_at=hold.ends_at + HALF_HOUR,
        reason="停电",
    )

    with pytest.raises(BookingRefused) as refused:
        service.claim_hold(hold, name="王阿姨", visit_type="first", now=late)

    assert refused.value.code == "closed"
    hold.refresh_from_db()
    first.refresh_from_db()
    assert hold.status == Booking.Status.HOLD_RELEASED  # the release stood
    assert first.state == WaitlistEntry.State.MISSED
    second.refresh_from_db()
    assert second.state == WaitlistEntry.State.WAITING  # nothing free to pass on


def test_holds_count_against_the_mobile_limit(
    full_room, settings, django_capture_on_commit_callbacks
):
    room, booked = full_room
    settings.COUNSELING_MAX_UPCOMING_PER_MOBILE = 1
    other, other_booked = make_full_room("另一间候补测试室", "1350000")
    join(room, "13900000001")
    join(other, "13900000001")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)
        service.cancel_by_resident(other_booked[1], now=NOW)

    assert held().count() == 1  # the second would be over the limit once confirmed


def test_an_offer_that_fails_does_not_undo_the_cancellation(full_room, monkeypatch):
    room, booked = full_room
    join(room, "13900000001")

    def broken(*args, **kwargs):
        raise RuntimeError("availability failed")

    monkeypatch.setattr(service, "_offer_free_times", broken)
    cancelled = service.cancel_by_resident(booked[1], now=NOW)

    assert cancelled.status == Booking.Status.CANCELLED
    assert not held().exists()
    monkeypatch.undo()
    service.run_waitlist(now=NOW)
    assert held().get().starts_at == booked[1].starts_at


def test_an_inactive_room_offers_nothing(full_room, django_capture_on_commit_callbacks):
    room, booked = full_room
    join(room, "13900000001")
    room.is_active = False
    room.save()

    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[1], now=NOW)

    assert not held().exists()

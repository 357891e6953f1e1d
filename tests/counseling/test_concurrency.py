"""No double booking under concurrency: many residents submitting the same slot at
the same moment get exactly one booking and clear refusals, and the database
itself refuses overlapping active bookings in one room."""

import datetime
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.booking import BookingRefused
from counseling.models import LOCAL_TZ, Booking
from tests.factories import make_open_room, make_weekday_room, sms_code

VERIFY = "/counseling/verify/"

NOW = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL_TZ)
SLOT = datetime.datetime(2026, 9, 15, 10, 0, tzinfo=LOCAL_TZ)
CONTENDERS = 24

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the exclusion constraint and row locks exist only on PostgreSQL; "
    "set DATABASE_URL=postgres://... to run",
)


def race(room, contenders=CONTENDERS):
    """Release `contenders` threads at once, each booking SLOT on its own
    connection; return what each got back."""
    barrier = threading.Barrier(contenders)
    outcomes = [None] * contenders

    def submit(number):
        try:
            barrier.wait()
            outcomes[number] = service.create_booking(
                room=room,
                starts_at=SLOT,
                name=f"居民{number}",
                mobile=f"1390000{number:04d}",
                visit_type=Booking.VisitType.FIRST,
                now=NOW,
            )
        except Exception as error:  # noqa: BLE001 - every outcome is inspected below
            outcomes[number] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def assert_exactly_one_winner(outcomes):
    winners = [o for o in outcomes if isinstance(o, Booking)]
    refusals = [o for o in outcomes if isinstance(o, BookingRefused)]
    errors = [o for o in outcomes if not isinstance(o, Booking | BookingRefused)]
    assert errors == []
    assert len(winners) == 1
    assert len(refusals) == len(outcomes) - 1
    assert {refusal.code for refusal in refusals} == {"taken"}
    assert all("刚刚被别人预约" in refusal.message for refusal in refusals)
    stored = Booking.objects.get()
    assert (stored.pk, stored.starts_at) == (winners[0].pk, SLOT)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_for_one_slot_book_it_once_on_postgresql():
    assert_exactly_one_winner(race(make_weekday_room()))


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_for_one_slot_book_it_once_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite write-lock variant of the race")
    if connection.is_in_memory_db():
        pytest.skip(
            "the in-memory test database shares one cache between threads, where SQLite "
            "reports 'table is locked' at once instead of waiting for the write lock; "
            "the race needs a file database (TEST NAME), as production SQLite uses"
        )
    assert_exactly_one_winner(race(make_weekday_room()))


def insert(room, start, minutes=50, status=Booking.Status.CONFIRMED, reference="10000001"):
    return Booking.objects.create(
        reference=reference,
        room=room,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=minutes),
        status=status,
        name="测试",
        mobile="13800000000",
    )


@postgres_only
@pytest.mark.django_db
class TestExclusionConstraint:
    def test_an_overlapping_active_booking_in_the_same_room_is_refused(self):
        room = make_weekday_room()
        insert(room, SLOT)
        with pytest.raises(IntegrityError), transaction.atomic():
            insert(room, SLOT + datetime.timedelta(minutes=30), reference="10000002")
        assert Booking.objects.count() == 1

    def test_back_to_back_bookings_do_not_overlap(self):
        room = make_weekday_room()
        insert(room, SLOT)
        insert(room, SLOT + datetime.timedelta(minutes=50), reference="10000002")
        assert Booking.objects.count() == 2

    def test_a_cancelled_booking_does_not_hold_its_time(self):
        room = make_weekday_room()
        insert(room, SLOT, status=Booking.Status.CANCELLED)
        insert(room, SLOT, reference="10000002")
        assert Booking.objects.count() == 2

    def test_reviving_a_cancelled_booking_into_a_taken_slot_is_refused(self):
        room = make_weekday_room()
        cancelled = insert(room, SLOT, status=Booking.Status.CANCELLED)
        insert(room, SLOT, reference="10000002")
        cancelled.status = Booking.Status.CONFIRMED
        with pytest.raises(IntegrityError), transaction.atomic():
            cancelled.save()

    def test_the_same_time_in_another_room_is_allowed(self):
        insert(make_weekday_room(), SLOT)
        insert(make_weekday_room("另一咨询室"), SLOT, reference="10000002")
        assert Booking.objects.count() == 2


def residents_at_the_code_step(room, slot_start, count):
    """`count` residents, each with a browser of its own that filled in the form
    for the same slot and got the SMS code: (client, code) pairs."""
    local = slot_start.astimezone(LOCAL_TZ)
    url = reverse(
        "counseling:book", kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()}
    )
    waiting = []
    for number in range(count):
        client = Client()
        mobile = f"1370000{number:04d}"
        form = {"name": f"居民{number}", "mobile": mobile, "visit_type": "first", "website": ""}
        response = client.post(url, form, REMOTE_ADDR=f"198.51.100.{number + 1}")
        assert response["Location"] == VERIFY
        waiting.append((client, sms_code(mobile)))
    return waiting


@pytest.mark.django_db(transaction=True)
def test_residents_typing_their_codes_at_once_for_one_slot_book_it_once(settings):
    """The race through the site: every resident has the form filled in and the
    code in hand; all send the code at the same moment."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the race needs a file database, as production SQLite uses")
    room = make_open_room()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    slot = next(s for s in Availability([room]).slots(room) if s.day >= tomorrow)
    waiting = residents_at_the_code_step(room, slot.start, 12)
    barrier = threading.Barrier(len(waiting))
    answers = [None] * len(waiting)

    def type_code(number):
        client, code = waiting[number]
        try:
            barrier.wait()
            answers[number] = client.post(VERIFY, {"code": code})
        finally:
            connection.close()

    threads = [threading.Thread(target=type_code, args=(n,)) for n in range(len(waiting))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(302) == 1, statuses
    assert statuses.count(400) == len(waiting) - 1, statuses
    for answer in answers:
        if answer.status_code == 400:
            assert "这个时段刚刚被别人预约了" in answer.content.decode()
    assert Booking.objects.count() == 1
    winner = statuses.index(302)
    assert Booking.objects.get().name == f"居民{winner}"

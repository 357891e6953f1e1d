"""The operations commands (purge_bookings; send_reminders is covered with the
messages) and the demo data."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from schedule.models import Event, Rule

import demo.rooms
from counseling import booking as service
from counseling.availability import Availability
from counseling.models import (
    Booking,
    Counsellor,
    DutyShift,
    Notification,
    OpeningHours,
    Room,
)
from demo import content
from portal.core.models import MobileCode
from tests.factories import make_weekday_room


@pytest.fixture
def room(db):
    """A room open every day from long ago, so bookings can be made in the past."""
    return make_weekday_room(
        address="测试路 1 号",
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(9, 17),
        starts_on=datetime.date(2024, 1, 1),
        counsellor="刘静",
    )


def book_as_of(room, days_ago, mobile, **fields):
    """A booking made `days_ago` days back in its first free slot, with its
    message records dated then too."""
    then = timezone.now() - datetime.timedelta(days=days_ago)
    slot = Availability([room], then).slots(room)[0]
    booking = service.create_booking(
        room=room,
        starts_at=slot.start,
        name="张女士",
        mobile=mobile,
        email="resident@example.com",
        visit_type=Booking.VisitType.FOLLOW_UP,
        note="最近睡不好",
        note_consent=True,
        now=then,
        **fields,
    )
    Notification.objects.filter(booking=booking).update(created_at=then)
    return booking


def purge(*args):
    out = StringIO()
    call_command("purge_bookings", *args, stdout=out)
    return out.getvalue()


class TestPurgeBookings:
    def test_erases_personal_data_after_the_retention_period_and_keeps_counts(self, room):
        old = book_as_of(room, 200, "13800000001")
        service.cancel_by_staff(
            book_as_of(room, 199, "13800000002"), "张女士家中有事", now=old.starts_at
        )
        recent = book_as_of(room, 10, "13800000003")

        assert "已删除 2 个预约的个人信息" in purge()

        for booking in Booking.objects.filter(mobile=""):
            assert (booking.name, booking.email, booking.note, booking.cancel_reason) == (
                "已删除",
                "",
                "",
                "",
            )
            assert booking.personal_data_erased_at is not None
        old.refresh_from_db()
        assert old.room == room
        assert old.visit_type == Booking.VisitType.FOLLOW_UP
        assert old.status == Booking.Status.CONFIRMED
        assert not Booking.objects.for_mobile("13800000001").filter(pk=old.pk).exists()
        assert not Notification.objects.exclude(booking=recent).exists()

        recent.refresh_from_db()
        assert (recent.name, recent.mobile, recent.note) == ("张女士", "13800000003", "最近睡不好")
        assert recent.personal_data_erased_at is None
        assert Notification.objects.filter(booking=recent).exists()
        assert Booking.objects.count() == 3

    def test_sms_code_records_older_than_a_day_are_deleted(self, room):
        now = timezone.now()
        for age in (datetime.timedelta(days=2), datetime.timedelta(hours=1)):
            MobileCode.objects.create(
                mobile_hash="a" * 64,
                requester_hash="b" * 64,
                code_hash="c" * 64,
                created_at=now - age,
                expires_at=now - age + datetime.timedelta(minutes=5),
            )
        assert "删除过期的短信验证码 1 条" in purge()
        [kept] = MobileCode.objects.all()
        assert now - kept.created_at < datetime.timedelta(days=1)

    def test_running_twice_erases_once(self, room):
        old = book_as_of(room, 200, "13800000001")
        purge()
        erased_at = Booking.objects.get(pk=old.pk).personal_data_erased_at
        assert "已删除 0 个预约" in purge()
        assert Booking.objects.get(pk=old.pk).personal_data_erased_at == erased_at

    def test_the_period_comes_from_the_option_or_the_setting(self, room, settings):
        book_as_of(room, 10, "13800000003")
        assert "已删除 0 个预约" in purge()
        settings.COUNSELING_RETENTION_DAYS = 30
        assert "已删除 0 个预约" in purge()
        assert "已删除 1 个预约" in purge("--days", "5")
        with pytest.raises(CommandError):
            purge("--days", "-1")


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Room, Counsellor, OpeningHours, DutyShift, Booking, Event, Rule)
    }


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_every_room_takes_bookings():
    demo.rooms.seed()
    first = counts()
    demo.rooms.seed()
    assert counts() == first
    assert first["Room"] == 6
    assert first["Counsellor"] == len(content("rooms")["counsellors"])
    assert 1 <= first["Booking"] <= len(content("rooms")["residents"])

    rooms = list(Room.objects.all())
    availability = Availability(rooms)
    for room in rooms:
        assert availability.next_free_day(room) is not None, room
        assert room.duty_shifts.exists() and room.opening_bands.exists()

"""Follow-ups (再次咨询): the next session with the same counsellor, booked by
the resident from 我的预约 or by the coordinator at the end of a session; only
that counsellor's times are offered, and residents read the counsellor's name
only as the coordinator allows."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.booking import BookingRefused
from counseling.models import (
    Booking,
    BookingAccessLog,
    Counsellor,
    DutyShift,
    OpeningHours,
    WaitlistEntry,
)
from portal.core.sms import MemoryBackend
from tests.factories import make_weekday_room, prove_mobile

MOBILE = "13900000001"
START = datetime.date(2026, 1, 1)


@pytest.fixture
def room(db):
    """刘静 on duty Monday, Wednesday, Friday; 王敏 Tuesday and Thursday; 9:00–12:00."""
    room = make_weekday_room("复诊咨询室", weekdays="MO,WE,FR", hours=(9, 12), counsellor="刘静")
    other = Counsellor.objects.create(name="王敏")
    times = {"start_time": datetime.time(9), "end_time": datetime.time(12), "starts_on": START}
    OpeningHours.objects.create(room=room, weekdays="TU,TH", **times)
    DutyShift.objects.create(room=room, counsellor=other, weekdays="TU,TH", **times)
    return room


def attended_session(room, mobile=MOBILE):
    """A session this resident had yesterday, marked attended."""
    now = timezone.now() - datetime.timedelta(days=8)
    slot = next(
        s
        for s in Availability([room], now).slots(room)
        if s.counsellor_id == Counsellor.objects.get(name="刘静").pk
    )
    booking = service.create_booking(
        room=room,
        starts_at=slot.start,
        name="张女士",
        mobile=mobile,
        email="zhang@example.com",
        visit_type="first",
        now=now,
    )
    return service.record_outcome(booking, Booking.Status.ATTENDED)


def test_only_the_same_counsellors_times_are_offered_and_booked(room):
    earlier = attended_session(room)
    liu = earlier.counsellor

    offered = service.follow_up_slots(Availability([room]), earlier)

    assert offered and {s.counsellor_id for s in offered} == {liu.pk}
    assert {s.day.weekday() for s in offered} <= {0, 2, 4}
    other = next(s for s in Availability([room]).slots(room) if s.counsellor_id != liu.pk)
    with pytest.raises(BookingRefused) as refused:
        service.book_follow_up(earlier, other.start)
    assert refused.value.code == "other_counsellor"

    follow_up = service.book_follow_up(earlier, offered[0].start)

    assert (follow_up.counsellor, follow_up.room) == (liu, room)
    assert follow_up.visit_type == Booking.VisitType.FOLLOW_UP
    assert (follow_up.name, follow_up.mobile, follow_up.email) == (
        "张女士",
        MOBILE,
        "zhang@example.com",
    )


def test_the_resident_books_again_with_the_same_counsellor_from_my_bookings(
    room, client, django_capture_on_commit_callbacks
):
    earlier = attended_session(room)
    listing = prove_mobile(client, MOBILE)
    listing = client.get(reverse("yuyue:bookings")) if listing.status_code == 302 else listing
    html = listing.content.decode()
    assert "最近来过的咨询" in html and "再约同一位咨询师" in html
    assert "刘静" not in html  # no name shown unless the coordinator allows it

    days = client.get(reverse("yuyue:follow_up", args=[earlier.reference])).content.decode()
    offered = service.follow_up_slots(Availability([room]), earlier)
    assert reverse("yuyue:follow_up_slots", args=[earlier.reference, offered[0].day]) in days
    tuesday = next(s.day for s in Availability([room]).slots(room) if s.day.weekday() == 1)
    assert reverse("yuyue:follow_up_slots", args=[earlier.reference, tuesday]) not in days

    url = reverse("yuyue:follow_up_slots", args=[earlier.reference, offered[0].day])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"start": offered[0].start.isoformat()})

    assert response.status_code == 302 and response["Location"] == reverse("counseling:done")
    follow_up = Booking.objects.exclude(pk=earlier.pk).get()
    assert follow_up.counsellor == earlier.counsellor
    assert follow_up.visit_type == Booking.VisitType.FOLLOW_UP
    assert "您的预约已确认" in MemoryBackend.outbox[-1][1] or any(
        "您的预约已确认" in text for _to, text in MemoryBackend.outbox
    )


def test_residents_read_the_counsellors_display_name_only_where_allowed(room, client):
    earlier = attended_session(room)
    liu = earlier.counsellor
    liu.display_name = "刘老师"
    liu.save()
    prove_mobile(client, MOBILE)
    follow_up_url = reverse("yuyue:follow_up", args=[earlier.reference])

    assert "刘老师" not in client.get(follow_up_url).content.decode()

    liu.shown_to_residents = True
    liu.save()
    page = client.get(follow_up_url).content.decode()
    assert "刘老师" in page and "刘静" not in page


def test_another_mobile_cannot_follow_up_someone_elses_session(room, client):
    earlier = attended_session(room)
    prove_mobile(client, "13800000009")

    assert client.get(reverse("yuyue:follow_up", args=[earlier.reference])).status_code == 404


def test_with_no_free_time_the_resident_waits_for_that_counsellor_only(room, client):
    earlier = attended_session(room)
    for slot in service.follow_up_slots(Availability([room]), earlier):
        service.create_booking(
            room=room,
            starts_at=slot.start,
            name="别人",
            mobile=f"1370000{slot.start.day:02d}{slot.start.hour:02d}",
            visit_type="first",
        )
    assert service.follow_up_slots(Availability([room]), earlier) == []
    prove_mobile(client, MOBILE)
    assert "这位咨询师近期没有空闲时段" in (
        client.get(reverse("yuyue:follow_up", args=[earlier.reference])).content.decode()
    )

    client.post(reverse("yuyue:follow_up_wait", args=[earlier.reference]))

    entry = WaitlistEntry.objects.get()
    assert (entry.counsellor, entry.room, entry.mobile) == (earlier.counsellor, room, MOBILE)


def test_the_coordinator_books_the_next_session_at_the_end_of_this_one(
    room, admin_client, django_capture_on_commit_callbacks
):
    earlier = attended_session(room)
    detail = admin_client.get(reverse("counseling_booking:inspect", args=[earlier.pk]))
    follow_up_url = reverse("counseling_booking:follow_up", args=[earlier.pk])
    assert follow_up_url in detail.content.decode()

    page = admin_client.get(follow_up_url)
    offered = service.follow_up_slots(Availability([room]), earlier)
    assert page.status_code == 200 and offered[0].start.isoformat() in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(follow_up_url, {"start": offered[0].start.isoformat()})

    follow_up = Booking.objects.exclude(pk=earlier.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("counseling_booking:inspect", args=[follow_up.pk])
    assert follow_up.counsellor == earlier.counsellor and follow_up.mobile == MOBILE
    assert any(to == MOBILE and "您的预约已确认" in text for to, text in MemoryBackend.outbox)
    logged = BookingAccessLog.objects.filter(action="change").latest("at")
    assert {earlier.reference, follow_up.reference} <= set(logged.booking_references.split())


def test_a_session_not_attended_offers_no_follow_up_to_the_coordinator(room, admin_client):
    earlier = attended_session(room)
    Booking.objects.filter(pk=earlier.pk).update(status=Booking.Status.NO_SHOW)

    detail = admin_client.get(reverse("counseling_booking:inspect", args=[earlier.pk]))

    assert reverse("counseling_booking:follow_up", args=[earlier.pk]) not in (
        detail.content.decode()
    )


def test_the_coordinator_cannot_post_a_follow_up_from_a_session_not_attended(room, admin_client):
    earlier = attended_session(room)
    Booking.objects.filter(pk=earlier.pk).update(status=Booking.Status.NO_SHOW)
    offered = service.follow_up_slots(Availability([room]), earlier)

    response = admin_client.post(
        reverse("counseling_booking:follow_up", args=[earlier.pk]),
        {"start": offered[0].start.isoformat()},
    )

    assert response.status_code == 302
    assert Booking.objects.count() == 1

"""The waitlist as residents use it: join from a full room with a proven
mobile, then confirm, decline or leave in 我的预约."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from counseling import booking as service
from counseling.models import Booking, WaitlistEntry
from portal.core.sms import MemoryBackend
from tests.factories import enter_sms_code, make_full_room, make_weekday_room, prove_mobile

MOBILE = "13900000001"


@pytest.fixture
def full_room(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return make_full_room("候补咨询室")


def days_ahead(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def join(client, room, mobile=MOBILE, first=0, last=3):
    url = reverse("counseling:waitlist", args=[room.pk])
    response = client.post(
        url, {"first_day": days_ahead(first), "last_day": days_ahead(last), "mobile": mobile}
    )
    return enter_sms_code(client, response, mobile)


def test_a_full_room_invites_residents_to_wait_and_they_join_with_a_proven_mobile(
    full_room, client
):
    room, _booked = full_room
    days = client.get(reverse("counseling:days", args=[room.pk])).content.decode()
    assert reverse("counseling:waitlist", args=[room.pk]) in days and "登记候补" in days

    form = client.get(reverse("counseling:waitlist", args=[room.pk]))
    assert form.status_code == 200
    assert f'min="{days_ahead(0)}"' in form.content.decode()

    done = join(client, room)

    assert done.status_code == 302 and done["Location"] == reverse("counseling:waitlist_done")
    page = client.get(done["Location"]).content.decode()
    assert "候补日期" in page and room.name in page
    entry = WaitlistEntry.objects.get()
    assert (entry.room, entry.mobile, entry.state) == (room, MOBILE, "waiting")


def test_days_with_a_free_time_are_booked_not_waited_for(db, client):
    room = make_weekday_room("有空的咨询室", weekdays="MO,TU,WE,TH,FR,SA,SU", hours=(9, 12))

    response = join(client, room, first=1, last=3)

    assert response.status_code == 400
    html = response.content.decode()
    assert "可以直接预约" in html and reverse("counseling:days", args=[room.pk]) in html
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize(
    "data,message",
    [
        ({"first_day": "2026-13-01", "last_day": "", "mobile": MOBILE}, "日期格式不对"),
        ({"first_day": days_ahead(2), "last_day": days_ahead(1), "mobile": MOBILE}, "不能早于"),
        ({"first_day": days_ahead(0), "last_day": days_ahead(1), "mobile": "123"}, "手机号码"),
    ],
    ids=["not a date", "backwards", "not a mobile"],
)
def test_bad_input_is_refused_in_chinese_and_stores_nothing(full_room, client, data, message):
    room, _booked = full_room
    MemoryBackend.outbox.clear()
    response = client.post(reverse("counseling:waitlist", args=[room.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WaitlistEntry.objects.exists()
    assert MemoryBackend.outbox == []  # no code was sent


def test_the_resident_confirms_a_held_time_in_my_bookings(
    full_room, client, django_capture_on_commit_callbacks
):
    room, booked = full_room
    join(client, room)
    client.post(reverse("yuyue:leave"))
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[-1])
    hold = Booking.objects.get(status=Booking.Status.HELD)

    listing = prove_mobile(client, MOBILE)
    listing = client.get(reverse("yuyue:bookings")) if listing.status_code == 302 else listing
    html = listing.content.decode()
    assert "候补到的时间,等您确认" in html
    hold_url = reverse("yuyue:hold", args=[hold.reference])
    assert hold_url in html

    assert client.get(hold_url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(hold_url, {"name": "王阿姨", "visit_type": "first"})

    assert response.status_code == 302 and response["Location"] == reverse("counseling:done")
    hold.refresh_from_db()
    assert hold.status == Booking.Status.CONFIRMED and hold.name == "王阿姨"
    assert WaitlistEntry.objects.get().state == WaitlistEntry.State.BOOKED
    assert "预约成功" in client.get(response["Location"]).content.decode()


def test_someone_else_cannot_confirm_a_time_held_for_another(
    full_room, client, django_capture_on_commit_callbacks
):
    room, booked = full_room
    wait(room)
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[-1])
    hold = Booking.objects.get(status=Booking.Status.HELD)

    prove_mobile(client, "13800000009")
    response = client.post(
        reverse("yuyue:hold", args=[hold.reference]), {"name": "冒领", "visit_type": "first"}
    )

    assert response.status_code == 302 and response["Location"] == reverse("yuyue:bookings")
    hold.refresh_from_db()
    assert hold.status == Booking.Status.HELD and hold.name == ""


def wait(room, mobile=MOBILE):
    return service.join_waitlist(
        room=room,
        first_day=timezone.localdate(),
        last_day=timezone.localdate() + datetime.timedelta(days=3),
        mobile=mobile,
    )


def test_declining_a_held_time_passes_it_to_the_next_resident(
    full_room, client, django_capture_on_commit_callbacks
):
    room, booked = full_room
    first = wait(room)
    second = wait(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[-1])
    hold = Booking.objects.get(status=Booking.Status.HELD)
    prove_mobile(client, MOBILE)

    with django_capture_on_commit_callbacks(execute=True):
        declined = client.post(reverse("yuyue:decline_hold", args=[hold.reference]))

    assert declined.status_code == 302
    first.refresh_from_db()
    assert first.state == WaitlistEntry.State.LEFT
    assert Booking.objects.get(status=Booking.Status.HELD).waitlist_entry == second
    assert "留给下一位" in client.get(reverse("yuyue:bookings")).content.decode()


def test_leaving_the_waitlist_from_my_bookings(full_room, client):
    room, _booked = full_room
    entry = wait(room)
    prove_mobile(client, MOBILE)
    listing = client.get(reverse("yuyue:bookings")).content.decode()
    assert "正在候补" in listing and room.name in listing

    client.post(reverse("yuyue:leave_waitlist", args=[entry.pk]))

    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.LEFT
    assert "正在候补" not in client.get(reverse("yuyue:bookings")).content.decode()


def test_another_mobile_cannot_take_someone_off_the_waitlist(full_room, client):
    room, _booked = full_room
    entry = wait(room)
    prove_mobile(client, "13800000009")

    client.post(reverse("yuyue:leave_waitlist", args=[entry.pk]))

    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING


def test_the_cron_command_passes_run_out_holds_on(full_room, django_capture_on_commit_callbacks):
    room, booked = full_room
    wait(room)
    second = wait(room, "13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_resident(booked[-1])
    Booking.objects.filter(status=Booking.Status.HELD).update(hold_expires_at=timezone.now())

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_waitlist", stdout=out)

    assert "到期释放保留 1 个" in out.getvalue()
    assert Booking.objects.get(status=Booking.Status.HELD).waitlist_entry == second


def test_coordinators_see_who_waits_for_what_without_the_mobile(full_room, admin_client):
    room, _booked = full_room
    wait(room)

    listing = admin_client.get("/admin/counseling/waitlist/")

    html = listing.content.decode()
    assert listing.status_code == 200 and room.name in html and "候补中" in html
    assert MOBILE not in html and MOBILE[-4:] not in html

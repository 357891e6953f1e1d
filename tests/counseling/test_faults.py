"""Faults around a booking: the mail server or SMS gateway down, the task worker
killed mid-send, the database too busy to take the booking in time, and the
slot taken between loading the form and sending it. In each case the resident
gets a clear message (never a server error), no booking is lost or made twice,
and the messages held back are delivered once the fault clears."""

import contextlib
import datetime
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from counseling import notifications
from counseling.availability import Availability
from counseling.booking import create_booking
from counseling.models import (
    LOCAL_TZ,
    Booking,
    MobileCode,
    Notification,
)
from counseling.privacy import mobile_digest
from counseling.sms import MemoryBackend, SmsError
from counseling.views import SESSION_KEY
from tests.counseling import fault_worker
from tests.factories import enter_sms_code, make_open_room, prove_mobile, sms_code

ROOT = Path(__file__).resolve().parents[2]
MOBILE = "13912345678"
HERE = __name__
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class GatewayDown:
    """The SMS gateway refuses every message."""

    def send(self, mobile, text):
        raise SmsError("gateway unavailable")


class GatewayBroken:
    """The SMS backend fails in a way nobody planned for."""

    def send(self, mobile, text):
        raise RuntimeError("unexpected response from gateway")


@pytest.fixture
def sms_outbox():
    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


@pytest.fixture
def room(db):
    room = make_open_room()
    return room


def free_slots(room):
    """Free slots from the day after tomorrow: clear of the minimum notice, and of
    the day-before reminder that `send_reminders` would add."""
    first_day = timezone.localdate() + datetime.timedelta(days=2)
    return [slot for slot in Availability([room]).slots(room) if slot.day >= first_day]


def book_url(room, start):
    local = start.astimezone(LOCAL_TZ)
    return reverse(
        "counseling:book", kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()}
    )


def form(**overrides):
    return {"name": "小李", "mobile": MOBILE, "email": "", "visit_type": "first", **overrides}


def open_booking(client, booking):
    """The resident proves the mobile at /yuyue/ and opens the booking."""
    prove_mobile(client, MOBILE)
    client.post("/yuyue/bookings/", {"booking": booking.reference})


def closed_port():
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def later(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_mail_and_sms_down_the_resident_is_booked_and_told_and_messages_follow_once(
    room, settings, sms_outbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    client = Client()
    prove_mobile(client, MOBILE)  # the code came through; then the gateway went down
    sms_outbox.clear()
    settings.COUNSELING_SMS_BACKEND = f"{HERE}.GatewayDown"
    slot = free_slots(room)[0]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(book_url(room, slot.start), form(email="li@example.com"))

    assert response.status_code == 302
    booking = Booking.objects.get()
    done = client.get(response["Location"]).content.decode()
    assert "预约成功" in done and booking.reference_display in done
    held = Notification.objects.filter(booking=booking)
    assert {(n.channel, n.state, n.attempts) for n in held} == {
        ("email", "pending", 1),
        ("sms", "pending", 1),
    }
    assert "ConnectionRefusedError" in held.get(channel="email").last_error

    # The servers are back; cron's next run sends each message exactly once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.COUNSELING_SMS_BACKEND = "counseling.sms.MemoryBackend"
    assert notifications.retry_due(now=later(2)) == 2
    assert notifications.retry_due(now=later(60)) == 0
    assert [m.to for m in mail.outbox] == [["li@example.com"]]
    assert [mobile for mobile, _text in sms_outbox] == [MOBILE]
    assert set(held.values_list("state", flat=True)) == {"sent"}
    assert Booking.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_error_inside_the_task_is_retried_by_the_worker_and_delivered_once(
    room, settings, sms_outbox
):
    settings.TASKS = DATABASE_QUEUE
    settings.COUNSELING_SMS_BACKEND = f"{HERE}.GatewayBroken"
    booking = create_booking(
        room=room,
        starts_at=free_slots(room)[0].start,
        name="小李",
        mobile=MOBILE,
        visit_type="first",
    )
    sms = booking.notifications.get()
    assert DBTaskResult.objects.get().args_kwargs["args"] == [sms.pk]  # queued on commit
    run_worker_here()

    sms.refresh_from_db()
    assert (sms.state, sms.attempts) == ("pending", 1)
    assert "RuntimeError" in sms.last_error
    retry = DBTaskResult.objects.get(status="READY")  # queued for the back-off time
    assert retry.run_after == sms.next_attempt_at

    settings.COUNSELING_SMS_BACKEND = "counseling.sms.MemoryBackend"
    run_worker_here()
    assert sms_outbox == []  # not before its time

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # time passes
    run_worker_here()
    run_worker_here()
    assert [mobile for mobile, _text in sms_outbox] == [MOBILE]
    sms.refresh_from_db()
    assert (sms.state, sms.attempts) == ("sent", 2)


def run_worker_here():
    """The database queue's worker loop, in this process, until the queue is empty."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="fault-test",
        excluded_queue_names=[],
    ).run()


def database_url():
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def run_worker_process(backend, outbox):
    """A separate `db_worker` process on this test database; returns its exit code."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url(),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "tests.counseling.fault_worker", backend, str(outbox)]
    return subprocess.run(command, cwd=ROOT, env=env, timeout=180, check=False).returncode


@pytest.fixture
def resident_booked_through_the_queue(room, settings, client, tmp_path, monkeypatch):
    """A booking made through the site with the database task queue, as in
    production: its text waits in the queue for a worker."""
    settings.TASKS = DATABASE_QUEUE
    outbox = tmp_path / "sms.txt"
    outbox.touch()
    monkeypatch.setenv(fault_worker.OUTBOX, str(outbox))
    response = client.post(book_url(room, free_slots(room)[0].start), form())
    response = enter_sms_code(client, response, MOBILE)
    assert response.status_code == 302 and response["Location"] == reverse("counseling:done")
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    return Booking.objects.get(), outbox


def recover(settings):
    """The worker is restarted and cron runs `send_reminders`, which queues again
    every message still pending; the worker then empties the queue."""
    settings.COUNSELING_SMS_BACKEND = "tests.counseling.fault_worker.FileBackend"
    run_worker_here()
    call_command("send_reminders", stdout=open(os.devnull, "w"))  # noqa: SIM115
    run_worker_here()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_leaves_the_text_pending_and_it_is_sent_once(
    resident_booked_through_the_queue, settings
):
    booking, outbox = resident_booked_through_the_queue
    exit_code = run_worker_process("tests.counseling.fault_worker.DiesWhileSending", outbox)

    assert exit_code == 137
    assert outbox.read_text() == ""
    sms = booking.notifications.get()
    assert (sms.state, sms.attempts) == ("pending", 0)  # the killed attempt left no trace
    # The queue itself never runs a task its worker died in.
    assert DBTaskResult.objects.get().status == "RUNNING"

    recover(settings)
    recover(settings)
    assert outbox.read_text().splitlines() == [f"{MOBILE}\t{notifications.message_text(sms)}"]
    sms.refresh_from_db()
    assert (sms.state, sms.attempts) == ("sent", 1)
    assert Booking.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_gateway_took_the_text_sends_it_again_once_never_zero(
    resident_booked_through_the_queue, settings
):
    """Between the gateway accepting a text and the row being marked sent there is
    no way to know it went out: the text is sent again rather than risk losing it."""
    booking, outbox = resident_booked_through_the_queue
    exit_code = run_worker_process("tests.counseling.fault_worker.DiesAfterSending", outbox)

    assert exit_code == 137
    assert len(outbox.read_text().splitlines()) == 1
    assert booking.notifications.get().state == "pending"

    recover(settings)
    recover(settings)
    assert len(outbox.read_text().splitlines()) == 2
    assert booking.notifications.get().state == "sent"


@contextlib.contextmanager
def held_by_another_connection(room, booking=None):
    """Another connection holds the write lock (SQLite) or the rows of the room
    and the booking (PostgreSQL) until the block ends."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        other = sqlite3.connect(settings_dict["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        other = psycopg.connect(
            dbname=settings_dict["NAME"],
            user=settings_dict["USER"],
            password=settings_dict["PASSWORD"] or None,
            host=settings_dict["HOST"],
            port=settings_dict["PORT"] or 5432,
        )
        other.execute("SELECT id FROM counseling_room WHERE id = %s FOR UPDATE", [room.pk])
        if booking is not None:
            other.execute(
                "SELECT id FROM counseling_booking WHERE id = %s FOR UPDATE", [booking.pk]
            )
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.fixture
def short_lock_wait():
    """Give up waiting for a lock after half a second instead of 20."""
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    if connection.vendor == "sqlite":
        options["timeout"] = 0.5
    else:
        options["options"] = "-c lock_timeout=500"
    connection.close()
    yield
    options.clear()
    options.update(saved)
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_database_too_busy_keeps_what_the_resident_typed_and_the_retry_books_once(
    room, settings, sms_outbox, short_lock_wait
):
    settings.COUNSELING_SMS_BACKEND = "counseling.sms.MemoryBackend"
    client = Client()
    url = book_url(room, free_slots(room)[0].start)
    typed = form(name="王阿姨", note="最近睡不好", note_consent="on")
    prove_mobile(client, MOBILE)
    sms_outbox.clear()

    with held_by_another_connection(room):
        response = client.post(url, typed)

    assert response.status_code == 503
    html = response.content.decode()
    assert "系统繁忙,预约还没有提交成功" in html and 'role="alert"' in html
    assert 'value="王阿姨"' in html and "最近睡不好</textarea>" in html
    assert not Booking.objects.exists() and not Notification.objects.exists()
    assert SESSION_KEY not in client.session

    response = client.post(url, typed)
    assert response.status_code == 302
    assert Booking.objects.get().name == "王阿姨"
    assert [mobile for mobile, _text in sms_outbox] == [MOBILE]


@pytest.mark.django_db(transaction=True)
def test_database_too_busy_to_cancel_or_move_leaves_the_booking_as_it_was(
    room, settings, sms_outbox, short_lock_wait
):
    settings.COUNSELING_SMS_BACKEND = "counseling.sms.MemoryBackend"
    first, other = free_slots(room)[:2]
    booking = create_booking(
        room=room, starts_at=first.start, name="小李", mobile=MOBILE, visit_type="first"
    )
    client = Client()
    open_booking(client, booking)
    move_url = reverse("yuyue:move_slots", args=[other.day])

    with held_by_another_connection(room, booking):
        cancelled = client.post("/yuyue/cancel/")
        moved = client.post(move_url, {"start": other.start.isoformat()})

    for response in (cancelled, moved):
        assert response.status_code == 503
        assert "系统繁忙,这次操作没有完成,预约保持原样" in response.content.decode()
    booking.refresh_from_db()
    assert (booking.status, booking.starts_at) == (Booking.Status.CONFIRMED, first.start)
    assert booking.notifications.count() == 1  # the confirmation only

    assert client.post(move_url, {"start": other.start.isoformat()}).status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == other.start


def test_slot_taken_after_the_form_loaded_keeps_the_typed_details_and_offers_other_times(
    room, client
):
    taken, other = free_slots(room)[:2]
    page = client.get(book_url(room, taken.start))
    assert page.status_code == 200
    create_booking(
        room=room, starts_at=taken.start, name="先到", mobile="13800000000", visit_type="first"
    )

    response = client.post(book_url(room, taken.start), form(name="王阿姨"))
    response = enter_sms_code(client, response, MOBILE)

    html = response.content.decode()
    assert response.status_code == 400
    assert "这个时段刚刚被别人预约了,请选择其他时段。" in html
    assert 'value="王阿姨"' in html
    assert f'action="{book_url(room, taken.start)}"' in html  # not the code step
    assert f'href="{book_url(room, other.start)}"' in html
    assert Booking.objects.count() == 1
    assert not Notification.objects.filter(booking__mobile_hash=mobile_digest(MOBILE)).exists()
    assert client.post(book_url(room, other.start), form(name="王阿姨")).status_code == 302
    assert Booking.objects.filter(mobile_hash=mobile_digest(MOBILE)).count() == 1


def test_slot_taken_while_choosing_a_new_time_leaves_the_booking_where_it_was(room, client):
    first, wanted = free_slots(room)[:2]
    booking = create_booking(
        room=room, starts_at=first.start, name="小李", mobile=MOBILE, visit_type="first"
    )
    open_booking(client, booking)
    move_url = reverse("yuyue:move_slots", args=[wanted.day])
    assert wanted.start.isoformat() in client.get(move_url).content.decode()
    create_booking(
        room=room, starts_at=wanted.start, name="先到", mobile="13800000000", visit_type="first"
    )

    response = client.post(move_url, {"start": wanted.start.isoformat()})

    assert response.status_code == 400
    assert "这个时段刚刚被别人预约了" in response.content.decode()
    booking.refresh_from_db()
    assert booking.starts_at == first.start
    assert not booking.notifications.filter(kind=Notification.Kind.MOVED).exists()


def test_sms_gateway_down_at_the_code_step_keeps_the_form_and_books_once_it_is_back(
    room, settings, client, sms_outbox
):
    settings.COUNSELING_SMS_BACKEND = f"{HERE}.GatewayDown"
    url = book_url(room, free_slots(room)[0].start)
    typed = form(name="王阿姨", note="最近睡不好", note_consent="on")

    response = client.post(url, typed)

    assert response.status_code == 503
    html = response.content.decode()
    assert "短信暂时发不出去,您填写的内容都还在" in html and 'role="alert"' in html
    assert 'value="王阿姨"' in html and "最近睡不好</textarea>" in html
    assert not Booking.objects.exists()
    assert not MobileCode.objects.exists()  # a code that never went out is not kept

    settings.COUNSELING_SMS_BACKEND = "counseling.sms.MemoryBackend"
    response = client.post(url, typed)
    assert response["Location"] == reverse("counseling:verify")
    done = client.post(response["Location"], {"code": sms_code(MOBILE)})
    assert done.status_code == 302
    assert Booking.objects.get().name == "王阿姨"


@pytest.mark.django_db(transaction=True)
def test_database_too_busy_at_the_code_step_keeps_everything_and_the_retry_books_once(
    room, settings, sms_outbox, short_lock_wait
):
    client = Client()
    url = book_url(room, free_slots(room)[0].start)
    typed = form(name="王阿姨")
    assert client.post(url, typed)["Location"] == reverse("counseling:verify")
    code = sms_code(MOBILE)

    with held_by_another_connection(room):
        response = client.post(reverse("counseling:verify"), {"code": code})

    assert response.status_code == 503
    html = response.content.decode()
    assert "系统繁忙,验证码还没有核对" in html and f'value="{code}"' in html
    assert not Booking.objects.exists()
    # The lock held the code check (SQLite) or the booking after it (PostgreSQL);
    # either way the same code, sent again as the page offers, books once.
    retry = client.post(reverse("counseling:verify"), {"code": code})
    assert retry.status_code == 302 and retry["Location"] == reverse("counseling:done")
    assert Booking.objects.get().name == "王阿姨"

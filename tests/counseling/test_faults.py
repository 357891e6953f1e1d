"""Faults around a booking: the mail server or SMS gateway down, the task worker
killed mid-send, the database too busy to take the booking in time, and the
slot taken between loading the form and sending it. In each case the resident
gets a clear message (never a server error), no booking is lost or made twice,
and the messages held back are delivered once the fault clears."""

import contextlib
import datetime
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from wagtail.models import Site

from counseling import notifications
from counseling.availability import Availability
from counseling.booking import create_booking
from counseling.models import (
    LOCAL_TZ,
    Booking,
    Notification,
)
from counseling.views import SESSION_KEY
from portal.core import outbox
from portal.core.models import MobileCode, SiteSettings, WorkerHeartbeat
from portal.core.privacy import mobile_digest
from portal.core.sms import MemoryBackend, SmsError
from portal.core.worker import reclaim_stale_tasks
from tests.counseling import fault_worker
from tests.factories import enter_sms_code, make_open_room, prove_mobile, sms_code
from tests.outages import (
    lock_wait,
    other_connection,
    postgres_only,
    tables_locked,
    terminate_other_backends,
)

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
    """A room on a site whose settings row exists, as on a running site: rendering
    a page then only reads the database, which a lock held elsewhere allows."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is not None:
        SiteSettings.for_site(site)
    return make_open_room()


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
    settings.SMS_BACKEND = f"{HERE}.GatewayDown"
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
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    assert outbox.retry_all_due(now=later(2))[Notification] == 2
    assert outbox.retry_all_due(now=later(60))[Notification] == 0
    assert [m.to for m in mail.outbox] == [["li@example.com"]]
    assert [mobile for mobile, _text in sms_outbox] == [MOBILE]
    assert set(held.values_list("state", flat=True)) == {"sent"}
    assert Booking.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_error_inside_the_task_is_retried_by_the_worker_and_delivered_once(
    room, settings, sms_outbox
):
    settings.TASKS = DATABASE_QUEUE
    settings.SMS_BACKEND = f"{HERE}.GatewayBroken"
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

    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
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


def worker_command(backend, outbox, *mode, **env):
    """A separate `db_worker` process on this test database (command and environment)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url(),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    command = [sys.executable, "-m", "tests.counseling.fault_worker", backend, str(outbox), *mode]
    return command, env


def run_worker_process(backend, outbox):
    """Run the queue once in a worker process of its own; returns its exit code."""
    command, env = worker_command(backend, outbox)
    return subprocess.run(command, cwd=ROOT, env=env, timeout=180, check=False).returncode


@contextlib.contextmanager
def serving_worker(outbox, **env):
    """A worker that keeps running, as production's does, sending through the
    working gateway, until the block ends (SIGTERM, as systemd stops it)."""
    command, env = worker_command(
        "tests.counseling.fault_worker.FileBackend", outbox, "serve", **env
    )
    log = outbox.with_name("worker.log")
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        yield process
    except AssertionError as failed:
        process.send_signal(signal.SIGUSR1)
        time.sleep(1)
        failed.add_note(f"worker log:\n{log.read_text()[-3000:]}")
        raise
    finally:
        process.terminate()
        process.wait(timeout=60)


def seconds_until(condition, limit=60):
    """How long until condition() holds (checked every 0.1 s); fails after `limit`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < limit, f"not within {limit} s"
        time.sleep(0.1)
    return time.monotonic() - started


def texts(outbox):
    return outbox.read_text().splitlines()


@pytest.fixture
def queue_outbox(settings, tmp_path, monkeypatch):
    """The database task queue, as in production, and the phone's outbox file."""
    settings.TASKS = DATABASE_QUEUE
    outbox = tmp_path / "sms.txt"
    outbox.touch()
    monkeypatch.setenv(fault_worker.OUTBOX, str(outbox))
    return outbox


def book_through_the_site(client, room, slot=0):
    response = client.post(book_url(room, free_slots(room)[slot].start), form())
    response = enter_sms_code(client, response, MOBILE)
    assert response.status_code == 302 and response["Location"] == reverse("counseling:done")
    return Booking.objects.latest("pk")


@pytest.fixture
def resident_booked_through_the_queue(room, client, queue_outbox):
    """A booking made through the site: its text waits in the queue for a worker."""
    booking = book_through_the_site(client, room)
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    return booking, queue_outbox


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_leaves_the_text_to_the_next_worker_within_the_lease(
    resident_booked_through_the_queue,
):
    booking, outbox = resident_booked_through_the_queue
    exit_code = run_worker_process("tests.counseling.fault_worker.DiesWhileSending", outbox)

    assert exit_code == 137
    assert texts(outbox) == []
    sms = booking.notifications.get()
    assert (sms.state, sms.attempts) == ("pending", 0)  # the killed attempt left no trace
    assert DBTaskResult.objects.get().status == "RUNNING"  # with a worker that is gone

    killed_at = time.monotonic()
    with serving_worker(outbox):
        seconds_until(lambda: texts(outbox))
        waited = time.monotonic() - killed_at
        time.sleep(2)  # and it is not sent again

    assert texts(outbox) == [f"{MOBILE}\t{notifications.message_text(sms)}"]
    assert waited < fault_worker.LEASE + 15
    sms.refresh_from_db()
    assert (sms.state, sms.attempts) == ("sent", 1)
    task = DBTaskResult.objects.get()
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2
    assert Booking.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_gateway_took_the_text_sends_it_again_once_never_zero(
    resident_booked_through_the_queue,
):
    """Between the gateway accepting a text and the row being marked sent there is
    no way to know it went out: the text is sent again rather than risk losing it."""
    booking, outbox = resident_booked_through_the_queue
    exit_code = run_worker_process("tests.counseling.fault_worker.DiesAfterSending", outbox)

    assert exit_code == 137
    assert len(texts(outbox)) == 1
    assert booking.notifications.get().state == "pending"

    with serving_worker(outbox):
        seconds_until(lambda: len(texts(outbox)) == 2)
        time.sleep(2)

    assert len(texts(outbox)) == 2
    assert booking.notifications.get().state == "sent"


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_dies_every_time_is_given_up_after_three_tries(
    resident_booked_through_the_queue,
):
    """A task that kills its worker (out of memory, say) must not take every
    worker down in turn for ever: after three claims it is failed. Its text stays
    pending for `send_reminders` and the coordinators' list of messages not sent."""
    booking, outbox = resident_booked_through_the_queue
    for _ in range(3):
        assert run_worker_process("tests.counseling.fault_worker.DiesWhileSending", outbox) == 137
        WorkerHeartbeat.objects.update(seen_at=timezone.now() - datetime.timedelta(hours=1))
        reclaim_stale_tasks()

    task = DBTaskResult.objects.get()
    assert task.status == "FAILED" and task.exception_class_path.endswith("AbandonedTask")
    assert booking.notifications.get().state == "pending"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_its_connections_being_cut_and_a_locked_queue(
    room, client, queue_outbox
):
    """A PostgreSQL restart or pg_terminate_backend cuts the worker's connections,
    and a lock on the queue outlasts its lock_timeout: it carries on and sends
    the next text, without anyone restarting it."""
    outbox = queue_outbox
    with serving_worker(outbox, PGOPTIONS="-c lock_timeout=300") as worker:
        seconds_until(WorkerHeartbeat.objects.exists)
        assert terminate_other_backends() >= 1
        with tables_locked(DBTaskResult._meta.db_table):
            time.sleep(1.5)  # the worker's look at the queue times out meanwhile
        first = book_through_the_site(client, room)
        seconds_until(lambda: len(texts(outbox)) == 1)

        terminate_other_backends()
        second = book_through_the_site(client, room, slot=3)
        seconds_until(lambda: len(texts(outbox)) == 2)
        assert worker.poll() is None

    assert [n.state for n in Notification.objects.filter(booking__in=[first, second])] == [
        "sent",
        "sent",
    ]


@contextlib.contextmanager
def held_by_another_connection(room, booking=None):
    """Another connection holds the write lock (SQLite) or the rows of the room
    and the booking (PostgreSQL) until the block ends."""
    other = other_connection()
    if connection.vendor == "sqlite":
        other.execute("BEGIN IMMEDIATE")
    else:
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
    with lock_wait(0.5):
        yield


@pytest.mark.django_db(transaction=True)
def test_database_too_busy_keeps_what_the_resident_typed_and_the_retry_books_once(
    room, settings, sms_outbox, short_lock_wait
):
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
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


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_tables_locked_from_the_first_look_up_still_keep_the_form_and_the_retry_books_once(
    room, settings, sms_outbox, short_lock_wait
):
    """Even the room cannot be read (a migration or maintenance job holds the
    tables): 系统繁忙 with everything typed, not a server error. (On SQLite such a
    lock is on the whole file, sessions included: tests/portal/test_outages.py.)"""
    client = Client()
    url = book_url(room, free_slots(room)[0].start)
    typed = form(name="王阿姨", note="最近睡不好", note_consent="on")
    prove_mobile(client, MOBILE)
    sms_outbox.clear()

    with tables_locked("counseling_room", "counseling_booking"):
        response = client.post(url, typed)
        opened = client.get(url)

    assert response.status_code == 503
    html = response.content.decode()
    assert "系统繁忙,预约还没有提交成功" in html and 'role="alert"' in html
    assert 'value="王阿姨"' in html and "最近睡不好</textarea>" in html
    assert f'action="{url}"' in html
    assert opened.status_code == 503 and "系统繁忙" in opened.content.decode()
    assert not Booking.objects.exists() and not Notification.objects.exists()

    response = client.post(url, typed)
    assert response.status_code == 302
    assert Booking.objects.get().name == "王阿姨"
    assert [mobile for mobile, _text in sms_outbox] == [MOBILE]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_confirmation_shows_the_committed_reference_while_the_booking_tables_are_locked(
    room, sms_outbox, short_lock_wait
):
    """The booking committed; a moment later the tables are locked. The page
    after booking still gives the reference (and the text carries it too)."""
    client = Client()
    prove_mobile(client, MOBILE)
    response = client.post(book_url(room, free_slots(room)[0].start), form(name="王阿姨"))
    assert response.status_code == 302 and response["Location"] == reverse("counseling:done")
    booking = Booking.objects.get()

    with tables_locked("counseling_room", "counseling_booking"):
        page = client.get(reverse("counseling:done"))

    assert page.status_code == 200
    html = page.content.decode()
    assert booking.reference_display in html and booking.room.address in html
    assert booking.reference_display in sms_outbox[-1][1]


@pytest.mark.django_db(transaction=True)
def test_database_too_busy_to_cancel_or_move_leaves_the_booking_as_it_was(
    room, settings, sms_outbox, short_lock_wait
):
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
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
    settings.SMS_BACKEND = f"{HERE}.GatewayDown"
    url = book_url(room, free_slots(room)[0].start)
    typed = form(name="王阿姨", note="最近睡不好", note_consent="on")

    response = client.post(url, typed)

    assert response.status_code == 503
    html = response.content.decode()
    assert "短信暂时发不出去,您填写的内容都还在" in html and 'role="alert"' in html
    assert 'value="王阿姨"' in html and "最近睡不好</textarea>" in html
    assert not Booking.objects.exists()
    assert not MobileCode.objects.exists()  # a code that never went out is not kept

    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
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

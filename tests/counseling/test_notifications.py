"""Messages to residents: an outage delays them but never loses or blocks a
booking, retries deliver each exactly once, and no text names the service."""

import datetime
import smtplib
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.utils import timezone

from counseling import booking as service
from counseling import conf, notifications
from counseling.models import (
    LOCAL_TZ,
    Booking,
    HolidayOpening,
    Notification,
)
from demo import content
from portal.core import outbox
from portal.core.sms import MemoryBackend, SmsError
from tests.factories import make_weekday_room

MONDAY = datetime.date(2026, 9, 14)
NOW = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL_TZ)
FORBIDDEN = ("心理", "咨询")


class FailingEmailBackend(EmailBackend):
    """The mail server is down."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class FailingSmsBackend:
    """The SMS gateway is down."""

    def send(self, mobile, text):
        raise SmsError("gateway timeout")


HERE = __name__


@pytest.fixture
def sms_outbox():
    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


@pytest.fixture
def working(settings, sms_outbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    return settings


@pytest.fixture
def room(db):
    """A room open every day 9:00–17:00 with an address like a real one."""
    data = content("rooms")["rooms"][0]
    return make_weekday_room(
        data["name"],
        address=data["address"],
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(9, 17),
        counsellor="刘静",
    )


def book(room, starts_at, now=NOW, mobile="13800000001", email="resident@example.com"):
    return service.create_booking(
        room=room,
        starts_at=starts_at,
        name="张女士",
        mobile=mobile,
        email=email,
        visit_type=Booking.VisitType.FIRST,
        now=now,
    )


def at(day, hhmm):
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), LOCAL_TZ)


def test_an_outage_neither_loses_nor_blocks_a_booking_and_retries_deliver_once(
    room, settings, sms_outbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{HERE}.FailingEmailBackend"
    settings.SMS_BACKEND = f"{HERE}.FailingSmsBackend"
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, at(MONDAY, "10:00"))

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    pending = Notification.objects.filter(booking=booking)
    assert {n.channel for n in pending} == {"sms", "email"}
    for notification in pending:
        assert notification.state == Notification.State.PENDING
        assert notification.attempts == 1
        assert notification.last_error
        assert notification.next_attempt_at > timezone.now()
    assert mail.outbox == [] and sms_outbox == []

    # Nothing is due yet: a retry run now sends nothing.
    assert outbox.retry_all_due()[Notification] == 0

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    later = timezone.now() + datetime.timedelta(minutes=2)
    assert outbox.retry_all_due(now=later)[Notification] == 2
    assert outbox.retry_all_due(now=later)[Notification] == 0

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["resident@example.com"]
    assert booking.reference_display in mail.outbox[0].body
    assert len(sms_outbox) == 1
    assert sms_outbox[0][0] == "13800000001"
    for notification in Notification.objects.filter(booking=booking):
        assert notification.state == Notification.State.SENT
        assert notification.attempts == 2


def test_a_message_that_keeps_failing_is_given_up_after_the_last_attempt(room, settings):
    settings.SMS_BACKEND = f"{HERE}.FailingSmsBackend"
    booking = book(room, at(MONDAY, "10:00"), email="")
    later = timezone.now()
    for _attempt in range(conf.get("MESSAGE_ATTEMPTS") + 2):
        later += datetime.timedelta(hours=4)
        outbox.retry_all_due(now=later)[Notification]
    sms = Notification.objects.get(booking=booking)
    assert sms.state == Notification.State.FAILED
    assert sms.attempts == conf.get("MESSAGE_ATTEMPTS")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def test_no_message_names_the_service(
    room, working, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = book(room, at(MONDAY, "10:00"))
        second = book(room, at(MONDAY, "11:00"), mobile="13800000002")
        service.move_booking(first, at(MONDAY + datetime.timedelta(days=1), "14:00"), now=NOW)
        service.cancel_by_staff(second, "设备检修", now=NOW)
        service.send_reminders(now=NOW)
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert kinds == {"confirmation", "moved", "cancellation", "reminder"}
    assert len(sms_outbox) == Notification.objects.filter(channel="sms").count() == 5
    texts = [text for _mobile, text in sms_outbox]
    texts += [m.subject for m in mail.outbox] + [m.body for m in mail.outbox]
    for text in texts:
        assert not any(word in text for word in FORBIDDEN), text


def test_send_reminders_reminds_once_for_tomorrows_bookings(
    room, working, sms_outbox, django_capture_on_commit_callbacks
):
    now = timezone.localtime(timezone.now(), LOCAL_TZ)
    tomorrow = now.date() + datetime.timedelta(days=1)
    # Either day may be a statutory holiday; open the room regardless.
    HolidayOpening.objects.create(room=room, date=tomorrow)
    HolidayOpening.objects.create(room=room, date=tomorrow + datetime.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(room, at(tomorrow, "10:00"), now=now, email="")
        later = book(room, at(tomorrow + datetime.timedelta(days=1), "10:00"), now=now, email="")
    sms_outbox.clear()

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=out)
    assert "已安排提醒 1 个预约" in out.getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=StringIO())

    reminders = Notification.objects.filter(kind=Notification.Kind.REMINDER)
    assert list(reminders.values_list("booking", flat=True)) == [booking.pk]
    assert len(sms_outbox) == 1 and "明天" in sms_outbox[0][1]
    booking.refresh_from_db()
    later.refresh_from_db()
    assert booking.reminder_sent_at is not None
    assert later.reminder_sent_at is None


def test_retry_messages_requeues_booking_messages_whose_retry_is_due(room, settings, sms_outbox):
    settings.SMS_BACKEND = f"{HERE}.FailingSmsBackend"
    booking = book(room, at(MONDAY, "10:00"), email="")
    outbox.retry_all_due(now=timezone.now())  # first attempt fails
    Notification.objects.filter(booking=booking).update(next_attempt_at=timezone.now())
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    out = StringIO()
    call_command("retry_messages", stdout=out)
    assert "通知:重新排队 1 条" in out.getvalue()
    assert Notification.objects.get(booking=booking).state == Notification.State.SENT
    assert len(sms_outbox) == 1


def test_a_failed_attempt_queues_its_own_retry_where_the_queue_can_defer(
    room, settings, django_capture_on_commit_callbacks
):
    """With a queue that can run tasks later (the database queue in production),
    a failed message schedules its next attempt without waiting for cron."""
    from django_tasks import default_task_backend

    settings.SMS_BACKEND = f"{HERE}.FailingSmsBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    booking = book(room, at(MONDAY, "10:00"), email="")
    notification = booking.notifications.get()
    assert notification.state == Notification.State.PENDING  # queued, not yet run

    with django_capture_on_commit_callbacks(execute=True):
        notifications.deliver.call(notification.pk)  # the worker runs it; the gateway fails

    notification.refresh_from_db()
    assert notification.attempts == 1
    retries = [
        result
        for result in default_task_backend.results
        if result.task.run_after is not None and list(result.args) == [notification.pk]
    ]
    assert [result.task.run_after for result in retries] == [notification.next_attempt_at]

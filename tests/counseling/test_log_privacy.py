"""Logs and console output never carry a resident's details: a whole booking's
life (booked, confirmed, reminded, a text the gateway refuses, looked up,
cancelled, listed, searched, opened and exported by a coordinator) runs with
every logger at DEBUG, SQL logging on, and stdout and stderr captured."""

import datetime
import logging
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from counseling.availability import Availability
from counseling.models import LOCAL_TZ, Booking, Notification
from portal.core import sms
from portal.core.groups import COORDINATORS
from portal.core.privacy import mask_mobile
from portal.core.sms import SmsError
from tests.counseling.test_access_matrix import log_in_staff, make_staff
from tests.factories import enter_sms_code, make_weekday_room, prove_mobile, sms_code

RESIDENT = {
    "name": "司马日志",
    "mobile": "13912347777",
    "email": "sima.rizhi@example.com",
    "note": "和家人关系紧张,晚上睡不着",
}
HERE = __name__


class RefusingSmsBackend:
    """A gateway that refuses and says which number it refused."""

    def send(self, mobile, text):
        raise SmsError(f"rejected {mobile}: {text}")


@pytest.fixture
def every_log_record(caplog):
    """caplog receiving every record at DEBUG: from the root and from the loggers
    that set a higher level of their own (Django's) or do not propagate."""
    caplog.set_level(logging.DEBUG)
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        if logger.level > logging.DEBUG:
            caplog.set_level(logging.DEBUG, logger=logger.name)
    isolated = [logger for logger in loggers if not logger.propagate]
    for logger in isolated:
        logger.addHandler(caplog.handler)
    connection.force_debug_cursor = True  # SQL and its parameters go to the log too
    yield caplog
    connection.force_debug_cursor = False
    for logger in isolated:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def room(db):
    return make_weekday_room(
        "日志测试咨询室",
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(8, 20),
        starts_on=datetime.date(2024, 1, 1),
    )


class ConsoleAndPhone:
    """The console backend, with the texts also reaching the resident's phone."""

    def send(self, mobile, text):
        sms.ConsoleBackend().send(mobile, text)
        sms.MemoryBackend().send(mobile, text)


def wrong_code():
    real = sms_code(RESIDENT["mobile"])
    return "000000" if real != "000000" else "111111"


def book_url(room, slot):
    local = slot.start.astimezone(LOCAL_TZ)
    return reverse(
        "counseling:book", kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()}
    )


def test_a_booking_from_start_to_end_leaves_no_personal_data_in_logs_or_output(
    client, room, settings, every_log_record, capfd, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = f"{HERE}.ConsoleAndPhone"
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    first, second = [slot for slot in Availability([room]).slots(room) if slot.day == tomorrow][:2]
    form = {**RESIDENT, "visit_type": "first", "note_consent": "on", "website": ""}

    with django_capture_on_commit_callbacks(execute=True):
        # A mistake first: the form comes back with what was typed.
        assert (
            client.post(book_url(room, first), {**form, "email": "not-an-email"}).status_code == 400
        )
        asked = client.post(book_url(room, first), form)
        assert asked["Location"] == reverse("counseling:verify")
        assert client.post(asked["Location"], {"code": wrong_code()}).status_code == 400
        assert enter_sms_code(client, asked, RESIDENT["mobile"]).status_code == 302
        assert client.post(book_url(room, second), form).status_code == 302
        booking, other = Booking.objects.order_by("starts_at")
        reminders = StringIO()
        call_command("send_reminders", stdout=reminders)
        assert "已安排提醒 2 个预约" in reminders.getvalue()

        # Later, on another phone: the resident proves the number and cancels,
        # while the gateway refuses texts with errors that quote the number.
        phone = Client()
        assert phone.post("/yuyue/", {"mobile": RESIDENT["mobile"]}).status_code == 302
        assert phone.post("/yuyue/code/", {"code": wrong_code()}).status_code == 400
        assert prove_mobile(phone, RESIDENT["mobile"]).status_code == 302
        assert phone.post("/yuyue/bookings/", {"booking": booking.reference}).status_code == 302
        settings.SMS_BACKEND = f"{HERE}.RefusingSmsBackend"
        assert phone.post("/yuyue/cancel/").status_code == 302

        log_in_staff(client, make_staff("coordinator", COORDINATORS))
        assert client.get("/admin/counseling/booking/").status_code == 200
        asked = client.post("/admin/counseling/booking/search/", {"query": RESIDENT["mobile"]})
        assert client.get(asked["Location"]).status_code == 200
        assert (
            RESIDENT["note"]
            in client.get(f"/admin/counseling/booking/{booking.pk}/").content.decode()
        )
        for kind in ("csv", "xlsx"):
            export = client.get("/admin/counseling/booking/", {"export": kind})
            assert b"".join(export.streaming_content)
        cancel = client.post(
            f"/admin/counseling/booking/{other.pk}/cancel/", {"reason": "咨询师临时有事"}
        )
        assert cancel.status_code == 302
        assert client.get(f"/admin/counseling/schedule/{room.pk}/").status_code == 200

    out, err = capfd.readouterr()
    records = every_log_record.records
    logged = "\n".join([every_log_record.text, *(record.getMessage() for record in records)])
    everything = "\n".join([logged, out, err])

    # The flow did happen, and its logs and output were captured.
    assert Booking.objects.get(pk=booking.pk).status in (
        Booking.Status.CANCELLED,
        Booking.Status.LATE_CANCEL,
    )
    assert Notification.objects.filter(kind=Notification.Kind.REMINDER).exists()
    assert any(RESIDENT["email"] in message.to for message in mail.outbox)
    assert "failed: SmsError" in logged
    assert "counseling_booking" in logged  # SQL statements were logged
    assert "Bad Request" in logged
    assert mask_mobile(RESIDENT["mobile"]) in out  # the console SMS, masked

    for secret in RESIDENT.values():
        assert secret not in everything


def test_the_console_sms_backend_masks_the_number(capsys):
    sms.ConsoleBackend().send("13912347777", "您的预约已确认")
    printed = capsys.readouterr().out
    assert "139****7777" in printed and "13912347777" not in printed

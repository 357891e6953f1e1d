"""`manage.py send_request_digest`: each unit head and supervisor gets, once a
day, the requests of their subtree that are overdue or due today, without a
resident's details; a mail server that refuses costs nobody else their list."""

import datetime
import io
import socket

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from portal.service_requests import digest, handling
from portal.service_requests.models import RequestAccessLog, ServiceRequest
from tests.factories import make_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    org = make_organisation()
    for user in (org.first_head, org.supervisor):
        user.email = f"{user.username}@jinjialing.example"
        user.save()
    return org


def report(org, place, days_ago, description):
    request, _created = handling.receive(
        category=org.noise,
        place=place,
        description=description,
        address="石岭路 8 号 502 室",
        mobile="13912345678",
        name="王阿姨",
        now=timezone.now() - datetime.timedelta(days=days_ago),
    )
    return request


@pytest.fixture
def due(org):
    stuck = handling.assign(
        report(org, org.shiling, 30, "上个月楼上电钻声"), org.shiling_handler, org.grid
    )
    fresh = report(org, org.shiling, 0, "今天楼上电钻声")
    elsewhere = report(org, org.haian, 30, "海岸社区的老问题")
    answered = handling.accept(report(org, org.shiling, 30, "已答复的"), org.shiling_handler)
    handling.reply(answered, org.shiling_handler, "已处理")
    return {
        "stuck": stuck,
        "fresh": fresh,
        "elsewhere": elsewhere,
        "answered": answered,
        "today": fresh.response_due_on,
    }


def test_each_head_gets_the_overdue_and_due_today_of_their_subtree_only(org, due):
    sent, nothing_due, no_email, failed = digest.send_digests(today=due["today"])
    assert sent == ["supervisor", "first_head"] and failed == [] and no_email == []
    by_recipient = {message.to[0]: message for message in mail.outbox}
    head = by_recipient["first_head@jinjialing.example"]
    assert "逾期 1 件,今天到期 1 件" in head.subject
    assert due["stuck"].reference_display in head.body
    assert due["fresh"].reference_display in head.body
    assert due["elsewhere"].reference_display not in head.body
    assert due["answered"].reference_display not in head.body  # answered: its clock stopped
    assert f"/admin/service_requests/requests/{due['stuck'].pk}/" in head.body
    supervisor = by_recipient["supervisor@jinjialing.example"]
    assert due["elsewhere"].reference_display in supervisor.body
    for message in mail.outbox:
        for personal in ("王阿姨", "13912345678", "石岭路 8 号", "电钻"):
            assert personal not in message.body
    logged = RequestAccessLog.objects.get(username="first_head")
    assert set(logged.references.split()) == {due["stuck"].reference, due["fresh"].reference}


def test_a_head_with_nothing_due_gets_no_mail_and_one_without_an_address_is_named(org, due):
    org.first_head.email = ""
    org.first_head.save()
    handling.reject(due["elsewhere"], org.supervisor, "不属本街道")
    sent, nothing_due, no_email, failed = digest.send_digests(today=due["today"])
    assert no_email == ["first_head"] and sent == ["supervisor"]
    for request in (due["stuck"], due["fresh"]):
        handling.reject(request, org.supervisor, "重复")
    mail.outbox.clear()
    sent, nothing_due, no_email, failed = digest.send_digests(today=due["today"])
    assert sent == [] and mail.outbox == [] and set(nothing_due) == {"supervisor", "first_head"}


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_mail_server_that_refuses_fails_the_command_and_names_who_was_not_told(
    org, due, settings, capsys
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    with pytest.raises(CommandError) as failed:
        call_command("send_request_digest")
    assert "supervisor" in str(failed.value) and "first_head" in str(failed.value)
    assert not RequestAccessLog.objects.exists()


def test_the_command_also_closes_replies_nobody_rated_within_a_week(org):
    request = handling.accept(report(org, org.shiling, 20, "两周前的"), org.shiling_handler)
    handling.reply(
        request, org.shiling_handler, "已处理", now=timezone.now() - datetime.timedelta(days=8)
    )
    call_command("send_request_digest", stdout=io.StringIO())
    request.refresh_from_db()
    assert request.state == ServiceRequest.State.CLOSED

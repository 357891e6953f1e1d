"""我要反映 when an outside part fails: the database held by another
connection while the code is typed, and the SMS gateway refusing the code or
the receipt. The resident is told what to do, what they typed is kept, and a
report is made once, whatever was retried."""

import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from portal.core import outbox
from portal.core.sms import MemoryBackend, SmsError
from portal.service_requests import notifications
from portal.service_requests.models import ReportPage, RequestMessage, ServiceRequest
from tests.factories import make_organisation, page_tree, sms_code
from tests.outages import lock_wait, writes_held

MOBILE = "13912345678"
HERE = __name__


class GatewayDown:
    """The SMS gateway refuses every message."""

    def send(self, mobile, text):
        raise SmsError(f"gateway unavailable for {mobile}")


@pytest.fixture
def page(home):
    page = home.add_child(instance=ReportPage(title="我要反映", slug="fanying"))
    page.org = make_organisation()
    return page


def details(org):
    return {
        "category": org.noise.pk,
        "place": org.shiling.pk,
        "address": "石岭路 8 号 3 号楼",
        "description": "楼上每天夜里十一点以后还在装修,电钻声很大。",
        "mobile": MOBILE,
        "website": "",
    }


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_at_the_code_step_keeps_the_report_and_the_same_code_works():
    page = page_tree().add_child(instance=ReportPage(title="我要反映", slug="fanying"))
    org = make_organisation()
    MemoryBackend.outbox.clear()
    client = Client()
    asked = client.post(page.url, details(org))
    code = sms_code(MOBILE)
    client.get(asked["Location"])  # the site's settings are read once and kept
    with lock_wait(0.5), writes_held():
        busy = client.post(asked["Location"], {"code": code})
    assert busy.status_code == 503 and "系统繁忙" in busy.content.decode()
    assert not ServiceRequest.objects.exists()
    done = client.post(asked["Location"], {"code": code})
    assert done.status_code == 302 and done["Location"].endswith("/wancheng/")
    assert ServiceRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_gateway_that_refuses_the_code_keeps_what_was_typed(client, page, settings):
    settings.SMS_BACKEND = f"{HERE}.GatewayDown"
    response = client.post(page.url, details(page.org))
    assert response.status_code == 503
    html = response.content.decode()
    assert "短信暂时发不出去" in html and "楼上每天夜里十一点以后还在装修" in html
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
def test_a_receipt_the_gateway_refuses_is_kept_and_sent_once_it_is_back(
    client, page, settings, django_capture_on_commit_callbacks
):
    MemoryBackend.outbox.clear()
    asked = client.post(page.url, details(page.org))
    code = sms_code(MOBILE)
    settings.SMS_BACKEND = f"{HERE}.GatewayDown"  # down after the code went out
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(asked["Location"], {"code": code})
    assert done.status_code == 302  # the report is made all the same
    made = ServiceRequest.objects.get()
    receipt = RequestMessage.objects.get(request=made)
    assert receipt.state == RequestMessage.State.PENDING and receipt.attempts == 1
    assert "gateway unavailable" in receipt.last_error and MOBILE not in receipt.last_error
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    later = timezone.now() + datetime.timedelta(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry_all_due(now=later)[RequestMessage] == 1
    receipt.refresh_from_db()
    assert receipt.state == RequestMessage.State.SENT
    assert made.reference_display in MemoryBackend.outbox[-1][1]


@pytest.mark.django_db
def test_a_receipt_never_delivered_is_marked_failed_for_staff_to_call(
    page, settings, django_capture_on_commit_callbacks
):
    from portal.service_requests import handling

    settings.SMS_BACKEND = f"{HERE}.GatewayDown"
    with django_capture_on_commit_callbacks(execute=True):
        made, _created = handling.receive(
            category=page.org.noise,
            place=page.org.shiling,
            description="楼道灯坏了。",
            address="石岭路 8 号",
            mobile=MOBILE,
        )
    receipt = RequestMessage.objects.get(request=made)
    for _attempt in range(notifications.ATTEMPTS - 1):
        notifications.deliver.call(receipt.pk)
    receipt.refresh_from_db()
    assert receipt.state == RequestMessage.State.FAILED
    assert receipt.attempts == notifications.ATTEMPTS


@pytest.mark.django_db
def test_retry_messages_queues_what_is_due_in_every_outbox(page, settings):
    from django.core.management import call_command

    from portal.service_requests import handling

    settings.SMS_BACKEND = f"{HERE}.GatewayDown"
    made, _created = handling.receive(
        category=page.org.noise,
        place=page.org.shiling,
        description="楼道灯坏了。",
        address="石岭路 8 号",
        mobile=MOBILE,
    )
    receipt = RequestMessage.objects.get(request=made)
    notifications.deliver.call(receipt.pk)  # the gateway refuses it
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    RequestMessage.objects.update(next_attempt_at=timezone.now())
    out = io.StringIO()
    call_command("retry_messages", stdout=out)
    assert "诉求消息:重新排队 1 条" in out.getvalue() and "通知:重新排队 0 条" in out.getvalue()
    receipt.refresh_from_db()
    assert receipt.state == RequestMessage.State.SENT

"""The Alibaba Cloud and Tencent Cloud SMS backends, through each provider's
real SDK against a local HTTP server standing in for the provider
(tests.sms_provider): the signed request carries the action, number, signature
name, template id and parameters the approved template takes; every error body
the provider documents is classified (retry, or give up and show whom it did
not reach); a missing template id fails the start-up check. No test reaches the
internet."""

import datetime
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core import checks
from django.urls import reverse
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.models import LOCAL_TZ, Booking, Notification
from portal.core.models import MobileCode
from portal.core.sms import Failure, SmsError, Template
from portal.core.sms_gateways import AliyunBackend, TencentBackend
from portal.core.verification import message_text
from tests.factories import make_open_room, make_weekday_room
from tests.portal.test_production_settings import BOOKING_KEYS, MESSAGE_SETTINGS
from tests.sms_provider import ProviderServer

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL_TZ)
MOBILE = "13912345678"
KEY_ID, SECRET = "LTAI5tTestKeyId", "test-secret-0123456789"
ALIYUN_JSON = "application/json;charset=utf-8"
TEMPLATES = {kind: f"SMS_{100000 + n}" for n, kind in enumerate(sorted(Template.all))}
ALIYUN_OK = {"Message": "OK", "RequestId": "F655A8D5", "Code": "OK", "BizId": "900619746936498440"}


def tencent_ok(code="Ok", message="send success"):
    return {
        "Response": {
            "SendStatusSet": [
                {
                    "SerialNo": "5000:1045710669157053657849499619",
                    "PhoneNumber": f"+86{MOBILE}",
                    "Fee": 1,
                    "SessionContext": "",
                    "Code": code,
                    "Message": message,
                    "IsoCode": "CN",
                }
            ],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
        }
    }


def tencent_error(code, message="error"):
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "b1"}}


def aliyun_error(code, message="error"):
    return {"Message": message, "RequestId": "F655A8D5", "Code": code}


@pytest.fixture
def gateway(settings):
    """The site's SMS settings pointed at a provider on this machine; yields a
    function that picks the provider."""
    settings.SMS_SIGN_NAME = "金家岭街道"
    settings.SMS_TEMPLATES = TEMPLATES
    settings.SMS_ACCESS_KEY_ID = KEY_ID
    settings.SMS_ACCESS_KEY_SECRET = SECRET
    settings.SMS_SDK_APP_ID = "1400787878"
    settings.SMS_TIMEOUT_SECONDS = 2
    servers = []

    def start(backend, content_type):
        server = ProviderServer(content_type).__enter__()
        servers.append(server)
        settings.SMS_ENDPOINT = server.address
        settings.SMS_BACKEND = f"portal.core.sms_gateways.{backend.__name__}"
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def aliyun(gateway):
    return gateway(AliyunBackend, ALIYUN_JSON)


def tencent(gateway):
    return gateway(TencentBackend, "application/json")


# Each provider's signing scheme written out from its documentation, to check
# the SDK signed what it sent with the site's key.


def aliyun_signature_holds(received, secret):
    """ACS3-HMAC-SHA256 (Alibaba Cloud's V3 request signature)."""
    auth = dict(
        part.split("=", 1) for part in received.headers["authorization"].split(" ", 1)[1].split(",")
    )
    signed = auth["SignedHeaders"].split(";")
    encode = lambda value: quote(value, safe="-_.~")  # noqa: E731
    query = "&".join(
        f"{encode(key)}={encode(value)}" for key, value in sorted(received.query.items())
    )
    headers = "".join(f"{name}:{received.headers[name].strip()}\n" for name in signed)
    payload = hashlib.sha256(received.body).hexdigest()
    canonical = "\n".join(
        [received.method, received.path, query, headers, ";".join(signed), payload]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return auth["Credential"] == KEY_ID and hmac.compare_digest(auth["Signature"], expected)


def tencent_signature_holds(received, secret):
    """TC3-HMAC-SHA256 (Tencent Cloud API 3.0's signature)."""
    auth = dict(
        part.strip().split("=", 1)
        for part in received.headers["authorization"].split(" ", 1)[1].split(",")
    )
    key_id, date, service_name, _ = auth["Credential"].split("/")
    signed = auth["SignedHeaders"].split(";")
    headers = "".join(f"{name}:{received.headers[name].strip().lower()}\n" for name in signed)
    canonical = "\n".join(
        ["POST", "/", "", headers, ";".join(signed), hashlib.sha256(received.body).hexdigest()]
    )
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            received.headers["x-tc-timestamp"],
            f"{date}/{service_name}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )

    def sign(key, text):
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(("TC3" + secret).encode(), date), service_name), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return key_id == KEY_ID and hmac.compare_digest(auth["Signature"], expected)


@pytest.fixture
def room(db):
    return make_weekday_room(
        "街道心理咨询室", address="金家岭街道办事处三楼", weekdays="MO,TU,WE,TH,FR,SA,SU"
    )


def book(room, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return service.create_booking(
            room=room,
            starts_at=datetime.datetime(2026, 9, 15, 10, 0, tzinfo=LOCAL_TZ),
            name="张女士",
            mobile=MOBILE,
            visit_type=Booking.VisitType.FIRST,
            now=NOW,
        )


def test_aliyun_sends_a_booking_confirmation_as_its_approved_template_signed_with_the_key(
    gateway, room, django_capture_on_commit_callbacks
):
    provider = aliyun(gateway)
    provider.answer(ALIYUN_OK)

    booking = book(room, django_capture_on_commit_callbacks)

    [sent] = provider.received
    assert sent.headers["x-acs-action"] == "SendSms"
    assert sent.headers["x-acs-version"] == "2017-05-25"
    assert sent.query["PhoneNumbers"] == MOBILE
    assert sent.query["SignName"] == "金家岭街道"
    assert sent.query["TemplateCode"] == TEMPLATES["booking_confirmation"]
    assert json.loads(sent.query["TemplateParam"]) == {
        "time": "2026年9月15日 周二 10:00",
        "place": "金家岭街道办事处三楼",
        "reference": booking.reference_display,
    }
    assert aliyun_signature_holds(sent, SECRET)
    assert not aliyun_signature_holds(sent, "another-secret")
    assert Notification.objects.get(booking=booking).state == Notification.State.SENT


def test_tencent_sends_a_booking_confirmation_as_its_approved_template_signed_with_the_key(
    gateway, room, django_capture_on_commit_callbacks
):
    provider = tencent(gateway)
    provider.answer(tencent_ok())

    booking = book(room, django_capture_on_commit_callbacks)

    [sent] = provider.received
    assert sent.headers["x-tc-action"] == "SendSms"
    assert sent.headers["x-tc-version"] == "2021-01-11"
    assert sent.json == {
        "PhoneNumberSet": [f"+86{MOBILE}"],
        "SmsSdkAppId": "1400787878",
        "SignName": "金家岭街道",
        "TemplateId": TEMPLATES["booking_confirmation"],
        # In the order the approved template numbers its parameters {1} {2} {3}.
        "TemplateParamSet": [
            "2026年9月15日 周二 10:00",
            "金家岭街道办事处三楼",
            booking.reference_display,
        ],
    }
    assert tencent_signature_holds(sent, SECRET)
    assert not tencent_signature_holds(sent, "another-secret")
    assert Notification.objects.get(booking=booking).state == Notification.State.SENT


@pytest.mark.parametrize("backend", [AliyunBackend, TencentBackend])
def test_each_kind_of_text_goes_out_under_its_own_template_with_its_parameters(
    gateway, backend, db
):
    provider = aliyun(gateway) if backend is AliyunBackend else tencent(gateway)
    code = message_text("042917")
    provider.answer(ALIYUN_OK if backend is AliyunBackend else tencent_ok())

    backend().send(MOBILE, code)

    [sent] = provider.received
    if backend is AliyunBackend:
        assert sent.query["TemplateCode"] == TEMPLATES["code"]
        assert json.loads(sent.query["TemplateParam"]) == {"code": "042917", "minutes": "5"}
    else:
        assert sent.json["TemplateId"] == TEMPLATES["code"]
        assert sent.json["TemplateParamSet"] == ["042917", "5"]


ALIYUN_ANSWERS = [
    # (HTTP status, the provider's error code, what it means here)
    (200, "isv.BUSINESS_LIMIT_CONTROL", Failure.THROTTLED),
    (200, "isv.DAY_LIMIT_CONTROL", Failure.THROTTLED),
    (200, "isv.MOBILE_NUMBER_ILLEGAL", Failure.NUMBER),
    (200, "isv.BLACK_KEY_CONTROL_LIMIT", Failure.TEMPLATE),
    (200, "isv.PARAM_NOT_SUPPORT_URL", Failure.TEMPLATE),
    (200, "isv.SMS_TEMPLATE_ILLEGAL", Failure.TEMPLATE),
    (200, "isv.SMS_SIGNATURE_ILLEGAL", Failure.TEMPLATE),
    (200, "isv.TEMPLATE_MISSING_PARAMETERS", Failure.TEMPLATE),
    (200, "isv.PARAM_LENGTH_LIMIT", Failure.TEMPLATE),
    (200, "isv.AMOUNT_NOT_ENOUGH", Failure.ACCOUNT),
    (200, "isv.OUT_OF_SERVICE", Failure.ACCOUNT),
    (200, "isp.SYSTEM_ERROR", Failure.PROVIDER),
    (400, "SignatureDoesNotMatch", Failure.ACCOUNT),
    (404, "InvalidAccessKeyId.NotFound", Failure.ACCOUNT),
    (403, "isp.RAM_PERMISSION_DENY", Failure.ACCOUNT),
    (500, "InternalError", Failure.PROVIDER),
    (503, "ServiceUnavailable", Failure.PROVIDER),
]

TENCENT_ANSWERS = [
    # (the whole call's error, or the number's status code, what it means here)
    ("status", "LimitExceeded.PhoneNumberDailyLimit", Failure.THROTTLED),
    ("status", "LimitExceeded.PhoneNumberThirtySecondLimit", Failure.THROTTLED),
    ("status", "InvalidParameterValue.IncorrectPhoneNumber", Failure.NUMBER),
    ("status", "FailedOperation.PhoneNumberInBlacklist", Failure.NUMBER),
    ("status", "FailedOperation.TemplateIncorrectOrUnapproved", Failure.TEMPLATE),
    ("status", "FailedOperation.SignatureIncorrectOrUnapproved", Failure.TEMPLATE),
    ("status", "InvalidParameterValue.TemplateParameterLengthLimit", Failure.TEMPLATE),
    ("status", "FailedOperation.InsufficientBalanceInSmsPackage", Failure.ACCOUNT),
    ("error", "AuthFailure.SignatureFailure", Failure.ACCOUNT),
    ("error", "AuthFailure.SecretIdNotFound", Failure.ACCOUNT),
    ("error", "RequestLimitExceeded", Failure.THROTTLED),
    ("error", "InternalError.Timeout", Failure.NETWORK),
    ("error", "InternalError.OtherError", Failure.PROVIDER),
    ("error", "InternalError.RequestTimeException", Failure.PROVIDER),
    ("error", "FailedOperation.TemplateIncorrectOrUnapproved", Failure.TEMPLATE),
]


@pytest.mark.parametrize("status,code,failure", ALIYUN_ANSWERS)
def test_aliyun_errors_are_classified_by_the_code_the_provider_documents(
    gateway, status, code, failure, db
):
    provider = aliyun(gateway)
    provider.answer(aliyun_error(code, "出错了"), status=status)

    with pytest.raises(SmsError) as refused:
        AliyunBackend().send(MOBILE, message_text("123456"))

    assert refused.value.failure == failure
    assert refused.value.code == code
    assert refused.value.permanent == (failure in (Failure.NUMBER, Failure.TEMPLATE))


@pytest.mark.parametrize("where,code,failure", TENCENT_ANSWERS)
def test_tencent_errors_are_classified_by_the_code_the_provider_documents(
    gateway, where, code, failure, db
):
    provider = tencent(gateway)
    provider.answer(tencent_ok(code, "出错了") if where == "status" else tencent_error(code))

    with pytest.raises(SmsError) as refused:
        TencentBackend().send(MOBILE, message_text("123456"))

    assert refused.value.failure == failure
    assert refused.value.code == code


def test_tencent_answering_with_a_bare_server_error_is_retried(gateway, db):
    provider = tencent(gateway)
    provider.answer({"message": "bad gateway"}, status=502)

    with pytest.raises(SmsError) as refused:
        TencentBackend().send(MOBILE, message_text("123456"))

    assert not refused.value.permanent


@pytest.mark.parametrize("backend", [AliyunBackend, TencentBackend])
def test_a_provider_nobody_answers_at_is_a_network_failure_and_retried(settings, backend, db):
    settings.SMS_SIGN_NAME, settings.SMS_TEMPLATES = "金家岭街道", TEMPLATES
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = KEY_ID, SECRET
    settings.SMS_SDK_APP_ID = "1400787878"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.SMS_ENDPOINT = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(SmsError) as refused:
        backend().send(MOBILE, message_text("123456"))
    assert refused.value.failure == Failure.NETWORK and not refused.value.permanent


@pytest.mark.parametrize("backend", [AliyunBackend, TencentBackend])
def test_a_provider_that_never_answers_is_given_up_on_after_the_timeout(settings, backend, db):
    settings.SMS_SIGN_NAME, settings.SMS_TEMPLATES = "金家岭街道", TEMPLATES
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = KEY_ID, SECRET
    settings.SMS_SDK_APP_ID = "1400787878"
    settings.SMS_TIMEOUT_SECONDS = 1
    with socket.socket() as silent:  # takes the connection, never reads nor answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings.SMS_ENDPOINT = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = datetime.datetime.now()
        with pytest.raises(SmsError) as refused:
            backend().send(MOBILE, message_text("123456"))
        waited = datetime.datetime.now() - started
    assert refused.value.failure == Failure.NETWORK
    assert waited < datetime.timedelta(seconds=15)


def test_a_kind_with_no_template_id_is_not_sent_and_not_retried(gateway, settings, db):
    provider = aliyun(gateway)
    settings.SMS_TEMPLATES = {k: v for k, v in TEMPLATES.items() if k != "code"}

    with pytest.raises(SmsError) as refused:
        AliyunBackend().send(MOBILE, message_text("123456"))

    assert refused.value.failure == Failure.TEMPLATE and refused.value.permanent
    assert provider.received == []


@pytest.mark.parametrize(
    "code,state,reason",
    [
        ("isv.MOBILE_NUMBER_ILLEGAL", Notification.State.FAILED, "这个号码收不到短信"),
        ("isv.SMS_TEMPLATE_ILLEGAL", Notification.State.FAILED, "短信模板或签名未获批准"),
        ("isv.BUSINESS_LIMIT_CONTROL", Notification.State.PENDING, "发送太频繁"),
    ],
)
def test_a_message_the_provider_can_never_deliver_fails_at_once_and_says_why(
    gateway, room, code, state, reason, django_capture_on_commit_callbacks
):
    provider = aliyun(gateway)
    provider.answer(aliyun_error(code, f"手机号码格式错误 {MOBILE}"))

    booking = book(room, django_capture_on_commit_callbacks)

    message = Notification.objects.get(booking=booking)
    assert (message.state, message.attempts) == (state, 1)
    assert message.last_error.startswith(reason) and code in message.last_error
    assert MOBILE not in message.last_error  # the provider quoted it; it is not kept
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def test_the_code_step_says_the_number_cannot_receive_texts_and_keeps_the_form(
    gateway, room, client
):
    provider = aliyun(gateway)
    provider.answer(aliyun_error("isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile"))

    response = client.post("/yuyue/", {"mobile": MOBILE})

    assert response.status_code == 400
    html = response.content.decode()
    assert "这个号码收不到短信" in html and MOBILE in html
    assert not MobileCode.objects.exists()
    assert len(provider.received) == 1


def test_a_throttled_gateway_at_the_code_step_asks_to_try_again(gateway, room, client):
    provider = aliyun(gateway)
    provider.answer(aliyun_error("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控"))

    response = client.post("/yuyue/", {"mobile": MOBILE})

    assert response.status_code == 503
    assert "短信暂时发不出去" in response.content.decode()
    assert not MobileCode.objects.exists()


@pytest.mark.parametrize("backend", ["AliyunBackend", "TencentBackend"])
def test_the_start_up_check_names_every_kind_without_a_template_id(settings, backend):
    settings.SMS_BACKEND = f"portal.core.sms_gateways.{backend}"
    settings.SMS_SIGN_NAME = "金家岭街道"
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = KEY_ID, SECRET
    settings.SMS_SDK_APP_ID = "1400787878"
    settings.SMS_TEMPLATES = TEMPLATES
    assert [e for e in checks.run_checks() if e.id.startswith("core.E")] == []

    settings.SMS_TEMPLATES = {
        k: v for k, v in TEMPLATES.items() if k not in ("booking_reminder", "request_replied")
    }
    errors = [e for e in checks.run_checks() if e.id == "core.E003"]
    assert sorted(e.msg for e in errors) == [
        "SMS_TEMPLATES 缺少“booking_reminder”短信的模板编号。",
        "SMS_TEMPLATES 缺少“request_replied”短信的模板编号。",
    ]


def test_the_start_up_check_asks_for_tencents_application_id(settings):
    settings.SMS_BACKEND = "portal.core.sms_gateways.TencentBackend"
    settings.SMS_SIGN_NAME = "金家岭街道"
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = KEY_ID, SECRET
    settings.SMS_TEMPLATES = TEMPLATES
    settings.SMS_SDK_APP_ID = ""
    assert [e.msg for e in checks.run_checks() if e.id == "core.E002"] == [
        "短信网关需要设置 SMS_SDK_APP_ID。"
    ]


def run_production_check(env):
    inherited = {key: value for key, value in os.environ.items() if key not in MESSAGE_SETTINGS}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            **BOOKING_KEYS,
            "SECRET_KEY": "x" * 50,
            "EMAIL_HOST": "smtp.example.gov.cn",
            "SMS_SIGN_NAME": "金家岭街道",
            "SMS_ACCESS_KEY_ID": KEY_ID,
            "SMS_ACCESS_KEY_SECRET": SECRET,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_does_not_pass_its_check_with_a_template_id_missing():
    missing = {k: v for k, v in TEMPLATES.items() if k != "booking_confirmation"}

    refused = run_production_check({"SMS_BACKEND": "aliyun", "SMS_TEMPLATES": json.dumps(missing)})
    passed = run_production_check({"SMS_BACKEND": "aliyun", "SMS_TEMPLATES": json.dumps(TEMPLATES)})

    assert refused.returncode != 0
    assert "booking_confirmation" in refused.stderr and "core.E003" in refused.stderr
    assert passed.returncode == 0, passed.stderr


def test_every_kind_of_text_fits_its_template_and_reads_whole():
    """The wording each kind renders is what coordinators approve with the
    provider: every parameter appears in it, and nothing is left unfilled."""
    values = {
        "time": "2026年9月15日 周二 10:00",
        "place": "金家岭街道办事处三楼",
        "reference": "2041 7736",
        "reason": "停电",
        "until": "9月14日 10:30",
        "code": "123456",
        "minutes": "5",
        "url": "https://www.example.gov.cn/yuyue/",
    }
    for kind, template in Template.all.items():
        text = template.render(**values)
        assert text.kind == kind
        assert set(text.params) == set(template.params)
        for name in template.params + template.fixed:
            assert values[name] in text, (kind, name)
        assert "%(" not in text


def test_coordinators_see_whom_a_text_did_not_reach_and_phone_them(
    gateway, admin_client, django_capture_on_commit_callbacks
):
    room = make_open_room()
    first, second = Availability([room]).slots(room)[:2]
    provider = aliyun(gateway)
    provider.answer(aliyun_error("isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile"))
    provider.answer(ALIYUN_OK)
    with django_capture_on_commit_callbacks(execute=True):
        unreached = service.create_booking(
            room=room, starts_at=first.start, name="张女士", mobile=MOBILE, visit_type="first"
        )
    with django_capture_on_commit_callbacks(execute=True):
        reached = service.create_booking(
            room=room,
            starts_at=second.start,
            name="李先生",
            mobile="13700001111",
            visit_type="first",
        )

    dashboard = admin_client.get(reverse("wagtailadmin_home"))
    assert "1 个预约的短信没有送达居民" in dashboard.content.decode()
    listing = admin_client.get(
        reverse("counseling_booking:index"),
        {"texts": "unreached", "starts_at_after": timezone.localdate().isoformat()},
    )
    listed = listing.content.decode()
    assert unreached.reference_display in listed
    assert reached.reference_display not in listed
    detail = admin_client.get(reverse("counseling_booking:inspect", args=[unreached.pk]))
    assert "这个号码收不到短信" in detail.content.decode()


def test_long_parameters_are_cut_to_what_providers_take_while_the_email_keeps_them(settings):
    from counseling.notifications import TEMPLATES as BOOKING_TEMPLATES

    reason = "因为咨询室所在楼层电路检修,全天停电,给您带来不便深表歉意,请改约其他时间再来咨询"
    text = BOOKING_TEMPLATES["cancellation_with_reason"].render(
        time="2026年9月15日 周二 10:00",
        place="金家岭街道办事处三楼",
        reference="2041 7736",
        reason=reason,
    )

    assert reason in text  # the console and the email carry it whole
    assert len(text.params["reason"]) == 35 and text.params["reason"].endswith("…")
    assert text.params["reason"][:34] == reason[:34]
    settings.SMS_PARAM_MAX_LENGTH = 12
    assert (
        BOOKING_TEMPLATES["moved"]
        .render(
            time="2026年9月15日 周二 10:00",
            place="金家岭街道办事处三楼",
            reference="2041 7736",
        )
        .params["time"]
        == "2026年9月15日 …"
    )


def test_a_staff_cancellation_whose_text_failed_is_listed_for_a_phone_call(
    gateway, admin_client, django_capture_on_commit_callbacks
):
    room = make_open_room()
    slot = Availability([room]).slots(room)[0]
    provider = aliyun(gateway)
    provider.answer(ALIYUN_OK)
    with django_capture_on_commit_callbacks(execute=True):
        booking = service.create_booking(
            room=room, starts_at=slot.start, name="张女士", mobile=MOBILE, visit_type="first"
        )
    provider.answer(aliyun_error("isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile"))
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel_by_staff(booking, "停电")

    dashboard = admin_client.get(reverse("wagtailadmin_home")).content.decode()

    assert "1 个预约的短信没有送达居民" in dashboard

"""The SMS providers the sub-district may contract, through their official
SDKs: Alibaba Cloud SMS (短信服务, dysmsapi 2017-05-25) and Tencent Cloud SMS
(sms 2021-01-11). Both send only an approved template under an approved
signature, so a text goes out as its template id (SMS_TEMPLATES[text.kind])
and parameters (text.params, see portal.core.sms.Template).

Settings (production reads them from the environment, docs/booking.md):
SMS_SIGN_NAME, SMS_TEMPLATES, SMS_ACCESS_KEY_ID, SMS_ACCESS_KEY_SECRET, for
Tencent SMS_SDK_APP_ID and SMS_REGION; SMS_ENDPOINT only to point the SDK
elsewhere (a test's local server); SMS_TIMEOUT_SECONDS.

Each provider's answer is classified (portal.core.sms.Failure) from the error
codes it documents: a number that cannot receive texts or a template the
provider refuses gives up at once, anything else is retried."""

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .sms import Failure, SmsError

# Alibaba Cloud's codes (https://help.aliyun.com/zh/sms/developer-reference/api-error-codes),
# by the start of the code; a code none matches is the provider's own trouble.
ALIYUN_FAILURES = (
    ("isv.BUSINESS_LIMIT_CONTROL", Failure.THROTTLED),
    ("isv.DAY_LIMIT_CONTROL", Failure.THROTTLED),
    ("isv.MOBILE_NUMBER_ILLEGAL", Failure.NUMBER),
    ("isv.MOBILE_COUNT_OVER_LIMIT", Failure.NUMBER),
    ("isv.SMS_TEMPLATE_ILLEGAL", Failure.TEMPLATE),
    # A parameter holds a word the provider blocks, or a link it does not allow.
    ("isv.BLACK_KEY_CONTROL_LIMIT", Failure.TEMPLATE),
    ("isv.PARAM_NOT_SUPPORT_URL", Failure.TEMPLATE),
    ("isv.SMS_SIGNATURE_ILLEGAL", Failure.TEMPLATE),
    ("isv.SMS_SIGN_ILLEGAL", Failure.TEMPLATE),
    ("isv.TEMPLATE_MISSING_PARAMETERS", Failure.TEMPLATE),
    ("isv.TEMPLATE_PARAMS_ILLEGAL", Failure.TEMPLATE),
    ("isv.PARAM_LENGTH_LIMIT", Failure.TEMPLATE),
    ("isv.INVALID_JSON_PARAM", Failure.TEMPLATE),
    ("isv.SMS_SIGNATURE_SCENE_ILLEGAL", Failure.TEMPLATE),
    ("isv.AMOUNT_NOT_ENOUGH", Failure.ACCOUNT),
    ("isv.OUT_OF_SERVICE", Failure.ACCOUNT),
    ("isv.ACCOUNT_NOT_EXISTS", Failure.ACCOUNT),
    ("isv.ACCOUNT_ABNORMAL", Failure.ACCOUNT),
    ("isp.RAM_PERMISSION_DENY", Failure.ACCOUNT),
    ("InvalidAccessKeyId", Failure.ACCOUNT),
    ("SignatureDoesNotMatch", Failure.ACCOUNT),
    ("Forbidden", Failure.ACCOUNT),
    ("Throttling", Failure.THROTTLED),
)

# Tencent Cloud's codes (https://cloud.tencent.com/document/product/382/55981),
# per number in SendStatusSet or for the whole call.
TENCENT_FAILURES = (
    ("LimitExceeded.", Failure.THROTTLED),
    ("RequestLimitExceeded", Failure.THROTTLED),
    ("InvalidParameterValue.IncorrectPhoneNumber", Failure.NUMBER),
    ("FailedOperation.PhoneNumberInBlacklist", Failure.NUMBER),
    ("UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", Failure.NUMBER),
    ("FailedOperation.TemplateIncorrectOrUnapproved", Failure.TEMPLATE),
    ("FailedOperation.SignatureIncorrectOrUnapproved", Failure.TEMPLATE),
    ("FailedOperation.TemplateParamSetNotMatchApprovedTemplate", Failure.TEMPLATE),
    ("FailedOperation.MissingSignature", Failure.TEMPLATE),
    ("FailedOperation.MissingTemplate", Failure.TEMPLATE),
    ("FailedOperation.ContainSensitiveWord", Failure.TEMPLATE),
    ("InvalidParameterValue.TemplateParameterFormatError", Failure.TEMPLATE),
    ("InvalidParameterValue.TemplateParameterLengthLimit", Failure.TEMPLATE),
    ("InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", Failure.TEMPLATE),
    ("InvalidParameterValue.ContentLengthLimit", Failure.TEMPLATE),
    ("FailedOperation.InsufficientBalanceInSmsPackage", Failure.ACCOUNT),
    ("AuthFailure", Failure.ACCOUNT),
    ("UnauthorizedOperation", Failure.ACCOUNT),
    ("InternalError.Timeout", Failure.NETWORK),
    ("ClientNetworkError", Failure.NETWORK),
)


def classify(code, table):
    for start, failure in table:
        if code.startswith(start):
            return failure
    return Failure.PROVIDER


def setting(name, default=None):
    value = getattr(settings, name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(f"{name} is not set; the SMS gateway needs it.")
    return value


class TemplateBackend:
    """Sends a Text as its approved template. A subclass makes the client
    once, in `__init__`, and sends one template in `send_template`."""

    # For the start-up check: this backend needs a template id for every kind.
    needs_templates = True
    settings_needed = ("SMS_SIGN_NAME", "SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET")

    def send(self, mobile, text):
        template = getattr(settings, "SMS_TEMPLATES", {}).get(getattr(text, "kind", None))
        if not template:
            raise SmsError(
                f"no template id in SMS_TEMPLATES for {getattr(text, 'kind', 'plain text')}",
                failure=Failure.TEMPLATE,
            )
        self.send_template(mobile, template, text.params)

    @staticmethod
    def endpoint(default):
        """(scheme, host) of SMS_ENDPOINT, or of the provider's own host."""
        address = getattr(settings, "SMS_ENDPOINT", "") or default
        parts = urlsplit(address if "//" in address else f"https://{address}")
        return parts.scheme, parts.netloc

    @staticmethod
    def timeout():
        return int(getattr(settings, "SMS_TIMEOUT_SECONDS", 10))


class AliyunBackend(TemplateBackend):
    """Alibaba Cloud SMS through alibabacloud-dysmsapi20170525."""

    def __init__(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as openapi

        scheme, host = self.endpoint("dysmsapi.aliyuncs.com")
        self.client = Client(
            openapi.Config(
                access_key_id=setting("SMS_ACCESS_KEY_ID"),
                access_key_secret=setting("SMS_ACCESS_KEY_SECRET"),
                endpoint=host,
                protocol=scheme,
                region_id=getattr(settings, "SMS_REGION", "") or "cn-hangzhou",
            )
        )

    def send_template(self, mobile, template, params):
        from alibabacloud_dysmsapi20170525 import models as dysms
        from darabonba.runtime import RuntimeOptions

        request = dysms.SendSmsRequest(
            phone_numbers=mobile,
            sign_name=setting("SMS_SIGN_NAME"),
            template_code=template,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        timeout_ms = self.timeout() * 1000
        runtime = RuntimeOptions(
            autoretry=False, connect_timeout=timeout_ms, read_timeout=timeout_ms
        )
        try:
            response = self.client.send_sms_with_options(request, runtime)
        except Exception as error:  # noqa: BLE001 - the SDK raises its own and the network's
            raise self.refusal(error) from error
        body = response.body
        if body.code != "OK":
            raise SmsError(
                f"{body.code}: {body.message}",
                failure=classify(body.code or "", ALIYUN_FAILURES),
                code=body.code or "",
            )

    @staticmethod
    def refusal(error):
        """The SDK's exception as an SmsError: a coded answer from the provider
        (HTTP 4xx/5xx), or no answer at all."""
        inner = getattr(error, "inner_exception", None) or error
        code = getattr(inner, "code", None)
        if isinstance(code, str) and code and code != "None":
            return SmsError(
                f"{code}: {getattr(inner, 'message', '')}",
                failure=classify(code, ALIYUN_FAILURES),
                code=code,
            )
        return SmsError(f"{type(inner).__name__}: {inner}", failure=Failure.NETWORK)


class TencentBackend(TemplateBackend):
    """Tencent Cloud SMS through tencentcloud-sdk-python-sms."""

    settings_needed = TemplateBackend.settings_needed + ("SMS_SDK_APP_ID",)

    def __init__(self):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        scheme, host = self.endpoint("sms.tencentcloudapi.com")
        profile = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=self.timeout())
        self.client = sms_client.SmsClient(
            credential.Credential(setting("SMS_ACCESS_KEY_ID"), setting("SMS_ACCESS_KEY_SECRET")),
            getattr(settings, "SMS_REGION", "") or "ap-guangzhou",
            ClientProfile(httpProfile=profile),
        )

    def send_template(self, mobile, template, params):
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{mobile}"]
        request.SmsSdkAppId = str(setting("SMS_SDK_APP_ID"))
        request.SignName = setting("SMS_SIGN_NAME")
        request.TemplateId = str(template)
        request.TemplateParamSet = list(params.values())
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as error:
            code = error.get_code() or ""
            raise SmsError(
                f"{code}: {error.get_message()}",
                failure=classify(code, TENCENT_FAILURES),
                code=code,
            ) from error
        except Exception as error:  # noqa: BLE001 - the network's own errors
            raise SmsError(f"{type(error).__name__}: {error}", failure=Failure.NETWORK) from error
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise SmsError("no send status in the answer", failure=Failure.PROVIDER)
        if status.Code != "Ok":
            raise SmsError(
                f"{status.Code}: {status.Message}",
                failure=classify(status.Code or "", TENCENT_FAILURES),
                code=status.Code or "",
            )

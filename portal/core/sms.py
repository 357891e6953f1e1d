"""Pluggable SMS sending, for every text the site sends a resident (booking
messages, codes, replies to requests).

Providers in mainland China send only texts whose template the provider has
approved, under an approved signature (签名): the site sends a template's id and
its parameters, not free text. So every kind of text is a `Template` here, with
the parameters its approved wording takes, and what a section sends is a `Text`:
the whole message as a string (what the console shows and an email carries)
that also knows its kind and parameters. The Alibaba Cloud and Tencent Cloud
backends (portal.core.sms_gateways) look up the provider's template id for the
kind in SMS_TEMPLATES; `manage.py check` refuses to pass when one is missing.

The default backend writes messages to the console; production names a backend
class in SMS_BACKEND (from the environment) and refuses to start with the
console or memory backend unless ALLOW_CONSOLE_MESSAGES=true
(portal/settings/production.py)."""

import sys

from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

DEFAULT_BACKEND = "portal.core.sms.ConsoleBackend"


class Failure(models.TextChoices):
    """Why a provider did not take a text, as far as its answer tells."""

    THROTTLED = "throttled", _("发送太频繁,服务商暂时限流")
    NETWORK = "network", _("连不上短信服务商")
    PROVIDER = "provider", _("短信服务商内部出错")
    ACCOUNT = "account", _("短信账户有问题(密钥、权限或余额)")
    NUMBER = "number", _("这个号码收不到短信(号码无效、停机或已退订)")
    TEMPLATE = "template", _("短信模板或签名未获批准,或参数不符合模板")


# Sending the same text to the same number again cannot help: the message is
# given up at once and coordinators see whom it did not reach. The others are
# retried with back-off; an account problem is usually mended within the hours
# the retries span.
PERMANENT = frozenset({Failure.NUMBER, Failure.TEMPLATE})


class SmsError(Exception):
    """Raised by a backend when the message was not accepted. `failure` says
    why, `code` is the provider's own error code where it gave one."""

    def __init__(self, message="", *, failure=Failure.PROVIDER, code=""):
        super().__init__(message)
        self.failure = Failure(failure)
        self.code = code

    @property
    def permanent(self):
        return self.failure in PERMANENT

    @property
    def summary(self):
        """What went wrong, for coordinators: the reason, then the provider's code."""
        return f"{self.failure.label}({self.code})" if self.code else str(self.failure.label)


class Text(str):
    """A message as its full wording, with the template kind and parameters a
    provider that sends only approved templates needs."""

    def __new__(cls, body, kind, params):
        text = super().__new__(cls, body)
        text.kind = kind
        text.params = params
        return text

    def __reduce__(self):  # copied and pickled whole, kind and parameters too
        return (Text, (str(self), self.kind, self.params))


class Template:
    """One kind of text the site sends. `wording` is the text as the provider
    should approve it, with %(name)s for each parameter in `params` (in the
    order Tencent Cloud's parameter list takes them) and for `fixed` values
    that the approved template writes out itself, such as the site's address.
    Every template made is listed in `Template.all`, for the start-up check."""

    all = {}

    def __init__(self, kind, wording, params, fixed=()):
        self.kind = kind
        self.wording = wording
        self.params = tuple(params)
        self.fixed = tuple(fixed)
        Template.all[kind] = self

    def __repr__(self):
        return f"<Template {self.kind}>"

    def render(self, **values):
        """The text in full, and the parameters as a provider takes them: each
        cut to SMS_PARAM_MAX_LENGTH characters, since providers refuse a longer
        variable (Alibaba Cloud's limit for most is 35) and a refused text is
        given up."""
        missing = set(self.params + self.fixed) - set(values)
        if missing:
            raise KeyError(f"{self.kind} needs {sorted(missing)}")
        body = str(self.wording) % values
        return Text(body, self.kind, {name: shorten(values[name]) for name in self.params})


def shorten(value):
    longest = getattr(settings, "SMS_PARAM_MAX_LENGTH", 35)
    value = str(value)
    return value if len(value) <= longest else value[: longest - 1] + "…"


class ConsoleBackend:
    def send(self, mobile, text):
        sys.stdout.write(f"[短信] {mobile[:3]}****{mobile[-4:]}: {text}\n")


class MemoryBackend:
    """Keeps messages in a list, for tests."""

    outbox = []

    def send(self, mobile, text):
        self.outbox.append((mobile, text))


def get_backend():
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()

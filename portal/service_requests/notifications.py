"""Messages to the resident about their request: the reference when it
arrives, the reply once it may go out (after a supervisor's approval where the
category asks for it) and the reason when it is not taken on. Each is a row in
the outbox (portal.core.outbox), sent by SMS and, where the resident gave one,
by email, and retried with back-off: a gateway outage delays a reply but never
loses it.

Texts name the sub-district and the reference, never the problem nor the
answer: a phone's lock screen may be seen by others, and providers approve
fixed templates. The email, which the resident chose to give, carries the reply
or the reason in full."""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from portal.core import outbox
from portal.core.sms import Template

# Attempts at one message, and minutes to wait before each retry (the last
# repeated): over four hours, as for booking messages.
ATTEMPTS = 6
RETRY_MINUTES = (1, 5, 15, 60, 180)


def retry_delay(attempts):
    return datetime.timedelta(minutes=RETRY_MINUTES[min(attempts, len(RETRY_MINUTES)) - 1])


def lookup_url():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("suqiu:lookup")


def tell(request, kind):
    """Record the messages about `request` and send them once the change commits."""
    from .models import RequestMessage

    return outbox.record(RequestMessage, request, deliver, kind=kind, round=request.round)


# What each kind of message says; the provider approves each wording as a
# template (docs/booking.md lists them), with the address of the lookup page
# written into it.
TEMPLATES = {
    "received": Template(
        "request_received",
        gettext_lazy(
            "【金家岭街道】您反映的问题已收到,诉求编号 %(reference)s。"
            "可在 %(url)s 用编号和本手机号码查询办理进度。"
        ),
        params=("reference",),
        fixed=("url",),
    ),
    "rejected": Template(
        "request_rejected",
        gettext_lazy(
            "【金家岭街道】您反映的问题(编号 %(reference)s)不属于街道受理范围,"
            "原因和可以反映的渠道请到 %(url)s 用编号和本手机号码查看。"
        ),
        params=("reference",),
        fixed=("url",),
    ),
    "replied": Template(
        "request_replied",
        gettext_lazy(
            "【金家岭街道】您反映的问题(编号 %(reference)s)已有答复,"
            "请到 %(url)s 用编号和本手机号码查看并评价。"
        ),
        params=("reference",),
        fixed=("url",),
    ),
}


def message_text(message, channel):
    from .models import RequestMessage

    request = message.request
    values = {"reference": request.reference_display, "url": lookup_url()}
    if message.kind == RequestMessage.Kind.RECEIVED:
        return TEMPLATES["received"].render(**values)
    if message.kind == RequestMessage.Kind.REJECTED:
        text, detail = TEMPLATES["rejected"].render(**values), request.rejection_reason
    else:
        text, detail = TEMPLATES["replied"].render(**values), request.reply
    if channel == RequestMessage.Channel.EMAIL:
        return text + "\n\n" + detail
    return text


def send(message):
    subject = _("金家岭街道:诉求 %(reference)s 的办理情况") % {
        "reference": message.request.reference_display
    }
    outbox.send(message, message_text(message, message.channel), subject)


@task()
def deliver(message_id):
    """Send one message; on failure record why and when to try again. A reply
    from a round the resident has since reopened is not sent."""
    from .models import RequestMessage

    return outbox.deliver(
        RequestMessage.objects.select_related("request").filter(pk=message_id),
        deliver,
        send=send,
        attempts_allowed=ATTEMPTS,
        retry_delay=retry_delay,
    )

"""Messages to the resident about their request: the reference when it
arrives, the reply once it may go out (after a supervisor's approval where the
category asks for it) and the reason when it is not taken on. Each is a row in
the outbox (portal.core.outbox), sent by SMS and, where the resident gave one,
by email, and retried with back-off: a gateway outage delays a reply but never
loses it.

Texts name the sub-district and the reference, never the problem: a phone may
be seen by others."""

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from portal.core import outbox
from portal.core.sms import get_backend

# Attempts at one message, and minutes to wait before each retry (the last
# repeated): over four hours, as for booking messages.
ATTEMPTS = 6
RETRY_MINUTES = (1, 5, 15, 60, 180)
# Characters of a reply quoted in the SMS; the whole reply is on the status page.
SMS_REPLY_CHARS = 120


def retry_delay(attempts):
    return datetime.timedelta(minutes=RETRY_MINUTES[min(attempts, len(RETRY_MINUTES)) - 1])


def lookup_url():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("suqiu:lookup")


def tell(request, kind):
    """Record the messages about `request` and send them once the change commits."""
    from .models import RequestMessage

    channels = [RequestMessage.Channel.SMS]
    if request.email:
        channels.append(RequestMessage.Channel.EMAIL)
    made = [
        RequestMessage.objects.create(
            request=request, kind=kind, channel=channel, round=request.round
        )
        for channel in channels
    ]
    outbox.enqueue_on_commit(deliver, made)
    return made


def message_text(message, channel):
    from .models import RequestMessage

    request = message.request
    values = {"reference": request.reference_display, "url": lookup_url()}
    if message.kind == RequestMessage.Kind.RECEIVED:
        return (
            _(
                "【金家岭街道】您反映的问题已收到,诉求编号 %(reference)s。"
                "可在 %(url)s 用编号和本手机号码查询办理进度。"
            )
            % values
        )
    if message.kind == RequestMessage.Kind.REJECTED:
        text = request.rejection_reason
        lead = _("【金家岭街道】您反映的问题(编号 %(reference)s)不属于街道受理范围:") % values
    else:
        text = request.reply
        lead = _("【金家岭街道】您反映的问题(编号 %(reference)s)已有答复:") % values
    if channel == RequestMessage.Channel.SMS and len(text) > SMS_REPLY_CHARS:
        text = text[:SMS_REPLY_CHARS] + "……"
    ending = _("详情和评价请到 %(url)s 用编号和本手机号码查询。") % values
    return f"{lead}{text} {ending}"


def send(message):
    from .models import RequestMessage

    request = message.request
    text = message_text(message, message.channel)
    if message.channel == RequestMessage.Channel.SMS:
        get_backend().send(request.mobile, text)
    else:
        subject = _("金家岭街道:诉求 %(reference)s 的办理情况") % {
            "reference": request.reference_display
        }
        send_mail(subject, text, None, [request.email], fail_silently=False)


@task()
def deliver(message_id):
    """Send one message; on failure record why and when to try again. A reply
    from a round that has since been reopened is still sent: it was the answer
    at the time, and the status page shows what came after."""
    from .models import RequestMessage

    return outbox.deliver(
        RequestMessage.objects.select_related("request").filter(pk=message_id),
        deliver,
        send=send,
        attempts_allowed=ATTEMPTS,
        retry_delay=retry_delay,
    )

"""Messages to residents. A booking is committed first; each message is a
Notification row in the outbox (portal.core.outbox: an outage delays it but
never loses it) delivered by a django-tasks task enqueued on commit and retried
with back-off.

Texts name only the time, the place and the reference: a phone or calendar seen
by someone else must not reveal a counselling appointment."""

import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from portal.core import outbox
from portal.core.sms import Template

from . import conf
from .formatting import full_moment, short_moment


def retry_delay(attempts):
    """How long to wait after the `attempts`-th failed attempt at a message."""
    minutes = conf.get("MESSAGE_RETRY_MINUTES")
    return datetime.timedelta(minutes=minutes[min(attempts, len(minutes)) - 1])


def manage_url():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/yuyue/"


# What each kind of booking message says; the provider approves each wording
# as a template (docs/booking.md lists them), with the address of the site's
# booking lookup written into it.
TEMPLATES = {
    "confirmation": Template(
        "booking_confirmation",
        _(
            "【金家岭街道】您的预约已确认:%(time)s,地点:%(place)s。预约编号 %(reference)s。"
            "如需查看、改约或取消,请访问 %(url)s 并用本手机号码验证。"
        ),
        params=("time", "place", "reference"),
        fixed=("url",),
    ),
    "reminder": Template(
        "booking_reminder",
        _(
            "【金家岭街道】提醒:您预约了明天 %(time)s,地点:%(place)s。预约编号 %(reference)s。"
            "不能前来请提前取消:%(url)s"
        ),
        params=("time", "place", "reference"),
        fixed=("url",),
    ),
    "moved": Template(
        "booking_moved",
        _("【金家岭街道】您的预约已改到 %(time)s,地点:%(place)s。预约编号 %(reference)s。"),
        params=("time", "place", "reference"),
    ),
    "cancellation": Template(
        "booking_cancelled",
        _("【金家岭街道】您 %(time)s 在 %(place)s 的预约(编号 %(reference)s)已取消。"),
        params=("time", "place", "reference"),
    ),
    "offer": Template(
        "waitlist_offer",
        _(
            "【金家岭街道】您候补的时间有空位了:%(time)s,地点:%(place)s。已为您保留到 %(until)s,"
            "请在此之前访问 %(url)s 用本手机号码验证后确认,逾期将让给下一位。"
        ),
        params=("time", "place", "until"),
        fixed=("url",),
    ),
    "cancellation_with_reason": Template(
        "booking_cancelled_reason",
        _(
            "【金家岭街道】您 %(time)s 在 %(place)s 的预约(编号 %(reference)s)已取消。"
            "原因:%(reason)s"
        ),
        params=("time", "place", "reference", "reason"),
    ),
}


def message_text(notification):
    from .models import Notification

    booking = notification.booking
    values = {
        "time": full_moment(booking.starts_at),
        "place": booking.room.address,
        "reference": booking.reference_display,
        "url": manage_url(),
    }
    if booking.hold_expires_at:
        values["until"] = short_moment(booking.hold_expires_at)
    kind = notification.kind
    if kind == Notification.Kind.CANCELLATION and booking.cancel_reason:
        kind = "cancellation_with_reason"
        values["reason"] = booking.cancel_reason
    return TEMPLATES[kind].render(**values)


def notify(booking, kind):
    """Record the messages for a booking change and send them once it commits."""
    from .models import Notification

    return outbox.record(Notification, booking, deliver, kind=kind)


def send(notification):
    outbox.send(notification, message_text(notification), str(_("金家岭街道预约通知")))


@task()
def deliver(notification_id):
    """Send one message; on failure record why and when to try again."""
    from .models import Notification

    return outbox.deliver(
        Notification.objects.select_related("booking__room").filter(pk=notification_id),
        deliver,
        send=send,
        attempts_allowed=conf.get("MESSAGE_ATTEMPTS"),
        retry_delay=retry_delay,
    )

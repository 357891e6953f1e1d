"""Messages to residents. A booking is committed first; each message is a
Notification row (so an outage delays it but never loses it) delivered by a
django-tasks task enqueued on commit and retried with back-off.

Texts name only the time, the place and the reference: a phone or calendar seen
by someone else must not reveal a counselling appointment."""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from portal.core.privacy import scrub
from portal.core.sms import get_backend

from . import conf
from .formatting import full_moment

logger = logging.getLogger(__name__)


def retry_delay(attempts):
    """How long to wait after the `attempts`-th failed attempt at a message."""
    minutes = conf.get("MESSAGE_RETRY_MINUTES")
    return datetime.timedelta(minutes=minutes[min(attempts, len(minutes)) - 1])


def manage_url():
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/yuyue/"


def message_text(notification):
    from .models import Notification

    booking = notification.booking
    values = {
        "when": full_moment(booking.starts_at),
        "place": booking.room.address,
        "reference": booking.reference_display,
        "url": manage_url(),
    }
    texts = {
        Notification.Kind.CONFIRMATION: _(
            "【金家岭街道】您的预约已确认:%(when)s,地点:%(place)s。预约编号 %(reference)s。"
            "如需查看、改约或取消,请访问 %(url)s 并用本手机号码验证。"
        ),
        Notification.Kind.REMINDER: _(
            "【金家岭街道】提醒:您预约了明天 %(when)s,地点:%(place)s。预约编号 %(reference)s。"
            "不能前来请提前取消:%(url)s"
        ),
        Notification.Kind.MOVED: _(
            "【金家岭街道】您的预约已改到 %(when)s,地点:%(place)s。预约编号 %(reference)s。"
        ),
        Notification.Kind.CANCELLATION: _(
            "【金家岭街道】您 %(when)s 在 %(place)s 的预约(编号 %(reference)s)已取消。"
        ),
    }
    text = texts[notification.kind] % values
    if notification.kind == Notification.Kind.CANCELLATION and booking.cancel_reason:
        text += _("原因:%(reason)s") % {"reason": booking.cancel_reason}
    return text


def notify(booking, kind):
    """Record the messages for a booking change and send them once it commits."""
    from .models import Notification

    channels = [Notification.Channel.SMS]
    if booking.email:
        channels.append(Notification.Channel.EMAIL)
    notifications = [
        Notification.objects.create(booking=booking, kind=kind, channel=channel)
        for channel in channels
    ]
    for notification in notifications:
        transaction.on_commit(lambda pk=notification.pk: enqueue(pk))
    return notifications


def enqueue(notification_id):
    """Hand a message to the task queue; if even that fails, the row stays pending
    and `retry_due` picks it up."""
    try:
        deliver.enqueue(notification_id)
    except Exception:  # noqa: BLE001 - the queue being down must not fail a booking
        logger.warning("Notification %s could not be queued; it stays pending.", notification_id)


def schedule_retry(notification_id, run_after):
    """Queue the next attempt for later where the queue can defer (the database
    queue in production); otherwise `retry_due`, run from cron, picks it up."""
    if not deliver.get_backend().supports_defer:
        return
    try:
        deliver.using(run_after=run_after).enqueue(notification_id)
    except Exception:  # noqa: BLE001 - the row stays pending for retry_due
        logger.warning("Retry of notification %s could not be queued.", notification_id)


def send(notification):
    from .models import Notification

    text = message_text(notification)
    booking = notification.booking
    if notification.channel == Notification.Channel.SMS:
        get_backend().send(booking.mobile, text)
    else:
        send_mail(_("金家岭街道预约通知"), text, None, [booking.email], fail_silently=False)


@task()
def deliver(notification_id):
    """Send one message; on failure record why and when to try again."""
    from .models import Notification

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("booking__room")
            .filter(pk=notification_id, state=Notification.State.PENDING)
            .first()
        )
        if notification is None:
            return "not pending"
        if notification.booking.personal_data_erased_at is not None:
            notification.state = Notification.State.FAILED
            notification.last_error = "personal data erased"
            notification.save(update_fields=["state", "last_error"])
            return "erased"
        notification.attempts += 1
        booking = notification.booking
        try:
            send(notification)
        except Exception as error:  # noqa: BLE001 - any backend failure means retry later
            # A provider's message may quote the number or address it refused.
            reason = scrub(str(error), booking.mobile, booking.email)
            notification.last_error = f"{type(error).__name__}: {reason}"[:300]
            if notification.attempts >= conf.get("MESSAGE_ATTEMPTS"):
                notification.state = Notification.State.FAILED
            else:
                notification.next_attempt_at = timezone.now() + retry_delay(notification.attempts)
                transaction.on_commit(
                    lambda: schedule_retry(notification.pk, notification.next_attempt_at)
                )
            notification.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            logger.warning(
                "Notification %s attempt %s failed: %s",
                notification.pk,
                notification.attempts,
                type(error).__name__,
            )
            return "retry"
        notification.state = Notification.State.SENT
        notification.sent_at = timezone.now()
        notification.save(update_fields=["attempts", "state", "sent_at", "last_error"])
        return "sent"


def retry_due(now=None):
    """Queue every pending message whose next attempt is due; run from cron."""
    from .models import Notification

    due = Notification.objects.filter(
        state=Notification.State.PENDING, next_attempt_at__lte=now or timezone.now()
    ).values_list("pk", flat=True)
    count = 0
    for pk in due:
        enqueue(pk)
        count += 1
    return count

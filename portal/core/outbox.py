"""Messages to residents kept until they are delivered: each is a row (so a mail
or SMS outage delays it but never loses it), sent by a django-tasks task that
is enqueued once the change that made it commits, and retried with back-off.

A section subclasses `Message` with what the message is about, and its task
calls `deliver` with how to send one; bookings (counseling.notifications) and
residents' requests (portal.service_requests.notifications) do."""

import logging

from django.apps import apps
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .privacy import scrub
from .sms import SmsError, get_backend

logger = logging.getLogger(__name__)


class Message(models.Model):
    """One outgoing text or email and how its delivery went."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    class Channel(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        SMS = "sms", _("短信")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self):
        return (
            f"{self.get_kind_display()} / {self.get_channel_display()} / {self.get_state_display()}"
        )

    # The django-tasks task that delivers one message of the subclass, by import path.
    task_path = None
    # The subclass's foreign key to what the message is about (a booking, a
    # request): that holds the resident's mobile and email and when they were erased.
    about_field = None

    @property
    def about(self):
        return getattr(self, self.about_field)

    def superseded(self):
        """Why the message is no longer true and must not go out ("" if it is)."""
        return ""


def record(model, about, task, **fields):
    """Record a message of `model` about `about` by SMS, and by email too where
    the resident gave one; each is handed to `task` once the change commits."""
    channels = [Message.Channel.SMS]
    if about.email:
        channels.append(Message.Channel.EMAIL)
    made = [
        model.objects.create(channel=channel, **{model.about_field: about}, **fields)
        for channel in channels
    ]
    enqueue_on_commit(task, made)
    return made


def send(message, text, subject):
    """Send `text` by the message's channel to the resident it is about."""
    about = message.about
    if message.channel == Message.Channel.SMS:
        get_backend().send(about.mobile, text)
    else:
        send_mail(str(subject), str(text), None, [about.email], fail_silently=False)


def enqueue(task, message_id):
    """Hand a message to the task queue; if even that fails, the row stays
    pending and `retry_due` picks it up."""
    try:
        task.enqueue(message_id)
    except Exception:  # noqa: BLE001 - the queue being down must not fail what made it
        logger.warning("Message %s could not be queued; it stays pending.", message_id)


def enqueue_on_commit(task, messages):
    for message in messages:
        transaction.on_commit(lambda pk=message.pk: enqueue(task, pk))


def schedule_retry(task, message_id, run_after):
    """Queue the next attempt for later where the queue can defer (the database
    queue in production); otherwise `retry_due`, run from cron, picks it up."""
    if not task.get_backend().supports_defer:
        return
    try:
        task.using(run_after=run_after).enqueue(message_id)
    except Exception:  # noqa: BLE001 - the row stays pending for retry_due
        logger.warning("Retry of message %s could not be queued.", message_id)


def failure_text(error, about):
    """Why an attempt failed, as kept on the message: the reason a coordinator
    reads first where the SMS backend classified it. A provider's error may
    quote the number or address it refused, which is kept out."""
    if isinstance(error, SmsError):
        reason = f"{error.summary} {error}"
    else:
        reason = f"{type(error).__name__}: {error}"
    return scrub(reason, about.mobile, about.email)[:300]


def deliver(pending, task, *, send, attempts_allowed, retry_delay):
    """Make one attempt at the message `pending` (a queryset narrowed to its
    pk) holds, under a row lock: `send(message)` sends it. A message about a
    resident whose data was erased fails. After
    `attempts_allowed` attempts it fails, and before that waits
    `retry_delay(attempts)`; a text the provider can never deliver (an SmsError
    that is `permanent`: the number cannot receive texts, the template is not
    approved) fails at once. Returns what happened, for logs."""
    with transaction.atomic():
        # The message's row alone: a lock on the booking's room or on the
        # request, held while a slow gateway answers, would stall the bookings
        # of that room and the staff working on that request.
        message = (
            pending.select_for_update(of=("self",)).filter(state=Message.State.PENDING).first()
        )
        if message is None:
            return "not pending"
        about = message.about
        gone = "personal data erased" if about.personal_data_erased_at is not None else ""
        gone = gone or message.superseded()
        if gone:
            message.state = Message.State.FAILED
            message.last_error = gone
            message.save(update_fields=["state", "last_error"])
            return "not sent"
        message.attempts += 1
        try:
            send(message)
        except Exception as error:  # noqa: BLE001 - any backend failure means retry later
            message.last_error = failure_text(error, about)
            if message.attempts >= attempts_allowed or getattr(error, "permanent", False):
                message.state = Message.State.FAILED
            else:
                message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
                transaction.on_commit(
                    lambda: schedule_retry(task, message.pk, message.next_attempt_at)
                )
            message.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            logger.warning(
                "Message %s attempt %s failed: %s",
                message.pk,
                message.attempts,
                type(error).__name__,
            )
            return "retry"
        message.state = Message.State.SENT
        message.sent_at = timezone.now()
        message.save(update_fields=["attempts", "state", "sent_at", "last_error"])
        return "sent"


def retry_due(model, task, now=None):
    """Queue every pending message whose next attempt is due; run from cron."""
    due = model.objects.filter(
        state=Message.State.PENDING, next_attempt_at__lte=now or timezone.now()
    ).values_list("pk", flat=True)
    count = 0
    for pk in due:
        enqueue(task, pk)
        count += 1
    return count


def retry_all_due(now=None):
    """retry_due for the messages of every section; {model: how many queued}."""
    return {
        model: retry_due(model, import_string(model.task_path), now)
        for model in apps.get_models()
        if issubclass(model, Message)
    }

"""The daily reminder to each unit head (负责人) and the 街道's supervisors:
the requests of their subtree that are overdue or fall due today, by email.
It names requests by reference, category, unit and dates only; residents'
details stay in the admin, behind the access log."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .models import ServiceRequest, StaffPost, Unit

RECIPIENT_ROLES = (StaffPost.Role.HEAD, StaffPost.Role.SUPERVISOR)


def digest_for(user, today, full_names):
    """(subject, body, requests) for `user`, or None when nothing is due."""
    visible = ServiceRequest.objects.visible_to(user).select_related("category")
    overdue = list(visible.overdue(today).order_by("resolution_due_on", "received_at"))
    due_today = list(visible.due_on(today).order_by("received_at"))
    if not overdue and not due_today:
        return None
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")

    def line(request):
        link = base + reverse("requests:inspect", args=[request.pk])
        return (
            f"{request.reference_display}  {request.category}  {full_names[request.unit_id]}  "
            f"{request.get_state_display()}  {_('期限')} {request.next_due_on:%Y-%m-%d}\n    {link}"
        )

    parts = [_("%(name)s,您好:") % {"name": user.get_full_name() or user.get_username()}, ""]
    if overdue:
        parts += [_("已逾期 %(count)d 件:") % {"count": len(overdue)}, *map(line, overdue), ""]
    if due_today:
        parts += [
            _("今天到期 %(count)d 件:") % {"count": len(due_today)},
            *map(line, due_today),
            "",
        ]
    parts.append(_("请登录后台“居民诉求 → 诉求工单”办理。本邮件由系统每天自动发送。"))
    subject = _("【金家岭街道】诉求工单提醒:逾期 %(overdue)d 件,今天到期 %(today)d 件") % {
        "overdue": len(overdue),
        "today": len(due_today),
    }
    return subject, "\n".join(parts), overdue + due_today


def send_digests(today=None):
    """Email each head and supervisor with something due. Returns (sent,
    nothing_due, no_email, failed) as lists of usernames; one failed message
    does not stop the others."""
    today = today or timezone.localdate()
    full_names = Unit.full_names()
    sent, nothing_due, no_email, failed = [], [], [], []
    posts = StaffPost.objects.filter(role__in=RECIPIENT_ROLES, user__is_active=True)
    for post in posts.select_related("user", "unit").order_by("unit__path", "user__username"):
        user = post.user
        digest = digest_for(user, today, full_names)
        if digest is None:
            nothing_due.append(user.get_username())
            continue
        if not user.email:
            no_email.append(user.get_username())
            continue
        subject, body, requests = digest
        try:
            send_mail(subject, body, None, [user.email])
        except OSError:
            failed.append(user.get_username())
            continue
        audit.record(user, audit.Action.EXPORT, requests, detail="每日提醒邮件")
        sent.append(user.get_username())
    return sent, nothing_due, no_email, failed

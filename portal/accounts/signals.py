"""Sign-in, sign-out and lockout events for the audit log, and the start of each
staff session's clock."""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import sessions
from .audit import log_event


@receiver(user_logged_in, dispatch_uid="accounts_login_succeeded")
def login_succeeded(sender, request, user, **kwargs):
    sessions.start_clock(request.session)
    log_event("login.succeeded", request, user=user)


@receiver(user_login_failed, dispatch_uid="accounts_login_failed")
def login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`.
    log_event(
        "login.failed",
        request,
        level=logging.WARNING,
        username=str(credentials.get("username", ""))[:150],
    )


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def locked_out(sender, request, username, ip_address, **kwargs):
    log_event("login.locked_out", request, level=logging.WARNING, username=username or "")


@receiver(user_logged_out, dispatch_uid="accounts_logged_out")
def logged_out(sender, request, user, **kwargs):
    reason = getattr(request, "staff_session_end_reason", "logout")
    log_event("logout", request, user=user, reason=reason)

import logging
import unicodedata

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import PasswordResetForm

from portal.core.clients import client_key
from portal.core.forms import OneTimeCodeField
from portal.core.ratelimit import count_attempt

from .audit import log_event


class CodeForm(forms.Form):
    """The six-digit code from the authenticator app."""

    code = OneTimeCodeField(
        label=_("验证码"),
        help_text=_("打开手机上的验证器应用,输入“金家岭街道门户”当前显示的 6 位数字。"),
        invalid=_("请输入 6 位数字验证码。"),
        error_messages={"required": _("请输入 6 位数字验证码。")},
    )


class ThrottledPasswordResetForm(PasswordResetForm):
    """The admin's password reset, sending at most a few mails per address and per
    visitor an hour. Over the limit nothing is sent and the page says what it
    always says (a mail was sent if the address belongs to an account), so the
    limit tells nobody whether an address has an account."""

    def save(self, *args, request=None, **kwargs):
        # Counted as Django matches accounts: case-insensitively, so ſ and s or
        # full-width letters cannot give one mailbox counters of its own.
        email = unicodedata.normalize("NFKC", self.cleaned_data["email"].strip()).casefold()
        per_email, per_client = settings.PASSWORD_RESET_LIMITS
        allowed = count_attempt("password-reset:email", email, *per_email)
        if request is not None:
            allowed = (
                count_attempt("password-reset:client", client_key(request), *per_client) and allowed
            )
        if not allowed:
            log_event("password_reset.throttled", request, level=logging.WARNING)
            return
        log_event("password_reset.requested", request)
        super().save(*args, request=request, **kwargs)

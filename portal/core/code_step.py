"""The SMS code step between a resident's form and what it does (a booking, a
lookup, a request): what was typed waits in the session, encrypted, while the
code is on its way; the code page checks the code and then finishes the action.

Sections call `keep` and `ask_for_code` when their form is valid, and
`code_page` from the view at the code step's URL; the rules about codes live in
portal.core.verification."""

import json
import logging

from cryptography.fernet import InvalidToken
from django.contrib import messages
from django.db import OperationalError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import privacy, verification
from .forms import SmsCodeForm, error_summary

TOO_MANY = gettext_lazy("尝试次数过多,请稍后再试")
# The database could not answer in time: nothing was checked or used up.
BUSY_CODE = gettext_lazy(
    "系统繁忙,验证码还没有核对。请稍等片刻后再点一次按钮,刚收到的验证码仍然有效。"
)
BUSY_STATUS = 503

logger = logging.getLogger(__name__)


def keep(request, key, values):
    """Keep what the resident typed in the session, encrypted like a booking, for
    PENDING_FORM_MINUTES: a form left at the code step on a shared phone does not
    stay."""
    stamped = {**values, "kept_at": timezone.now().timestamp()}
    request.session[key] = privacy.encrypt(json.dumps(stamped))


def kept(request, key):
    """What keep() kept, or None once it is old or no longer readable (a data
    key that was rotated out)."""
    token = request.session.get(key)
    if not token:
        return None
    try:
        values = json.loads(privacy.decrypt(token))
    except (InvalidToken, ValueError):
        values = None
    kept_for = verification.knob("PENDING_FORM_MINUTES") * 60
    if values is None or timezone.now().timestamp() - values.pop("kept_at", 0) > kept_for:
        request.session.pop(key, None)
        return None
    return values


def status_of(refused):
    return {"limit": 429, "sms_failed": 503}.get(refused.reason, 400)


def ask_for_code(request, mobile, code_page_url, refuse, busy):
    """Send the SMS code and go to `code_page_url`; when it cannot be sent, answer
    with `refuse(message, status)`: the form again, everything typed kept. A code
    sent moments ago counts as sent (the code page says when another may be asked)."""
    try:
        verification.send_code(request, mobile)
    except verification.CodeRefused as refused:
        if refused.reason != "wait":
            return refuse(refused.message, status_of(refused))
    except OperationalError:
        logger.exception("Code not sent: the database did not answer in time.")
        return refuse(busy, BUSY_STATUS)
    return redirect(code_page_url)


def code_page(request, template, context, mobile, purpose, on_success):
    """Type the code, or ask for a new one; a right code proves `mobile` for
    `purpose` (verification.mark_verified) and runs `on_success()`, whose
    response is the page's. `template` extends the section's base and includes
    includes/code_step.html."""
    context = {
        **context,
        "masked_mobile": privacy.mask_mobile(mobile),
        "wait_seconds": verification.wait_before_resend(request, mobile),
        "code_minutes": verification.knob("LIFETIME_MINUTES"),
    }

    def show(form, error="", status=200):
        page = {**context, "form": form, "errors": error_summary(form, error)}
        return render(request, template, page, status=status)

    if request.method == "GET":
        return show(SmsCodeForm())
    if "resend" in request.POST:
        try:
            verification.send_code(request, mobile)
        except OperationalError:
            logger.exception("Code not sent: the database did not answer in time.")
            return show(SmsCodeForm(), BUSY_CODE, status=BUSY_STATUS)
        except verification.CodeRefused as refused:
            context["wait_seconds"] = refused.wait_seconds
            return show(SmsCodeForm(), refused.message, status_of(refused))
        messages.success(request, _("新的验证码已发送,请查看短信。"))
        return redirect(request.path)
    form = SmsCodeForm(request.POST)
    try:
        # Attempts are counted in the database, so a busy one holds the count too.
        if not verification.attempt_check(request):
            return show(form, TOO_MANY, status=429)
        if not form.is_valid():
            return show(form, status=400)
        code = verification.check_code(request, mobile, form.cleaned_data["code"], consume=False)
    except verification.CodeRefused as refused:
        return show(SmsCodeForm(), refused.message, status=400)
    except OperationalError:
        logger.exception("Code not checked: the database did not answer in time.")
        return show(form, BUSY_CODE, status=BUSY_STATUS)
    # The proof and the code's use count only once what the code was typed for is
    # done: a server error response saves no session, so when the database is too
    # busy the same code is asked for again and still works.
    verification.mark_verified(request, mobile, purpose)
    try:
        response = on_success()
    except OperationalError:
        logger.exception("Code step not finished: the database did not answer in time.")
        verification.forget(request, purpose)
        return show(form, BUSY_CODE, status=BUSY_STATUS)
    request.session.cycle_key()
    verification.consume(code)
    return response

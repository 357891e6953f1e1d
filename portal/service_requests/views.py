"""The resident's side of a request: looking it up with its reference and the
mobile given with it, seeing where it stands and what was done, and rating
the reply. No account: a successful lookup lets this browser session see that
one request for half an hour. Pages with a resident's request are never
cached."""

import logging
import time

from django.contrib import messages
from django.db import OperationalError, transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.core import verification
from portal.core.clients import client_key
from portal.core.forms import error_summary
from portal.core.privacy import mobile_digest, mobile_digests
from portal.core.ratelimit import count_attempt

from . import handling, notices
from .forms import LookupForm, RatingForm
from .handling import RequestRefused
from .models import ServiceRequest
from .public import public_state, timeline

logger = logging.getLogger(__name__)

SESSION_KEY = "suqiu_request"
# 我要反映 (portal.service_requests.reporting): what was typed while the SMS
# code is on its way, and the reference of what was reported.
PENDING_KEY = "suqiu_pending_report"
DONE_KEY = "suqiu_reported"
# What a mobile proven there opens (portal.core.verification): reporting with it.
PURPOSE = "request"
# How long a lookup lets the session see the request: long enough to read the
# reply and rate it, short enough for a shared phone.
SESSION_SECONDS = 30 * 60
# (attempts, window in seconds): generous for a household, useless for
# guessing eight-digit references.
LIMITS = {
    ("lookup", "ip"): (10, 15 * 60),
    ("lookup", "mobile"): (10, 15 * 60),
    ("rating", "ip"): (20, 60 * 60),
    # Reports: a household may report a few problems an hour; a flood may not.
    ("report", "ip"): (10, 60 * 60),
    ("report", "mobile"): (5, 60 * 60),
}
TOO_MANY = gettext_lazy("尝试次数过多,请 15 分钟后再试。")
NOT_FOUND = gettext_lazy(
    "没有找到这条诉求。请核对诉求编号和手机号码:手机号码要填提交时填写的那一个。"
)
BUSY = gettext_lazy("系统繁忙,这次没有完成,您填写的内容还在。请稍等片刻后再试。")


def attempt(action, kind, value):
    allowed, window = LIMITS[(action, kind)]
    return count_attempt(f"service_requests:{action}:{kind}", value, allowed, window)


def _render_lookup(request, form, error="", status=200):
    context = {
        "page_title": _("查询我反映的问题"),
        "form": form,
        "errors": error_summary(form, error),
    }
    return render(request, "service_requests/lookup.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def lookup(request):
    if request.method == "GET":
        return _render_lookup(request, LookupForm())
    form = LookupForm(request.POST)
    try:
        if not attempt("lookup", "ip", client_key(request)):
            return _render_lookup(request, form, TOO_MANY, status=429)
        if not form.is_valid():
            return _render_lookup(request, form, status=400)
        mobile = form.cleaned_data["mobile"]
        if not attempt("lookup", "mobile", mobile_digest(mobile)):
            return _render_lookup(request, form, TOO_MANY, status=429)
        found = ServiceRequest.objects.filter(
            reference=form.cleaned_data["reference"],
            mobile_hash__in=mobile_digests(mobile),
            personal_data_erased_at__isnull=True,
        ).first()
    except OperationalError:
        logger.exception("Request lookup not done: the database did not answer in time.")
        return _render_lookup(request, form, BUSY, status=503)
    if found is None:
        return _render_lookup(request, form, NOT_FOUND, status=404)
    request.session.cycle_key()
    remember(request, found)
    return redirect("suqiu:status")


def remember(request, found):
    """Let this session see `found` for SESSION_SECONDS."""
    request.session[SESSION_KEY] = {"pk": found.pk, "at": time.time()}


def _looked_up(request):
    """The request this session looked up within SESSION_SECONDS, or None."""
    kept = request.session.get(SESSION_KEY)
    if not kept or time.time() - kept["at"] > SESSION_SECONDS:
        request.session.pop(SESSION_KEY, None)
        return None
    return (
        ServiceRequest.objects.select_related("category", "place")
        .filter(pk=kept["pk"], personal_data_erased_at__isnull=True)
        .first()
    )


def _render_status(request, found, form=None, error="", status=200):
    context = {
        "page_title": _("诉求 %(reference)s") % {"reference": found.reference_display},
        "found": found,
        "state_label": public_state(found),
        "steps": timeline(found),
        "form": form if form is not None else RatingForm(),
        "may_rate": found.state == ServiceRequest.State.REPLIED,
        "errors": error_summary(form, error),
    }
    return render(request, "service_requests/status.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def status(request):
    found = _looked_up(request)
    if found is None:
        messages.info(request, _("为保护您的信息,查询半小时后需要重新输入诉求编号和手机号码。"))
        return redirect("suqiu:lookup")
    if request.method == "GET":
        return _render_status(request, found)
    form = RatingForm(request.POST)
    try:
        if not attempt("rating", "ip", client_key(request)):
            return _render_status(request, found, form, TOO_MANY, status=429)
        if not form.is_valid():
            return _render_status(request, found, form, status=400)
        if form.cleaned_data["website"]:
            return redirect("suqiu:status")
        rated = handling.rate(found, form.cleaned_data["rating"], form.cleaned_data["comment"])
    except RequestRefused as refused:
        return _render_status(request, found, form, refused.message, status=409)
    except OperationalError:
        logger.exception("Rating not saved: the database did not answer in time.")
        return _render_status(request, found, form, BUSY, status=503)
    if rated.rating == ServiceRequest.Rating.DISSATISFIED:
        transaction.on_commit(lambda: notices.dissatisfied(rated))
    if rated.state == ServiceRequest.State.REOPENED:
        messages.success(request, _("谢谢您的评价。这件事将重新办理,办理结果会再答复您。"))
    else:
        messages.success(request, _("谢谢您的评价,这条诉求已办结。"))
    return redirect("suqiu:status")


@require_http_methods(["POST"])
def leave(request):
    """Forget in this session the looked-up request, a report in progress or
    just made, and the proven number (a shared phone)."""
    for key in (SESSION_KEY, PENDING_KEY, DONE_KEY):
        request.session.pop(key, None)
    verification.forget(request, PURPOSE)
    messages.info(request, _("已退出,这台设备上不再显示您的诉求。"))
    return redirect("suqiu:lookup")

"""The waitlist (候补) for residents: join a room's waitlist for some days
with a proven mobile; later, in 我的预约, confirm or decline a time held for
them, or leave the waitlist. The rules are counseling.booking's."""

import datetime
import logging

from django.contrib import messages
from django.db import OperationalError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.core import code_step, verification
from portal.core.code_step import BUSY_STATUS, TOO_MANY
from portal.core.forms import error_summary

from . import conf, ratelimit
from .booking import BookingRefused, claim_hold, decline_hold, join_waitlist, leave_waitlist
from .formatting import day_label, session, short_moment
from .forms import HoldForm, WaitlistForm
from .models import Booking, WaitlistEntry
from .views import BUSY, PURPOSE, _remember, proven, room_listed

logger = logging.getLogger(__name__)

PENDING_WAITLIST_KEY = "yuyue_pending_waitlist"
JOINED_KEY = "yuyue_waitlist_joined"


def _days_open(room):
    today = timezone.localdate()
    return today, today + datetime.timedelta(days=room.horizon_days)


def _context(room):
    first, last = _days_open(room)
    return {
        "room": room,
        "first": first,
        "last": last,
        "last_label": day_label(last),
        "hold_minutes": _hold_minutes(),
        "page_title": _("登记候补"),
    }


def _hold_minutes():
    return conf.get("WAITLIST_HOLD_MINUTES")


def _render(request, context, form, error="", status=200, free=False):
    context = {
        **context,
        "form": form,
        "errors": error_summary(form, error),
        "free": free,
        "proven": verification.verified_hashes(request, PURPOSE) is not None,
    }
    return render(request, "counseling/waitlist_form.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def join(request, room_id):
    """The days the resident could come and the mobile to text; a POST sends
    the code that proves the mobile, or joins at once when this session proved it."""
    _version, room = room_listed(room_id)
    context = _context(room)
    bounds = {"first": context["first"], "last": context["last"]}
    if request.method == "GET":
        initial = {"first_day": context["first"], "last_day": context["last"]}
        return _render(request, context, WaitlistForm(initial=initial, **bounds))
    form = WaitlistForm(request.POST, **bounds)
    try:
        if not ratelimit.attempt_from_client(request, "waitlist"):
            return _render(request, context, form, TOO_MANY, status=429)
        if form.is_robot:
            return _render(
                request,
                context,
                WaitlistForm(**bounds),
                _("提交没有成功,请刷新页面后重新填写。"),
                400,
            )
        if not form.is_valid():
            return _render(request, context, form, status=400)
        data = form.typed_data()
        if not ratelimit.attempt_for_mobile("waitlist", data["mobile"]):
            return _render(request, context, form, TOO_MANY, status=429)
        if verification.is_verified(request, data["mobile"], PURPOSE):
            return _join(request, room, data, form)
    except OperationalError:
        logger.exception("Waitlist form not handled: the database did not answer in time.")
        return _render(request, context, form, BUSY, status=BUSY_STATUS)
    code_step.keep(request, PENDING_WAITLIST_KEY, {"room": room.pk, **data})
    return code_step.ask_for_code(
        request,
        data["mobile"],
        "counseling:waitlist_verify",
        lambda message, status: _render(request, context, form, message, status=status),
        busy=BUSY,
    )


def _join(request, room, data, form=None, busy_raises=False):
    context = _context(room)
    form = form or WaitlistForm(data=data, first=context["first"], last=context["last"])
    try:
        entry = join_waitlist(
            room=room,
            first_day=datetime.date.fromisoformat(data["first_day"]),
            last_day=datetime.date.fromisoformat(data["last_day"]),
            mobile=data["mobile"],
        )
    except BookingRefused as refused:
        return _render(request, context, form, refused.message, 400, free=refused.code == "free")
    except OperationalError:
        if busy_raises:
            raise
        logger.exception("Waitlist entry not made: the database did not answer in time.")
        return _render(request, context, form, BUSY, status=BUSY_STATUS)
    request.session.pop(PENDING_WAITLIST_KEY, None)
    request.session[JOINED_KEY] = entry.pk
    return redirect("counseling:waitlist_done")


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """The code sent to the mobile; a right one puts the resident on the waitlist."""
    kept = code_step.kept(request, PENDING_WAITLIST_KEY)
    room = None
    if kept is not None:
        _version, room = room_listed(kept.pop("room"))
    if room is None:
        messages.warning(request, _("页面已过期,请重新登记候补。"))
        return redirect("counseling:rooms")
    context = {
        **_context(room),
        "page_title": _("输入短信验证码"),
        "base_template": "counseling/booking_base.html",
        "change_url": reverse("counseling:waitlist", args=[room.pk]),
        "change_label": _("返回修改候补信息"),
        "submit_label": _("确认登记候补"),
    }
    return code_step.code_page(
        request,
        "counseling/code_step.html",
        context,
        kept["mobile"],
        PURPOSE,
        lambda: _join(request, room, kept, busy_raises=True),
    )


@never_cache
def done(request):
    entry = (
        WaitlistEntry.objects.select_related("room")
        .filter(pk=request.session.get(JOINED_KEY))
        .first()
    )
    if entry is None:
        return redirect("yuyue:lookup")
    return render(
        request,
        "counseling/waitlist_done.html",
        {
            "entry": entry,
            "room": entry.room,
            "first_label": day_label(entry.first_day),
            "last_label": day_label(entry.last_day),
            "hold_minutes": _hold_minutes(),
            "page_title": _("已登记候补"),
        },
    )


# --- In 我的预约 (/yuyue/), for the mobile this session proved ----------------


def proven_holds(request):
    """Times held for the proven mobile and not yet run out, or None."""
    holds = proven(request, Booking.objects.select_related("room"))
    if holds is None:
        return None
    return holds.filter(status=Booking.Status.HELD, hold_expires_at__gt=timezone.now()).order_by(
        "starts_at"
    )


def proven_entries(request):
    """The proven mobile's entries still waiting or holding a time, or None."""
    entries = proven(request, WaitlistEntry.objects.select_related("room"))
    return None if entries is None else entries.live().order_by("created_at")


def waitlist_items(request):
    """What 我的预约 lists about the waitlist for the proven mobile."""
    holds = proven_holds(request) or []
    entries = proven_entries(request) or []
    return {
        "holds": [
            {
                "booking": hold,
                "when": session(hold.starts_at, hold.ends_at),
                "until": short_moment(hold.hold_expires_at),
            }
            for hold in holds
        ],
        "entries": [
            {
                "entry": entry,
                "first_label": day_label(entry.first_day),
                "last_label": day_label(entry.last_day),
            }
            for entry in entries
        ],
    }


def _held(request, reference):
    holds = proven_holds(request)
    if holds is None:
        return None
    return holds.filter(reference=reference).first()


@never_cache
@require_http_methods(["GET", "POST"])
def hold(request, reference):
    """Confirm a time held for this resident: the booking form without the mobile."""
    if verification.verified_hashes(request, PURPOSE) is None:
        return redirect("yuyue:lookup")
    held = _held(request, reference)
    if held is None:
        messages.warning(request, _("为您保留的时间已过或已确认,请看下面的列表。"))
        return redirect("yuyue:bookings")
    context = {
        "booking": held,
        "room": held.room,
        "when": session(held.starts_at, held.ends_at),
        "until": short_moment(held.hold_expires_at),
        "page_title": _("确认候补到的时间"),
    }
    form = HoldForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                booking = claim_hold(held, **form.typed_data())
            except BookingRefused as refused:
                error, status = refused.message, 400
            except OperationalError:
                logger.exception("Hold not confirmed: the database did not answer in time.")
                error, status = BUSY, BUSY_STATUS
            else:
                _remember(request, booking)
                return redirect("counseling:done")
        else:
            status = 400
    context |= {"form": form, "errors": error_summary(form if form.is_bound else None, error)}
    return render(request, "counseling/manage_hold.html", context, status=status)


@require_POST
def decline(request, reference):
    held = _held(request, reference)
    if held is not None:
        try:
            decline_hold(held)
        except OperationalError:
            logger.exception("Hold not declined: the database did not answer in time.")
            messages.error(request, BUSY)
            return redirect("yuyue:bookings")
        messages.success(
            request,
            _(
                "已放弃这个时间,这次候补也结束了;这个时间会留给下一位候补的居民。需要时可以再登记候补。"
            ),
        )
    return redirect("yuyue:bookings")


@require_POST
def leave(request, entry_id):
    entries = proven_entries(request)
    if entries is None:
        return redirect("yuyue:lookup")
    entry = entries.filter(pk=entry_id).first()
    if entry is not None:
        try:
            leave_waitlist(entry)
        except OperationalError:
            logger.exception("Waitlist not left: the database did not answer in time.")
            messages.error(request, BUSY)
            return redirect("yuyue:bookings")
        messages.success(request, _("已退出 %(room)s 的候补。") % {"room": entry.room.name})
    return redirect("yuyue:bookings")

"""The residents' side of the counselling rooms: the room list, booking in four
short steps (room, day, time, form) and managing a booking with its reference and
mobile. Views only ask `availability` and `booking`; the rules live there.

Pages that carry a form or personal data are never cached; personal data never
appears in a URL: after booking or looking a booking up, its id sits in the
session."""

import datetime
import json
import logging

from cryptography.fernet import InvalidToken
from django.contrib import messages
from django.db import OperationalError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.core import code_step, privacy, verification
from portal.core.code_step import BUSY_STATUS, TOO_MANY
from portal.core.forms import error_summary
from portal.core.references import reference_display

from . import ratelimit
from .availability import Availability, DayKind, listed_rooms
from .booking import (
    BookingRefused,
    cancel_by_resident,
    cancel_cutoff_hours,
    create_booking,
    is_late_cancellation,
    move_booking,
    refusal_message,
)
from .formatting import at, day_label, full_day_label, full_moment, moment, session, time_range
from .forms import BookingForm, LookupForm, SlotChoiceForm
from .ics import booking_calendar
from .models import LOCAL_TZ, Booking, Closure

SESSION_KEY = "yuyue_booking"
# What a mobile proven here opens (portal.core.verification): this number's bookings.
PURPOSE = "booking"
# What the resident typed, kept (encrypted) while the SMS code is on its way.
PENDING_BOOKING_KEY = "yuyue_pending_booking"
PENDING_LOOKUP_KEY = "yuyue_pending_lookup"
# The confirmation as it was committed (reference, time, place), so the page
# after booking shows it without reading the booking tables again.
CONFIRMATION_KEY = "yuyue_confirmation"
# The database could not take the change in time (another change held the room
# for too long): nothing was saved, and the resident can simply try again.
BUSY_BOOKING = gettext_lazy(
    "系统繁忙,预约还没有提交成功。您填写的内容都还在,请稍等片刻后再点“确认预约”。"
)
BUSY = gettext_lazy("系统繁忙,这次操作没有完成,预约保持原样。请稍等片刻后再试。")

logger = logging.getLogger(__name__)


def _listed_room(room_id):
    """(timetable version, the active room ``room_id`` or None)."""
    version, rooms = listed_rooms()
    return version, next((room for room in rooms if room.pk == room_id), None)


def room_listed(room_id):
    """(timetable version, the active room ``room_id``), or 404."""
    version, room = _listed_room(room_id)
    if room is None:
        raise Http404
    return version, room


def slot_links(room, slots):
    return [
        {
            "label": time_range(slot.start, slot.end),
            "url": _slot_url(room, slot.start),
        }
        for slot in slots
    ]


def _slot_url(room, start):
    local = timezone.localtime(start)
    return reverse(
        "counseling:book",
        kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()},
    )


# The rooms list shows each room's next free day, which bookings change without
# moving the content generation: no shared cache keeps it (portal.core.pagecache
# stores nothing marked no-cache). It holds nothing personal, so unlike the
# booking steps it is not no-store: the back button may show it.
@cache_control(no_cache=True)
def room_list(request):
    """The six counselling rooms, how to reach them and their next free day."""
    version, rooms = listed_rooms()
    availability = Availability.shown(rooms, version=version)
    for room in rooms:
        next_day = availability.next_free_day(room)
        room.next_free_label = day_label(next_day) if next_day else ""
    return render(
        request, "counseling/room_list.html", {"rooms": rooms, "page_title": _("心理咨询室")}
    )


def day_choices(free_counts):
    return [
        {"label": day_label(day), "count": count, "date": day} for day, count in free_counts.items()
    ]


@never_cache
def room_days(request, room_id):
    """Step 2: the days of this room with a free time."""
    version, room = room_listed(room_id)
    availability = Availability.shown([room], version=version)
    days = day_choices(availability.free_counts(room))
    return render(
        request,
        "counseling/room_days.html",
        {
            "room": room,
            "days": days,
            "closures": _closures_ahead(room),
            "page_title": _("选择日期"),
        },
    )


def _closures_ahead(room):
    """This room's closures (and those of every room) within its booking
    horizon, with the reason the coordinator gave, as residents should see it."""
    now = timezone.now()
    closures = Closure.objects.affecting(
        [room], now, now + datetime.timedelta(days=room.horizon_days)
    ).order_by("starts_at")
    return [
        {"from": moment(c.starts_at), "to": moment(c.ends_at), "reason": c.reason} for c in closures
    ]


@never_cache
def day_slots(request, room_id, day):
    """Step 3: the free times of one day."""
    version, room = room_listed(room_id)
    availability = Availability.shown([room], version=version)
    slots = availability.slots_on(room, day)
    return render(
        request,
        "counseling/day_slots.html",
        {
            "room": room,
            "day": day,
            "day_label": full_day_label(day),
            "is_holiday": availability.day_kind(day) is DayKind.HOLIDAY,
            "slots": slot_links(room, slots),
            "page_title": _("选择时间"),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def book(request, room_id, day, time):
    """Step 3: the resident's details for one slot. A POST sends the code that
    proves the mobile (step 4), or books at once when this session proved it.

    Whatever the database is too busy for, from the first look-up on, the
    resident gets 系统繁忙 with the form as typed, never a server error."""
    try:
        return _book(request, room_id, day, time)
    except OperationalError:
        logger.exception("Booking form not handled: the database did not answer in time.")
        return _render_busy_form(request, day, time)


def _render_busy_form(request, day, time):
    """The booking form again, as typed, built without the database."""
    context = {
        "form_action": request.path,
        "room": None,
        "when": full_moment(at(day, time)),
        "page_title": _("填写预约信息"),
        "form": BookingForm(request.POST) if request.method == "POST" else BookingForm(),
        "errors": [(None, BUSY_BOOKING)],
    }
    try:
        context["proven"] = verification.verified_hashes(request, PURPOSE) is not None
    except OperationalError:
        context["proven"] = False  # the session could not be read either
    return render(request, "counseling/booking_form.html", context, status=BUSY_STATUS)


def _book(request, room_id, day, time):
    version, room = room_listed(room_id)
    starts_at = datetime.datetime.combine(day, time, LOCAL_TZ)
    context = _booking_step_context(room, starts_at)
    if request.method == "GET":
        availability = Availability.shown([room], version=version)
        refusal = availability.explain(room, starts_at)
        if refusal is not None:
            return _render_refused(
                request, context, None, refusal_message(refusal, room), availability, status=200
            )
        pending = _pending_booking(request)
        typed = pending[2] if pending and pending[:2] == (room, starts_at) else None
        return _render_form(request, context, BookingForm(initial=typed))

    form = BookingForm(request.POST)
    if not ratelimit.attempt_from_client(request, "booking"):
        return _render_form(request, context, form, TOO_MANY, status=429)
    if form.is_robot:
        return _render_form(
            request, context, BookingForm(), _("提交没有成功,请刷新页面后重新填写。"), status=400
        )
    if not form.is_valid():
        return _render_form(request, context, form, status=400)
    data = form.typed_data()
    if not ratelimit.attempt_for_mobile("booking", data["mobile"]):
        return _render_form(request, context, form, TOO_MANY, status=429)
    if verification.is_verified(request, data["mobile"], PURPOSE):
        return _make_booking(request, room, starts_at, data, form=form)
    code_step.keep(
        request, PENDING_BOOKING_KEY, {"room": room.pk, "start": starts_at.isoformat(), **data}
    )
    return code_step.ask_for_code(
        request,
        data["mobile"],
        "counseling:verify",
        lambda message, status: _render_form(request, context, form, message, status=status),
        busy=BUSY_BOOKING,
    )


def _booking_step_context(room, starts_at):
    local = timezone.localtime(starts_at, LOCAL_TZ)
    return {
        # The form always posts to its slot, also when shown again by the code step.
        "form_action": _slot_url(room, starts_at),
        "room": room,
        "day": local.date(),
        "when": full_moment(starts_at),
        "page_title": _("填写预约信息"),
    }


def _make_booking(request, room, starts_at, data, form=None, busy_raises=False):
    """Book for a resident whose mobile this session proved; any refusal shows the
    form again with everything typed, and the day's other free times. A database
    too busy is the form with 系统繁忙, or (busy_raises) the caller's to answer."""
    context = _booking_step_context(room, starts_at)
    form = form or BookingForm.from_typed(data)
    try:
        booking = create_booking(room=room, starts_at=starts_at, **data)
    except BookingRefused as refused:
        return _render_refused(request, context, form, refused.message, Availability.shown([room]))
    except OperationalError:
        if busy_raises:
            raise
        logger.exception("Booking not made: the database did not answer in time.")
        return _render_form(request, context, form, BUSY_BOOKING, status=BUSY_STATUS)
    request.session.pop(PENDING_BOOKING_KEY, None)
    _remember(request, booking)
    return redirect("counseling:done")


def _pending_booking(request):
    """(room, start, typed details) waiting for the SMS code, or None."""
    kept = code_step.kept(request, PENDING_BOOKING_KEY)
    if kept is None:
        return None
    _version, room = _listed_room(kept.pop("room"))
    if room is None:
        return None
    return room, datetime.datetime.fromisoformat(kept.pop("start")), kept


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """Step 4: the code sent to the mobile; a right one makes the booking."""
    pending = _pending_booking(request)
    if pending is None:
        messages.warning(request, _("页面已过期,请重新选择咨询时间。"))
        return redirect("counseling:rooms")
    room, starts_at, data = pending
    context = _booking_step_context(room, starts_at)
    context |= {
        "page_title": _("输入短信验证码"),
        "base_template": "counseling/booking_base.html",
        "step_label": _("第 4 步,共 4 步:验证手机"),
        "change_url": context["form_action"],
        "change_label": _("返回修改预约信息"),
        "submit_label": _("确认预约"),
    }
    return code_step.code_page(
        request,
        "counseling/code_step.html",
        context,
        data["mobile"],
        PURPOSE,
        lambda: _make_booking(request, room, starts_at, data, busy_raises=True),
    )


def _render_form(request, context, form, error="", status=200):
    context = {
        **context,
        "form": form,
        "errors": error_summary(form, error),
        "proven": verification.verified_hashes(request, PURPOSE) is not None,
    }
    return render(request, "counseling/booking_form.html", context, status=status)


def _render_refused(request, context, form, message, availability, status=400):
    """The slot cannot be booked: say why and offer the day's other free times."""
    room, day = context["room"], context["day"]
    context = {
        **context,
        "refused": True,
        "alternatives": slot_links(room, availability.slots_on(room, day)),
    }
    return _render_form(request, context, form, message, status=status)


def _remember(request, booking):
    """Keep the booking in this browser's session only (a new session key, so a
    session id seen before cannot reach it)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = booking.pk
    room = booking.room
    confirmation = {
        "reference": booking.reference,
        "when": session(booking.starts_at, booking.ends_at),
        "room": {
            field: getattr(room, field)
            for field in ("name", "address", "directions", "phone", "session_minutes")
        },
    }
    request.session[CONFIRMATION_KEY] = privacy.encrypt(json.dumps(confirmation))


def _session_booking(request):
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return None
    return (
        Booking.objects.select_related("room")
        .filter(pk=pk, personal_data_erased_at__isnull=True)
        .first()
    )


def _booking_context(booking, **extra):
    return {
        "booking": booking,
        "room": booking.room,
        "when": session(booking.starts_at, booking.ends_at),
        **extra,
    }


@never_cache
def done(request):
    """The confirmation after booking, from what was committed and kept in the
    session: a database too busy a moment after the booking cannot keep the
    reference from the resident (the SMS carries it too)."""
    confirmation = _kept_confirmation(request)
    if confirmation is None:
        return redirect("yuyue:lookup")
    reference = confirmation["reference"]
    return render(
        request,
        "counseling/booking_done.html",
        {
            "booking": {"reference": reference, "reference_display": reference_display(reference)},
            "room": confirmation["room"],
            "when": confirmation["when"],
            "page_title": _("预约成功"),
        },
    )


def _kept_confirmation(request):
    token = request.session.get(CONFIRMATION_KEY)
    if not token or SESSION_KEY not in request.session:
        return None
    try:
        return json.loads(privacy.decrypt(token))
    except (InvalidToken, ValueError):
        return None


@never_cache
@require_http_methods(["GET", "POST"])
def lookup(request):
    """My bookings, step 1: the mobile the bookings were made with."""
    if verification.verified_hashes(request, PURPOSE) is not None:
        return redirect("yuyue:bookings")
    context = {"page_title": _("我的预约")}
    if request.method == "GET":
        return _render_lookup(request, context, LookupForm())
    form = LookupForm(request.POST)
    try:
        if not ratelimit.attempt_from_client(request, "lookup"):
            return _render_lookup(request, context, form, TOO_MANY, status=429)
        if not form.is_valid():
            return _render_lookup(request, context, form, status=400)
        mobile = form.cleaned_data["mobile"]
        if not ratelimit.attempt_for_mobile("lookup", mobile):
            return _render_lookup(request, context, form, TOO_MANY, status=429)
    except OperationalError:
        logger.exception("Lookup not counted: the database did not answer in time.")
        return _render_lookup(request, context, form, BUSY, status=BUSY_STATUS)
    code_step.keep(request, PENDING_LOOKUP_KEY, {"mobile": mobile})
    return code_step.ask_for_code(
        request,
        mobile,
        "yuyue:code",
        lambda message, status: _render_lookup(request, context, form, message, status=status),
        busy=BUSY,
    )


def _render_lookup(request, context, form, error="", status=200):
    context = {**context, "form": form, "errors": error_summary(form, error)}
    return render(request, "counseling/manage_lookup.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def lookup_code(request):
    """My bookings, step 2: the code sent to that mobile."""
    kept = code_step.kept(request, PENDING_LOOKUP_KEY)
    if kept is None:
        return redirect("yuyue:lookup")
    context = {
        "page_title": _("输入短信验证码"),
        "base_template": "counseling/manage_base.html",
        "change_url": reverse("yuyue:lookup"),
        "change_label": _("换一个手机号码"),
        "submit_label": _("查看我的预约"),
    }

    def show_bookings():
        request.session.pop(PENDING_LOOKUP_KEY, None)
        return redirect("yuyue:bookings")

    return code_step.code_page(
        request, "counseling/code_step.html", context, kept["mobile"], PURPOSE, show_bookings
    )


def proven(request, rows):
    """The rows (bookings, waitlist entries) of the mobile this session proved,
    or None when it proved none."""
    proved = verification.verified_hashes(request, PURPOSE)
    return None if proved is None else rows.with_mobile_hashes(proved)


def _proven_bookings(request):
    """The upcoming bookings of the mobile this session proved, or None."""
    bookings = proven(request, Booking.objects.select_related("room"))
    if bookings is None:
        return None
    return bookings.filter(personal_data_erased_at__isnull=True).upcoming().order_by("starts_at")


@never_cache
@require_http_methods(["GET", "POST"])
def bookings(request):
    """Every upcoming booking of the proven mobile; choose one to see or change."""
    upcoming = _proven_bookings(request)
    if upcoming is None:
        return redirect("yuyue:lookup")
    if request.method == "POST":
        chosen = upcoming.filter(reference=request.POST.get("booking", "")).first()
        if chosen is None:
            messages.warning(request, _("这个预约已经取消或已过期,请从下面重新选择。"))
            return redirect("yuyue:bookings")
        _remember(request, chosen)
        return redirect("yuyue:detail")
    from .follow_up_views import follow_up_items
    from .waitlist_views import waitlist_items

    return render(
        request,
        "counseling/manage_bookings.html",
        {
            "page_title": _("我的预约"),
            "bookings": [
                {"booking": booking, "when": session(booking.starts_at, booking.ends_at)}
                for booking in upcoming
            ],
            "masked_mobile": verification.verified_mask(request, PURPOSE),
            **waitlist_items(request),
            **follow_up_items(request),
        },
    )


def _managed(view):
    """Manage views act on the booking kept in the session, or send to the lookup."""

    def wrapped(request, *args, **kwargs):
        booking = _session_booking(request)
        if booking is None:
            return redirect("yuyue:lookup")
        return view(request, booking, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return never_cache(wrapped)


@_managed
def detail(request, booking):
    """The booking: time, place, status, and what can be done with it."""
    return render(
        request,
        "counseling/manage_detail.html",
        _booking_context(
            booking,
            page_title=_("预约详情"),
            can_change=booking.is_upcoming,
            proven=verification.verified_hashes(request, PURPOSE) is not None,
        ),
    )


@_managed
@require_http_methods(["GET", "POST"])
def cancel(request, booking):
    """Confirm, then cancel; within the cut-off it is recorded as late."""
    error, status = "", 200
    if request.method == "POST":
        try:
            booking = cancel_by_resident(booking)
        except BookingRefused as refused:
            error, status = refused.message, 400
        except OperationalError:
            logger.exception("Booking not cancelled: the database did not answer in time.")
            error, status = BUSY, BUSY_STATUS
        else:
            if booking.status == Booking.Status.LATE_CANCEL:
                messages.warning(
                    request,
                    _("预约已取消。因为离预约时间不足 %(hours)d 小时,这次取消记为逾期取消。")
                    % {"hours": cancel_cutoff_hours()},
                )
            else:
                messages.success(request, _("预约已取消。欢迎您需要时再来预约。"))
            return redirect("yuyue:detail")
    late = booking.is_upcoming and is_late_cancellation(booking)
    return render(
        request,
        "counseling/manage_cancel.html",
        _booking_context(
            booking,
            page_title=_("取消预约"),
            late=late,
            cutoff_hours=cancel_cutoff_hours(),
            errors=error_summary(None, error),
        ),
        status=status,
    )


@_managed
def move_days(request, booking):
    """Moving, step 1: another day in the same room."""
    if not booking.is_upcoming:
        return redirect("yuyue:detail")
    availability = Availability([booking.room], exclude_booking=booking)
    days = day_choices(availability.free_counts(booking.room))
    return render(
        request,
        "counseling/manage_move_days.html",
        _booking_context(booking, days=days, page_title=_("改约:选择日期")),
    )


@_managed
@require_http_methods(["GET", "POST"])
def move_slots(request, booking, day):
    """Moving, step 2: a free time that day; a POST moves the booking."""
    if not booking.is_upcoming:
        return redirect("yuyue:detail")
    room = booking.room
    slots = Availability([room], exclude_booking=booking).slots_on(room, day)
    form = SlotChoiceForm(request.POST or None, slots=slots)
    error, status = "", 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            booking = move_booking(booking, form.cleaned_data["start"])
        except BookingRefused as refused:
            error = refused.message
            slots = Availability([room], exclude_booking=booking).slots_on(room, day)
            form = SlotChoiceForm(slots=slots)
        except OperationalError:
            logger.exception("Booking not moved: the database did not answer in time.")
            error, status = BUSY, BUSY_STATUS
        else:
            messages.success(
                request,
                _("已改约到 %(when)s。") % {"when": session(booking.starts_at, booking.ends_at)},
            )
            return redirect("yuyue:detail")
    return render(
        request,
        "counseling/manage_move_slots.html",
        _booking_context(
            booking,
            form=form,
            has_slots=bool(slots),
            day_label=full_day_label(day),
            errors=error_summary(form if form.is_bound else None, error),
            page_title=_("改约:选择时间"),
        ),
        status=status,
    )


@_managed
def calendar_file(request, booking):
    """The booking as an .ics file, for this session's booking only."""
    if booking.status not in Booking.BLOCKING_STATUSES:
        raise Http404
    response = HttpResponse(booking_calendar(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="yuyue.ics"'
    return response


@require_POST
def leave(request):
    """Forget the booking, the proven mobile and anything typed in this browser
    (for a shared phone)."""
    from .waitlist_views import JOINED_KEY, PENDING_WAITLIST_KEY

    for key in (
        SESSION_KEY,
        CONFIRMATION_KEY,
        PENDING_BOOKING_KEY,
        PENDING_LOOKUP_KEY,
        PENDING_WAITLIST_KEY,
        JOINED_KEY,
    ):
        request.session.pop(key, None)
    verification.forget(request, PURPOSE)
    return redirect("yuyue:lookup")

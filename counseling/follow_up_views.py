"""Follow-ups (再次咨询) for residents: from a session they attended, in 我的预约,
book again with the same counsellor, choosing among that counsellor's free
times in the same room. The rules are counseling.booking's."""

import datetime
import logging

from django.contrib import messages
from django.db import OperationalError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.core.code_step import BUSY_STATUS
from portal.core.forms import error_summary

from .availability import Availability, count_by_day
from .booking import BookingRefused, book_follow_up, follow_up_slots, join_waitlist
from .formatting import full_day_label, session
from .forms import SlotChoiceForm
from .models import Booking
from .views import BUSY, _remember, day_choices, proven

logger = logging.getLogger(__name__)


def attended(request):
    """Sessions the proven mobile attended whose counsellor is known, newest
    first, or None when no mobile is proven."""
    sessions = proven(request, Booking.objects.select_related("room", "counsellor"))
    if sessions is None:
        return None
    return sessions.filter(
        status=Booking.Status.ATTENDED,
        counsellor__isnull=False,
        personal_data_erased_at__isnull=True,
    ).order_by("-starts_at")


def follow_up_items(request):
    sessions = attended(request) or []
    return {
        "attended": [
            {
                "booking": booking,
                "when": session(booking.starts_at, booking.ends_at),
                "counsellor": booking.counsellor.public_name,
            }
            for booking in sessions[:3]
        ]
    }


def _earlier(request, reference):
    sessions = attended(request)
    if sessions is None:
        return None
    earlier = sessions.filter(reference=reference).first()
    if earlier is None:
        raise Http404
    return earlier


def _context(earlier, **extra):
    return {
        "earlier": earlier,
        "room": earlier.room,
        "counsellor": earlier.counsellor.public_name,
        "page_title": _("再次咨询:同一位咨询师"),
        **extra,
    }


@never_cache
def days(request, reference):
    """The days the counsellor of that session has a free time in its room."""
    earlier = _earlier(request, reference)
    if earlier is None:
        return redirect("yuyue:lookup")
    counts = count_by_day(follow_up_slots(Availability([earlier.room]), earlier))
    return render(
        request,
        "counseling/follow_up_days.html",
        _context(earlier, days=day_choices(counts)),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def slots(request, reference, day):
    """That counsellor's free times on one day; a POST books the follow-up."""
    earlier = _earlier(request, reference)
    if earlier is None:
        return redirect("yuyue:lookup")
    free = [s for s in follow_up_slots(Availability([earlier.room]), earlier) if s.day == day]
    form = SlotChoiceForm(request.POST if request.method == "POST" else None, slots=free)
    error, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                booking = book_follow_up(earlier, form.cleaned_data["start"])
            except BookingRefused as refused:
                error = refused.message
                free = [
                    s
                    for s in follow_up_slots(Availability([earlier.room]), earlier)
                    if s.day == day
                ]
                form = SlotChoiceForm(slots=free)
            except OperationalError:
                logger.exception("Follow-up not booked: the database did not answer in time.")
                error, status = BUSY, BUSY_STATUS
            else:
                _remember(request, booking)
                messages.success(request, _("已约好再次咨询。"))
                return redirect("counseling:done")
    return render(
        request,
        "counseling/follow_up_slots.html",
        _context(
            earlier,
            form=form,
            day=day,
            has_slots=bool(free),
            day_label=full_day_label(day),
            errors=error_summary(form if form.is_bound else None, error),
        ),
        status=status,
    )


@require_POST
def wait(request, reference):
    """No free time with that counsellor: wait for one, from today to the
    room's horizon, with the mobile this session proved."""
    earlier = _earlier(request, reference)
    if earlier is None:
        return redirect("yuyue:lookup")
    today = timezone.localdate()
    try:
        join_waitlist(
            room=earlier.room,
            first_day=today,
            last_day=today + datetime.timedelta(days=earlier.room.horizon_days),
            mobile=earlier.mobile,
            counsellor=earlier.counsellor,
        )
    except BookingRefused as refused:
        messages.warning(request, refused.message)
        return redirect("yuyue:follow_up", reference=reference)
    except OperationalError:
        logger.exception("Follow-up waitlist not joined: the database did not answer in time.")
        messages.error(request, BUSY)
        return redirect("yuyue:follow_up", reference=reference)
    messages.success(request, _("已登记候补:这位咨询师有空出来的时间时,我们发短信告诉您。"))
    return redirect("yuyue:bookings")

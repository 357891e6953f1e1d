"""The only code that creates, cancels or moves bookings. Each change re-checks
the slot inside a transaction that holds the room: a row lock on PostgreSQL
(where an exclusion constraint also refuses overlapping rows) and the write lock
of SQLite's IMMEDIATE transactions."""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.core.locks import hold_until_commit
from portal.core.privacy import mobile_digest
from portal.core.references import new_reference

from . import conf
from .availability import Availability, Refusal
from .formatting import short_moment
from .models import LOCAL_TZ, Booking, Notification, Room
from .notifications import notify


class BookingRefused(Exception):
    """A booking change that cannot be made; `message` is for the resident."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def max_upcoming_per_mobile():
    return conf.get("MAX_UPCOMING_PER_MOBILE")


def cancel_cutoff_hours():
    return conf.get("CANCEL_CUTOFF_HOURS")


def cancel_cutoff():
    return datetime.timedelta(hours=cancel_cutoff_hours())


def refusal_message(refusal, room):
    if refusal is Refusal.TOO_SOON:
        return ngettext(
            "这个时段太近了,请至少提前 %(hours)d 小时预约。",
            "这个时段太近了,请至少提前 %(hours)d 小时预约。",
            room.min_notice_hours,
        ) % {"hours": room.min_notice_hours}
    if refusal is Refusal.TOO_FAR:
        return _("只能预约 %(days)d 天以内的时段,请选择更近的日期。") % {"days": room.horizon_days}
    return {
        Refusal.CLOSED: _("咨询室这一天不开放,请选择其他日期。"),
        Refusal.DAY_FULL: _("这一天的预约已满,请选择其他日期。"),
        Refusal.TAKEN: _("这个时段刚刚被别人预约了,请选择其他时段。"),
        Refusal.NOT_A_SLOT: _("请选择页面上列出的可预约时段。"),
    }[refusal]


def _locked_room(room):
    return Room.objects.select_for_update().get(pk=room.pk)


def _free_slot(room, start, now, exclude_booking=None):
    availability = Availability([room], now, exclude_booking=exclude_booking)
    refusal = availability.explain(room, start)
    if refusal is not None:
        raise BookingRefused(refusal.value, refusal_message(refusal, room))
    return next(slot for slot in availability.slots(room) if slot.start == start)


def _refuse_over_mobile_limit(mobile, now):
    """Refuse a booking when the mobile already holds the most upcoming bookings it
    may. The number was proven by an SMS code (portal.core.verification), so the
    refusal tells only its owner that it holds bookings. The check is serialised
    per number (a transaction-scoped advisory lock on PostgreSQL; SQLite has one
    writer), so two rooms booked at once cannot both slip under the cap."""
    hold_until_commit(mobile_digest(mobile))
    limit = max_upcoming_per_mobile()
    if Booking.objects.upcoming(now).for_mobile(mobile).count() >= limit:
        raise BookingRefused(
            "mobile_limit",
            ngettext(
                "这个手机号码已有 %(count)d 个还没到期的预约,暂时不能再约。"
                "如需换时间,请在“我的预约”中改约,或取消不需要的预约后再约。",
                "这个手机号码已有 %(count)d 个还没到期的预约,暂时不能再约。"
                "如需换时间,请在“我的预约”中改约,或取消不需要的预约后再约。",
                limit,
            )
            % {"count": limit},
        )


def _save_or_refuse(booking, room, **kwargs):
    """Save inside a savepoint; the database's overlap guard is the last word."""
    try:
        with transaction.atomic():
            booking.save(**kwargs)
    except IntegrityError as overlap:
        raise BookingRefused(Refusal.TAKEN.value, refusal_message(Refusal.TAKEN, room)) from overlap


def create_booking(
    *, room, starts_at, name, mobile, visit_type, email="", note="", note_consent=False, now=None
):
    """Book `starts_at` in `room` for a resident, or raise BookingRefused."""
    now = now or timezone.now()
    with transaction.atomic():
        room = _locked_room(room)
        _refuse_over_mobile_limit(mobile, now)
        slot = _free_slot(room, starts_at, now)
        booking = Booking(
            reference=new_reference(Booking.objects),
            room=room,
            counsellor_id=slot.counsellor_id,
            starts_at=slot.start,
            ends_at=slot.end,
            name=name,
            mobile=mobile,
            email=email,
            visit_type=visit_type,
            note=note if note_consent else "",
            note_consent_at=now if note_consent and note else None,
        )
        _save_or_refuse(booking, room)
        notify(booking, Notification.Kind.CONFIRMATION)
    return booking


def is_late_cancellation(booking, now=None):
    """Whether cancelling now falls within the cut-off and counts as late."""
    return booking.starts_at - (now or timezone.now()) < cancel_cutoff()


def cancel_by_resident(booking, now=None):
    """Cancel before the appointment; within the cut-off it is recorded as late."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status != Booking.Status.CONFIRMED:
            raise BookingRefused("not_active", _("这个预约已经取消或已结束,无需再取消。"))
        if booking.starts_at <= now:
            raise BookingRefused("started", _("预约时间已过,无法在线取消。"))
        late = is_late_cancellation(booking, now)
        booking.status = Booking.Status.LATE_CANCEL if late else Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.save(update_fields=["status", "cancelled_at", "updated_at"])
        notify(booking, Notification.Kind.CANCELLATION)
    return booking


def cancel_by_staff(booking, reason, now=None, tell_resident=True):
    """A coordinator cancels; the resident is told, with the reason (unless the
    coordinator chose not to, for a batch judged fake)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status != Booking.Status.CONFIRMED:
            raise BookingRefused("not_active", _("只能取消已确认的预约。"))
        booking.status = Booking.Status.STAFF_CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = reason
        booking.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        if tell_resident:
            notify(booking, Notification.Kind.CANCELLATION)
    return booking


def move_booking(booking, starts_at, room=None, now=None):
    """Move a confirmed booking to another free slot (in the same or another room)
    before the cut-off."""
    now = now or timezone.now()
    with transaction.atomic():
        target = _locked_room(room or booking.room)
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status != Booking.Status.CONFIRMED:
            raise BookingRefused("not_active", _("这个预约已经取消或已结束,不能改约。"))
        if booking.starts_at - now < cancel_cutoff():
            raise BookingRefused(
                "too_late_to_move",
                _("距离预约时间已不足 %(hours)d 小时,无法在线改约,请致电咨询室。")
                % {"hours": cancel_cutoff_hours()},
            )
        slot = _free_slot(target, starts_at, now, exclude_booking=booking)
        booking.room = target
        booking.starts_at, booking.ends_at = slot.start, slot.end
        booking.counsellor_id = slot.counsellor_id
        booking.reminder_sent_at = None
        _save_or_refuse(booking, target)
        notify(booking, Notification.Kind.MOVED)
    return booking


def record_outcome(booking, status, now=None):
    """Mark a confirmed booking attended or no-show, once its session has begun
    (a click on a booking days ahead must not mark it before the resident came)."""
    if status not in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW):
        raise ValueError(status)
    if not booking.has_begun(now):
        raise BookingRefused(
            "not_started",
            _("这次预约 %(when)s 才开始,开始之后才能标记到访情况。")
            % {"when": short_moment(booking.starts_at)},
        )
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status not in (
            Booking.Status.CONFIRMED,
            Booking.Status.ATTENDED,
            Booking.Status.NO_SHOW,
        ):
            raise BookingRefused("not_active", _("已取消的预约不能标记到访情况。"))
        booking.status = status
        booking.save(update_fields=["status", "updated_at"])
    return booking


def send_reminders(now=None):
    """Queue the day-before reminder for each confirmed booking on the next local
    day that has not had one; a second run finds nothing left to send."""
    now = now or timezone.now()
    tomorrow = timezone.localtime(now, LOCAL_TZ).date() + datetime.timedelta(days=1)
    day_start = datetime.datetime.combine(tomorrow, datetime.time(), LOCAL_TZ)
    day_end = day_start + datetime.timedelta(days=1)
    sent = 0
    with transaction.atomic():
        due = Booking.objects.select_for_update().filter(
            status=Booking.Status.CONFIRMED,
            starts_at__gte=day_start,
            starts_at__lt=day_end,
            reminder_sent_at__isnull=True,
            personal_data_erased_at__isnull=True,
        )
        for booking in due.select_related("room"):
            notify(booking, Notification.Kind.REMINDER)
            booking.reminder_sent_at = now
            booking.save(update_fields=["reminder_sent_at", "updated_at"])
            sent += 1
    return sent


ERASED_NAME = "已删除"


def erase_personal_data(before, now=None):
    """Erase the resident's details from bookings that ended before `before`,
    keeping room, times, status and visit type for anonymous statistics, and
    delete the message records of erased bookings and any created before then.
    Returns (bookings, messages)."""
    now = now or timezone.now()
    with transaction.atomic():
        erased = Booking.objects.filter(
            ends_at__lt=before, personal_data_erased_at__isnull=True
        ).update(
            name=ERASED_NAME,
            mobile="",
            mobile_hash="",
            email="",
            note="",
            cancel_reason="",
            personal_data_erased_at=now,
            updated_at=now,
        )
        messages, _by_model = Notification.objects.filter(
            Q(created_at__lt=before) | Q(booking__personal_data_erased_at__isnull=False)
        ).delete()
    return erased, messages


PERSONAL_FIELDS = ("name", "mobile", "email", "note", "cancel_reason")


def rotate_keys():
    """Re-encrypt every booking's details under the first data key and re-hash its
    mobile under the first lookup key, after a new key was put first. Older keys
    can be removed once this has run. Returns the number of bookings."""
    rotated = 0
    with transaction.atomic():
        for booking in Booking.objects.select_for_update().order_by("pk").iterator():
            booking.save(update_fields=PERSONAL_FIELDS)
            rotated += 1
    return rotated

"""The only code that creates, cancels or moves bookings. Each change re-checks
the slot inside a transaction that holds the room: a row lock on PostgreSQL
(where an exclusion constraint also refuses overlapping rows) and the write lock
of SQLite's IMMEDIATE transactions."""

import datetime
import logging

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
from .formatting import day_label, short_moment
from .models import LOCAL_TZ, Booking, Notification, Room, WaitlistEntry
from .notifications import notify

logger = logging.getLogger(__name__)


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


def _free_slot(room, start, now, exclude_booking=None, counsellor=None):
    availability = Availability([room], now, exclude_booking=exclude_booking)
    refusal = availability.explain(room, start)
    if refusal is not None:
        raise BookingRefused(refusal.value, refusal_message(refusal, room))
    slot = next(slot for slot in availability.slots(room) if slot.start == start)
    if counsellor is not None and slot.counsellor_id != counsellor.pk:
        raise BookingRefused(
            "other_counsellor", _("这个时间不是同一位咨询师值班,请从列出的时间里选择。")
        )
    return slot


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
    *,
    room,
    starts_at,
    name,
    mobile,
    visit_type,
    email="",
    note="",
    note_consent=False,
    counsellor=None,
    now=None,
):
    """Book `starts_at` in `room` for a resident, or raise BookingRefused. With
    `counsellor` (a follow-up, 再次咨询) only that counsellor's time will do."""
    now = now or timezone.now()
    with transaction.atomic():
        room = _locked_room(room)
        _refuse_over_mobile_limit(mobile, now)
        slot = _free_slot(room, starts_at, now, counsellor=counsellor)
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
        room = _locked_room(booking.room)
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
        offer_free_times(room, now)
    return booking


def cancel_by_staff(booking, reason, now=None, tell_resident=True):
    """A coordinator cancels; the resident is told, with the reason (unless the
    coordinator chose not to, for a batch judged fake)."""
    now = now or timezone.now()
    with transaction.atomic():
        room = _locked_room(booking.room)
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status != Booking.Status.CONFIRMED:
            raise BookingRefused("not_active", _("只能取消已确认的预约。"))
        booking.status = Booking.Status.STAFF_CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = reason
        booking.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        if tell_resident:
            notify(booking, Notification.Kind.CANCELLATION)
        offer_free_times(room, now)
    return booking


def move_booking(booking, starts_at, room=None, now=None):
    """Move a confirmed booking to another free slot (in the same or another room)
    before the cut-off."""
    now = now or timezone.now()
    with transaction.atomic():
        # Both rooms, in one order (by id), so two moves between them cannot
        # wait on each other; the time left behind is offered to the waitlist.
        rooms = sorted({booking.room_id, (room or booking.room).pk})
        locked = {pk: _locked_room(Room(pk=pk)) for pk in rooms}
        target = locked[(room or booking.room).pk]
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        left = locked[booking.room_id]
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
        offer_free_times(left, now)
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
        # Waitlist entries whose days were all over by then: the mobile goes, the
        # room, days and outcome stay for the figures.
        WaitlistEntry.objects.filter(
            last_day__lt=timezone.localtime(before, LOCAL_TZ).date(),
            personal_data_erased_at__isnull=True,
        ).update(mobile="", mobile_hash="", personal_data_erased_at=now)
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
        for entry in WaitlistEntry.objects.select_for_update().order_by("pk").iterator():
            entry.save(update_fields=["mobile", "mobile_hash"])
    return rotated


# --- The waitlist (候补) ------------------------------------------------------
#
# A resident who finds no free time in a room between two days leaves a
# verified mobile. Whenever time frees in that room (a cancellation, a move, a
# staff cancel, a hold declined or run out) offer_free_times() holds the
# earliest free slot each waiting resident wants, in the order they joined: a
# Booking in status HELD, inside the same transaction and under the same room
# lock as the change that freed it, and covered by the same overlap guard as
# bookings. The resident gets a text and confirms within the hold
# (claim_hold); a hold that runs out goes to the next resident.


def hold_duration():
    return datetime.timedelta(minutes=conf.get("WAITLIST_HOLD_MINUTES"))


def in_quiet_hours(now):
    """Whether `now` falls in the night hours when no offer is texted."""
    start, end = conf.get("WAITLIST_QUIET_HOURS")
    hour = timezone.localtime(now, LOCAL_TZ).hour
    if start <= end:  # within one day (none when equal)
        return start <= hour < end
    return hour >= start or hour < end


def hold_ends(now, starts_at):
    """When a hold made at `now` runs out: the hold's length after the text
    goes, which in the quiet hours is the morning's end of them; never after
    the session starts."""
    sent = now
    if in_quiet_hours(now):
        end = conf.get("WAITLIST_QUIET_HOURS")[1]
        morning = timezone.localtime(now, LOCAL_TZ)
        if morning.hour >= end:  # before midnight: the end is tomorrow's
            morning += datetime.timedelta(days=1)
        sent = morning.replace(hour=end, minute=0, second=0, microsecond=0)
    return min(sent + hold_duration(), starts_at)


def join_waitlist(*, room, first_day, last_day, mobile, counsellor=None, now=None):
    """Put a resident on the room's waitlist for the days first_day..last_day,
    or raise BookingRefused. Refused while the room still has a time those days
    (code "free"): the resident can simply book it."""
    now = now or timezone.now()
    today = timezone.localtime(now, LOCAL_TZ).date()
    with transaction.atomic():
        room = _locked_room(room)
        last_bookable = today + datetime.timedelta(days=room.horizon_days)
        if not room.is_active:
            raise BookingRefused("closed", refusal_message(Refusal.CLOSED, room))
        if first_day > last_day or first_day < today or last_day > last_bookable:
            raise BookingRefused(
                "bad_days",
                _("请选择今天到 %(last)s 之间的日期,而且开始日期不能晚于结束日期。")
                % {"last": day_label(last_bookable)},
            )
        hold_until_commit(mobile_digest(mobile))
        live = WaitlistEntry.objects.live().for_mobile(mobile)
        if live.filter(room=room).exists():
            raise BookingRefused(
                "already_waiting",
                _(
                    "这个手机号码已经在这间咨询室候补了。需要改日期,"
                    "请先在“我的预约”里退出候补再重新登记。"
                ),
            )
        if live.count() >= conf.get("WAITLIST_MAX_PER_MOBILE"):
            raise BookingRefused(
                "waitlist_limit",
                _("这个手机号码候补的咨询室已经够多了,请先在“我的预约”里退出一个再登记。"),
            )
        entry = WaitlistEntry(
            room=room,
            counsellor=counsellor,
            first_day=first_day,
            last_day=last_day,
            mobile=mobile,
            created_at=now,
        )
        if any(entry.wants(slot) for slot in Availability([room], now).slots(room)):
            raise BookingRefused("free", _("这段时间还有空余时段,可以直接预约,不用候补。"))
        entry.save()
    return entry


def _holds_and_bookings_ahead(mobile, now):
    """What counts against the per-mobile limit: upcoming bookings and the
    times held for the number."""
    return (
        Booking.objects.for_mobile(mobile)
        .filter(status__in=(Booking.Status.CONFIRMED, Booking.Status.HELD), starts_at__gte=now)
        .count()
    )


def offer_free_times(room, now):
    """Hold free times of `room` for the residents waiting for them, first come
    first served, each getting the earliest slot they want. Runs inside the
    caller's transaction, which holds the room's lock, in a savepoint of its
    own: a failure here is logged and left to run_waitlist, never costing the
    resident's own change. Returns the holds made."""
    try:
        with transaction.atomic():
            return _offer_free_times(room, now)
    except Exception:  # noqa: BLE001 - the cancellation or move stands; cron offers again
        logger.exception("Waitlist offers for room %s not made; run_waitlist will retry.", room.pk)
        return []


def _offer_free_times(room, now):
    today = timezone.localtime(now, LOCAL_TZ).date()
    if not room.is_active:
        return []
    waiting = WaitlistEntry.objects.waiting().filter(room=room, last_day__gte=today)
    holds, free = [], None
    for entry in waiting.order_by("created_at", "pk"):
        if free is None:  # afresh after each hold: it fills a slot, maybe its day's cap
            free = Availability([room], now).slots(room)
        wanted = [slot for slot in free if entry.wants(slot)]
        if not wanted:
            continue
        if _holds_and_bookings_ahead(entry.mobile, now) >= max_upcoming_per_mobile():
            continue  # could not confirm it; the next resident may
        slot = wanted[0]
        hold = Booking(
            reference=new_reference(Booking.objects),
            room=room,
            counsellor_id=slot.counsellor_id,
            starts_at=slot.start,
            ends_at=slot.end,
            status=Booking.Status.HELD,
            name="",
            mobile=entry.mobile,
            visit_type=(
                Booking.VisitType.FOLLOW_UP if entry.counsellor_id else Booking.VisitType.FIRST
            ),
            hold_expires_at=hold_ends(now, slot.start),
            waitlist_entry=entry,
        )
        try:
            _save_or_refuse(hold, room)
        except BookingRefused:
            continue
        entry.state = WaitlistEntry.State.OFFERED
        entry.save(update_fields=["state"])
        if not in_quiet_hours(now):
            notify(hold, Notification.Kind.OFFER)
        holds.append(hold)
        free = None
    return holds


def claim_hold(hold, *, name, visit_type, email="", note="", note_consent=False, now=None):
    """Confirm a time held for this resident, or raise BookingRefused. The hold
    is theirs until it runs out, so the minimum notice does not apply again; a
    closure, a change of hours or the per-mobile limit since it was offered
    does, and then the time goes to the next resident."""
    now = now or timezone.now()
    refused = None
    with transaction.atomic():
        room = _locked_room(hold.room)
        hold = Booking.objects.select_for_update().get(pk=hold.pk)
        if (
            hold.status != Booking.Status.HELD
            or hold.hold_expires_at <= now
            or hold.starts_at <= now
        ):
            raise BookingRefused(
                "hold_lapsed",
                _(
                    "为您保留的时间已过,这个时段已让给下一位居民。"
                    "您可以选择其他时间,或重新登记候补。"
                ),
            )
        # Judged as if the minimum notice had just been met: everything but the
        # clock is checked as of now.
        checked_at = hold.starts_at - datetime.timedelta(hours=room.min_notice_hours)
        refusal = Availability([room], checked_at, exclude_booking=hold).explain(
            room, hold.starts_at
        )
        try:
            if refusal is not None:
                raise BookingRefused(refusal.value, refusal_message(refusal, room))
            _refuse_over_mobile_limit(hold.mobile, now)
        except BookingRefused as refusal_of_hold:
            _release(hold, WaitlistEntry.State.MISSED, now)
            offer_free_times(room, now)
            refused = refusal_of_hold
        else:
            hold.status = Booking.Status.CONFIRMED
            hold.name = name
            hold.email = email
            hold.visit_type = visit_type
            hold.note = note if note_consent else ""
            hold.note_consent_at = now if note_consent and note else None
            hold.save()
            if hold.waitlist_entry_id:
                WaitlistEntry.objects.filter(pk=hold.waitlist_entry_id).update(
                    state=WaitlistEntry.State.BOOKED, ended_at=now
                )
            notify(hold, Notification.Kind.CONFIRMATION)
    if refused is not None:  # the release above is committed; the resident hears why
        raise refused
    return hold


def decline_hold(hold, now=None):
    """The resident does not want the time held for them: it goes to the next,
    and their wait ends (they may join again)."""
    now = now or timezone.now()
    with transaction.atomic():
        room = _locked_room(hold.room)
        hold = Booking.objects.select_for_update().get(pk=hold.pk)
        if hold.status == Booking.Status.HELD:
            _release(hold, WaitlistEntry.State.LEFT, now)
            offer_free_times(room, now)
    return hold


def leave_waitlist(entry, now=None):
    """Take a resident off a waitlist, with any time held for them."""
    now = now or timezone.now()
    with transaction.atomic():
        room = _locked_room(entry.room)
        held = list(
            Booking.objects.select_for_update().filter(
                waitlist_entry=entry, status=Booking.Status.HELD
            )
        )
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.state not in (WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED):
            return entry
        for hold in held:
            _release(hold, WaitlistEntry.State.LEFT, now)
        WaitlistEntry.objects.filter(pk=entry.pk).update(
            state=WaitlistEntry.State.LEFT, ended_at=now
        )
        if held:
            offer_free_times(room, now)
    entry.refresh_from_db()
    return entry


def _release(hold, entry_state, now):
    hold.status = Booking.Status.HOLD_RELEASED
    hold.cancelled_at = now
    hold.save(update_fields=["status", "cancelled_at", "updated_at"])
    if hold.waitlist_entry_id:
        WaitlistEntry.objects.filter(pk=hold.waitlist_entry_id).update(
            state=entry_state, ended_at=now
        )


def _worth_offering(room_id, now):
    """Whether a room has a free time someone waits for, read without a lock:
    run_waitlist locks only the rooms where it has something to do."""
    room = Room.objects.filter(pk=room_id, is_active=True).first()
    if room is None:
        return False
    today = timezone.localtime(now, LOCAL_TZ).date()
    entries = list(WaitlistEntry.objects.waiting().filter(room=room, last_day__gte=today))
    return bool(entries) and any(
        entry.wants(slot) for slot in Availability([room], now).slots(room) for entry in entries
    )


def run_waitlist(now=None):
    """Release the holds that ran out, passing their times on; text the offers
    held through the quiet hours once they are over; close the entries whose
    days have passed; and offer any time that freed without a booking change (a
    coordinator added hours). Run every minute from cron.
    Returns (holds released, entries ended, holds made)."""
    now = now or timezone.now()
    today = timezone.localtime(now, LOCAL_TZ).date()
    released = made = 0
    lapsed = set(
        Booking.objects.filter(status=Booking.Status.HELD, hold_expires_at__lte=now).values_list(
            "room_id", flat=True
        )
    )
    waiting = set(WaitlistEntry.objects.waiting().values_list("room_id", flat=True))
    for room_id in sorted(lapsed | {pk for pk in waiting - lapsed if _worth_offering(pk, now)}):
        with transaction.atomic():
            room = _locked_room(Room(pk=room_id))
            for hold in Booking.objects.select_for_update().filter(
                room=room, status=Booking.Status.HELD, hold_expires_at__lte=now
            ):
                _release(hold, WaitlistEntry.State.MISSED, now)
                released += 1
            made += len(offer_free_times(room, now))
    if not in_quiet_hours(now):
        _text_offers_held_overnight()
    ended = (
        WaitlistEntry.objects.waiting()
        .filter(last_day__lt=today)
        .update(state=WaitlistEntry.State.ENDED, ended_at=now)
    )
    return released, ended, made


def _text_offers_held_overnight():
    with transaction.atomic():
        for hold in (
            Booking.objects.select_for_update()
            .filter(status=Booking.Status.HELD)
            .exclude(notifications__kind=Notification.Kind.OFFER)
        ):
            notify(hold, Notification.Kind.OFFER)


# --- Follow-ups (再次咨询) ------------------------------------------------------


def follow_up_slots(availability, earlier):
    """The free times of the counsellor the resident saw in `earlier`, in its room."""
    return [
        slot
        for slot in availability.slots(earlier.room)
        if earlier.counsellor_id is not None and slot.counsellor_id == earlier.counsellor_id
    ]


def book_follow_up(earlier, starts_at, now=None):
    """Book a follow-up with the counsellor of the `earlier` booking, for the same
    resident (their details copied from it), or raise BookingRefused."""
    if (
        earlier.counsellor_id is None
        or earlier.personal_data_erased_at is not None
        or earlier.status != Booking.Status.ATTENDED
        or not earlier.room.is_active
    ):
        raise BookingRefused(
            "no_counsellor", _("找不到上次那位咨询师的安排,请直接选择咨询室和时间预约。")
        )
    return create_booking(
        room=earlier.room,
        starts_at=starts_at,
        name=earlier.name,
        mobile=earlier.mobile,
        email=earlier.email,
        visit_type=Booking.VisitType.FOLLOW_UP,
        counsellor=earlier.counsellor,
        now=now,
    )

"""Free slots for booking, computed without writing anything.

    free slots = opening ∩ duty occurrences − closures − holidays
                 − blocking bookings (padded by the buffer),
                 cut into session-length slots,
                 minus those inside the minimum notice or beyond the horizon,
                 minus days already at their cap.

The pure part (`free_slots`, `explain`) works on plain values and is tested on its
own. `Availability` loads those values for some rooms in a fixed number of queries:
opening hours and duty shifts come from django-scheduler, expanded in the
Asia/Shanghai time zone with cancelled occurrences dropped; holidays and make-up
workdays from the statutory calendar (portal.core.workdays).
"""

import datetime
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from portal.core.workdays import DayKind, day_kind, day_kinds, days_between

from .models import LOCAL_TZ, Booking, Closure, DutyShift, HolidayOpening

ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True, order=True)
class Interval:
    """A span of time; duty-shift intervals carry their counsellor's id as tag."""

    start: datetime.datetime
    end: datetime.datetime
    tag: int | None = field(default=None, compare=False)

    def overlaps(self, other):
        return self.start < other.end and other.start < self.end

    @property
    def day(self):
        return self.start.astimezone(LOCAL_TZ).date()

    def shifted(self, delta):
        return Interval(self.start + delta, self.end + delta, self.tag)


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime.datetime
    end: datetime.datetime
    room_id: int
    counsellor_id: int | None = None

    @property
    def day(self):
        return self.start.astimezone(LOCAL_TZ).date()


@dataclass(frozen=True)
class RoomRules:
    room_id: int
    session: datetime.timedelta = datetime.timedelta(minutes=50)
    buffer: datetime.timedelta = datetime.timedelta(minutes=10)
    min_notice: datetime.timedelta = datetime.timedelta(hours=2)
    horizon_days: int = 14
    daily_cap: int | None = None

    @classmethod
    def for_room(cls, room):
        return cls(
            room_id=room.pk,
            session=datetime.timedelta(minutes=room.session_minutes),
            buffer=datetime.timedelta(minutes=room.buffer_minutes),
            min_notice=datetime.timedelta(hours=room.min_notice_hours),
            horizon_days=room.horizon_days,
            daily_cap=room.daily_cap,
        )

    def last_day(self, now):
        return now.astimezone(LOCAL_TZ).date() + datetime.timedelta(days=self.horizon_days)


class Refusal(Enum):
    """Why a requested start time cannot be booked."""

    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    CLOSED = "closed"
    DAY_FULL = "day_full"
    TAKEN = "taken"
    NOT_A_SLOT = "not_a_slot"


def makeup_stand_in(date):
    """A make-up Saturday keeps Friday's timetable; a make-up Sunday keeps Monday's."""
    return date - ONE_DAY if date.weekday() == 5 else date + ONE_DAY


def apply_calendar(intervals, first, last, kinds, opened_days=frozenset()):
    """Keep each day's intervals, drop statutory holidays the room was not opened
    on, and give make-up workdays the timetable of their stand-in weekday."""
    by_day = defaultdict(list)
    for interval in intervals:
        by_day[interval.day].append(interval)
    kept = []
    for day in days_between(first, last):
        kind = kinds.get(day, DayKind.ORDINARY)
        if kind is DayKind.HOLIDAY and day not in opened_days:
            continue
        if kind is DayKind.MAKEUP_WORKDAY:
            stand_in = makeup_stand_in(day)
            kept.extend(interval.shifted(day - stand_in) for interval in by_day[stand_in])
        else:
            kept.extend(by_day[day])
    return kept


def merge(intervals):
    merged = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, interval.end))
        else:
            merged.append(interval)
    return merged


def staffed_intervals(opening, duty):
    """Opening hours ∩ duty shifts, as disjoint pieces tagged with a counsellor on
    duty: where shifts overlap, the one room still holds one session at a time."""
    pieces = sorted(
        Interval(max(band.start, shift.start), min(band.end, shift.end), shift.tag)
        for band in merge(opening)
        for shift in duty
        if band.overlaps(shift)
    )
    disjoint = []
    for piece in pieces:
        if disjoint and piece.start < disjoint[-1].end:
            if piece.end <= disjoint[-1].end:
                continue
            piece = Interval(disjoint[-1].end, piece.end, piece.tag)
        disjoint.append(piece)
    return disjoint


def cut_into_slots(rules, staffed):
    """Session-length slots from the start of each staffed piece, a buffer apart."""
    step = rules.session + rules.buffer
    slots = []
    for piece in staffed:
        start = piece.start
        while start + rules.session <= piece.end:
            slots.append(Slot(start, start + rules.session, rules.room_id, piece.tag))
            start += step
    return slots


def candidate_slots(rules, *, opening, duty, closures, kinds, opened_days, first, last):
    """Every slot the room offers, before bookings, notice, horizon and caps."""
    opening = apply_calendar(opening, first, last, kinds, opened_days)
    duty = apply_calendar(duty, first, last, kinds, opened_days)
    slots = cut_into_slots(rules, staffed_intervals(opening, duty))
    return [slot for slot in slots if not any(_overlaps(slot, closure) for closure in closures)]


def _overlaps(slot, interval):
    return slot.start < interval.end and interval.start < slot.end


def free_slots(rules, *, opening, duty, closures, bookings, kinds, opened_days=frozenset(), now):
    """The slots a resident may book now. `bookings` are the room's blocking
    bookings as Intervals."""
    first = now.astimezone(LOCAL_TZ).date()
    last = rules.last_day(now)
    candidates = candidate_slots(
        rules,
        opening=opening,
        duty=duty,
        closures=closures,
        kinds=kinds,
        opened_days=opened_days,
        first=first,
        last=last,
    )
    blocked = merge(Interval(b.start - rules.buffer, b.end + rules.buffer) for b in bookings)
    blocked_starts = [block.start for block in blocked]
    per_day = defaultdict(int)
    for booking in bookings:
        per_day[booking.day] += 1
    earliest = now + rules.min_notice
    return [
        slot
        for slot in candidates
        if slot.start >= earliest
        and slot.day <= last
        and not (rules.daily_cap and per_day[slot.day] >= rules.daily_cap)
        and not _blocked(slot, blocked, blocked_starts)
    ]


def _blocked(slot, blocked, blocked_starts):
    """Whether a slot overlaps the merged, sorted blocked intervals: only the last
    one starting before the slot ends can reach into it."""
    index = bisect_left(blocked_starts, slot.end) - 1
    return index >= 0 and blocked[index].end > slot.start


def explain(
    rules, start, *, opening, duty, closures, bookings, kinds, opened_days=frozenset(), now
):
    """Why `start` is not a free slot, or None when it is one."""
    if start < now + rules.min_notice:
        return Refusal.TOO_SOON
    day = start.astimezone(LOCAL_TZ).date()
    if day > rules.last_day(now):
        return Refusal.TOO_FAR
    offered = candidate_slots(
        rules,
        opening=opening,
        duty=duty,
        closures=closures,
        kinds=kinds,
        opened_days=opened_days,
        first=day,
        last=day,
    )
    if not offered:
        return Refusal.CLOSED
    if not any(slot.start == start for slot in offered):
        return Refusal.NOT_A_SLOT
    if rules.daily_cap and sum(1 for b in bookings if b.day == day) >= rules.daily_cap:
        return Refusal.DAY_FULL
    free = free_slots(
        rules,
        opening=opening,
        duty=duty,
        closures=closures,
        bookings=bookings,
        kinds=kinds,
        opened_days=opened_days,
        now=now,
    )
    if any(slot.start == start for slot in free):
        return None
    return Refusal.TAKEN


_EXPANDED = {}
_EXPANDED_LIMIT = 4096


def occurrences(event, start, end, tag=None):
    """An event's occurrences in [start, end) as Intervals, cancelled ones dropped.
    `start` must carry the named Asia/Shanghai zone: django-scheduler 0.12 expands
    rules in the zone of the start it is given (UTC by default).

    Expanding rules is most of the cost of availability, so the result is kept in
    the process, keyed by everything it depends on: the event as last saved, its
    rule and its persisted (moved or cancelled) occurrences."""
    rule = event.rule
    key = (
        event.pk,
        event.updated_on,
        (rule.frequency, rule.params) if rule else None,
        tuple((o.pk, o.updated_on) for o in event.occurrence_set.all()),
        start,
        end,
    )
    spans = _EXPANDED.get(key)
    if spans is None:
        spans = [
            (occurrence.start.astimezone(LOCAL_TZ), occurrence.end.astimezone(LOCAL_TZ))
            for occurrence in event.get_occurrences(start, end, clear_prefetch=False)
            if not occurrence.cancelled
        ]
        if len(_EXPANDED) >= _EXPANDED_LIMIT:
            _EXPANDED.clear()
        _EXPANDED[key] = spans
    return [Interval(span_start, span_end, tag) for span_start, span_end in spans]


class Availability:
    """Free slots for some rooms from now to the furthest horizon, loaded in a
    fixed number of queries whatever the number of rooms, bands or bookings."""

    def __init__(self, rooms, now=None, *, exclude_booking=None):
        from schedule.models import Event

        self.rooms = {room.pk: room for room in rooms}
        self.now = now or timezone.now()
        self.rules = {pk: RoomRules.for_room(room) for pk, room in self.rooms.items()}
        today = self.now.astimezone(LOCAL_TZ).date()
        last = max((rules.last_day(self.now) for rules in self.rules.values()), default=today)
        # One day either side: make-up weekends borrow the neighbouring weekday.
        self.first, self.last = today - ONE_DAY, last + ONE_DAY
        window_start = datetime.datetime.combine(self.first, datetime.time(), LOCAL_TZ)
        window_end = datetime.datetime.combine(self.last + ONE_DAY, datetime.time(), LOCAL_TZ)

        room_of_calendar = {room.calendar_id: pk for pk, room in self.rooms.items()}
        self.opening = defaultdict(list)
        self.duty = defaultdict(list)
        # A duty shift's event carries its counsellor; an opening band's has none.
        events = (
            Event.objects.filter(calendar_id__in=room_of_calendar)
            .annotate(
                duty_counsellor_id=Subquery(
                    DutyShift.objects.filter(event=OuterRef("pk")).values("counsellor_id")[:1]
                )
            )
            .select_related("rule")
            .prefetch_related("occurrence_set")
        )
        for event in events:
            room_id = room_of_calendar[event.calendar_id]
            if event.duty_counsellor_id is not None:
                self.duty[room_id] += occurrences(
                    event, window_start, window_end, tag=event.duty_counsellor_id
                )
            else:
                self.opening[room_id] += occurrences(event, window_start, window_end)

        self.closures = defaultdict(list)
        for closure in Closure.objects.affecting(self.rooms, window_start, window_end):
            interval = Interval(closure.starts_at, closure.ends_at)
            for room_id in [closure.room_id] if closure.room_id else self.rooms:
                self.closures[room_id].append(interval)

        self.opened_days = defaultdict(set)
        for room_id, date in HolidayOpening.objects.filter(
            room__in=self.rooms, date__range=(self.first, self.last)
        ).values_list("room_id", "date"):
            self.opened_days[room_id].add(date)

        self.bookings = defaultdict(list)
        blocking = Booking.objects.blocking().filter(
            room__in=self.rooms, starts_at__lt=window_end, ends_at__gt=window_start
        )
        if exclude_booking is not None:
            blocking = blocking.exclude(pk=exclude_booking.pk)
        for room_id, start, end in blocking.values_list("room_id", "starts_at", "ends_at"):
            self.bookings[room_id].append(Interval(start, end))

        self.kinds = day_kinds(self.first, self.last)

    def _inputs(self, room_id):
        return {
            "opening": self.opening[room_id],
            "duty": self.duty[room_id],
            "closures": self.closures[room_id],
            "bookings": self.bookings[room_id],
            "kinds": self.kinds,
            "opened_days": frozenset(self.opened_days[room_id]),
            "now": self.now,
        }

    def slots(self, room):
        return free_slots(self.rules[room.pk], **self._inputs(room.pk))

    def slots_on(self, room, day):
        return [slot for slot in self.slots(room) if slot.day == day]

    def days(self, room):
        """The days with at least one free slot, in order."""
        return sorted(self.free_counts(room))

    def free_counts(self, room):
        """How many free slots each day has, for the days that have any, in order."""
        counts = {}
        for slot in self.slots(room):
            counts[slot.day] = counts.get(slot.day, 0) + 1
        return counts

    def next_free_day(self, room):
        days = self.days(room)
        return days[0] if days else None

    def explain(self, room, start):
        return explain(self.rules[room.pk], start, **self._inputs(room.pk))

    def day_kind(self, day):
        return self.kinds.get(day) or day_kind(day)

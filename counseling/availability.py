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

import copy
import datetime
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from portal.core.workdays import DayKind, StatutoryCalendar, day_kind, days_between

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

    @cached_property
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

    @cached_property
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


@dataclass(frozen=True)
class RoomInputs:
    """Everything a room's free slots depend on besides its rules and the time:
    opening bands and duty shifts (before the statutory calendar is applied),
    closures and blocking bookings as Intervals, the kind of each day, and the
    holidays a coordinator opened the room on."""

    opening: Sequence[Interval] = ()
    duty: Sequence[Interval] = ()
    closures: Sequence[Interval] = ()
    bookings: Sequence[Interval] = ()
    kinds: Mapping[datetime.date, DayKind] = field(default_factory=dict)
    opened_days: frozenset = frozenset()

    def timetable(self, first, last):
        """Opening bands and duty shifts from `first` to `last` once holidays and
        make-up workdays are applied."""
        return (
            apply_calendar(self.opening, first, last, self.kinds, self.opened_days),
            apply_calendar(self.duty, first, last, self.kinds, self.opened_days),
        )


def _overlaps(slot, interval):
    return slot.start < interval.end and interval.start < slot.end


def _timing(rules, start, now):
    """TOO_SOON inside the minimum notice, TOO_FAR beyond the horizon, else None."""
    if start < now + rules.min_notice:
        return Refusal.TOO_SOON
    if start.astimezone(LOCAL_TZ).date() > rules.last_day(now):
        return Refusal.TOO_FAR
    return None


def assess(rules, inputs, *, now, first, last):
    """Every slot the room offers from `first` to `last` (staffed opening hours
    less closures, cut into sessions), each paired with why it cannot be booked
    now, or None when it is free. Each rule is applied here and only here."""
    opening, duty = inputs.timetable(first, last)
    candidates = [
        slot
        for slot in cut_into_slots(rules, staffed_intervals(opening, duty))
        if not any(_overlaps(slot, closure) for closure in inputs.closures)
    ]
    blocked = merge(Interval(b.start - rules.buffer, b.end + rules.buffer) for b in inputs.bookings)
    blocked_starts = [block.start for block in blocked]
    per_day = defaultdict(int)
    for booking in inputs.bookings:
        per_day[booking.day] += 1

    def refusal(slot):
        if timing := _timing(rules, slot.start, now):
            return timing
        if rules.daily_cap and per_day[slot.day] >= rules.daily_cap:
            return Refusal.DAY_FULL
        if _blocked(slot, blocked, blocked_starts):
            return Refusal.TAKEN
        return None

    return [(slot, refusal(slot)) for slot in candidates]


def free_slots(rules, inputs, *, now):
    """The slots a resident may book now."""
    first = now.astimezone(LOCAL_TZ).date()
    offered = assess(rules, inputs, now=now, first=first, last=rules.last_day(now))
    return [slot for slot, refusal in offered if refusal is None]


def _blocked(slot, blocked, blocked_starts):
    """Whether a slot overlaps the merged, sorted blocked intervals: only the last
    one starting before the slot ends can reach into it."""
    index = bisect_left(blocked_starts, slot.end) - 1
    return index >= 0 and blocked[index].end > slot.start


def count_by_day(slots):
    """{day: how many of `slots` fall on it}, in the slots' order."""
    counts = {}
    for slot in slots:
        counts[slot.day] = counts.get(slot.day, 0) + 1
    return counts


def explain(rules, inputs, start, *, now):
    """Why `start` is not a free slot, or None when it is one."""
    if timing := _timing(rules, start, now):
        return timing
    day = start.astimezone(LOCAL_TZ).date()
    offered = assess(rules, inputs, now=now, first=day, last=day)
    if not offered:
        return Refusal.CLOSED
    return next((refusal for slot, refusal in offered if slot.start == start), Refusal.NOT_A_SLOT)


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


def load_inputs(rooms, first, last, exclude_booking=None):
    """The statutory calendar and each room's RoomInputs from `first` to `last`,
    in a fixed number of queries whatever the number of rooms, bands or bookings."""
    from schedule.models import Event

    window_start = datetime.datetime.combine(first, datetime.time(), LOCAL_TZ)
    window_end = datetime.datetime.combine(last + ONE_DAY, datetime.time(), LOCAL_TZ)
    room_of_calendar = {room.calendar_id: room.pk for room in rooms}
    opening = defaultdict(list)
    duty = defaultdict(list)
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
            duty[room_id] += occurrences(
                event, window_start, window_end, tag=event.duty_counsellor_id
            )
        else:
            opening[room_id] += occurrences(event, window_start, window_end)

    room_ids = [room.pk for room in rooms]
    closures = defaultdict(list)
    for closure in Closure.objects.affecting(room_ids, window_start, window_end):
        interval = Interval(closure.starts_at, closure.ends_at)
        for room_id in [closure.room_id] if closure.room_id else room_ids:
            closures[room_id].append(interval)

    opened_days = defaultdict(set)
    for room_id, date in HolidayOpening.objects.filter(
        room__in=room_ids, date__range=(first, last)
    ).values_list("room_id", "date"):
        opened_days[room_id].add(date)

    bookings = defaultdict(list)
    blocking = Booking.objects.blocking().filter(
        room__in=room_ids, starts_at__lt=window_end, ends_at__gt=window_start
    )
    if exclude_booking is not None:
        blocking = blocking.exclude(pk=exclude_booking.pk)
    for room_id, start, end in blocking.values_list("room_id", "starts_at", "ends_at"):
        bookings[room_id].append(Interval(start, end))

    calendar = StatutoryCalendar(first, last)
    kinds = calendar.kinds()
    inputs = {
        pk: RoomInputs(
            opening=opening[pk],
            duty=duty[pk],
            closures=closures[pk],
            bookings=bookings[pk],
            kinds=kinds,
            opened_days=frozenset(opened_days[pk]),
        )
        for pk in room_ids
    }
    return calendar, inputs


@dataclass
class _Shown:
    """What one process loaded for pages that show free times."""

    calendar: StatutoryCalendar
    inputs: dict
    loaded_at: float
    assessed: dict = field(default_factory=dict)


_SHOWN = {}
_SHOWN_LIMIT = 32
_UNREAD = object()
# A change the signals cannot see (a bulk update, an edit in the database) shows
# within this long.
SHOWN_SECONDS = 300


_LISTED = {}


def listed_rooms():
    """(timetable version, the active rooms as booking pages list them, with
    their photo and opening bands). The rooms are kept in this process per
    version, as the free times are (saving a room or its opening hours moves the
    version on): a booking page then reads only the version. Each call hands
    back its own copies, which a page may annotate."""
    from .models import Room, TimetableVersion

    version = TimetableVersion.current()
    kept = _LISTED.get(version)
    if kept is None or time.monotonic() - kept[1] > SHOWN_SECONDS:
        _LISTED.clear()
        kept = _LISTED[version] = (list(Room.objects.for_listing()), time.monotonic())
    return version, [copy.copy(room) for room in kept[0]]


class Availability:
    """Free slots for some rooms. By default it covers today to the furthest
    booking horizon; `between=(first, last)` loads other days (the coordinators'
    schedule). A booking builds its own inside its transaction; pages that only
    show free times use `Availability.shown`."""

    def __init__(self, rooms, now=None, *, exclude_booking=None, between=None):
        self._cover(rooms, now, between)
        self.calendar, self.inputs = load_inputs(
            list(self.rooms.values()), self.first, self.last, exclude_booking
        )
        self._assessed = {}

    @classmethod
    def shown(cls, rooms, now=None, *, version=_UNREAD):
        """Free times for a page to show: what this process loaded before, while
        the timetable version (one small query, unless the page read it for
        `listed_rooms`) says it still holds, else a fresh load kept for the next
        page. The token is read before loading, so a change committed meanwhile
        is loaded again next time, never kept as current."""
        from .models import TimetableVersion

        self = cls.__new__(cls)
        self._cover(rooms, now, None)
        rules = tuple(sorted(self.rules.values(), key=lambda rules: rules.room_id))
        if version is _UNREAD:
            version = TimetableVersion.current()
        key = (version, self.first, self.last, rules)
        kept = _SHOWN.get(key)
        if kept is None or time.monotonic() - kept.loaded_at > SHOWN_SECONDS:
            calendar, inputs = load_inputs(list(self.rooms.values()), self.first, self.last)
            if len(_SHOWN) >= _SHOWN_LIMIT:
                _SHOWN.clear()
            kept = _SHOWN[key] = _Shown(calendar, inputs, time.monotonic())
        self.calendar, self.inputs, self._assessed = kept.calendar, kept.inputs, kept.assessed
        return self

    def _cover(self, rooms, now, between):
        self.rooms = {room.pk: room for room in rooms}
        self.now = now or timezone.now()
        self.today = self.now.astimezone(LOCAL_TZ).date()
        self.rules = {pk: RoomRules.for_room(room) for pk, room in self.rooms.items()}
        if between is None:
            last = max(
                (rules.last_day(self.now) for rules in self.rules.values()), default=self.today
            )
            between = (self.today, last)
        # One day either side: make-up weekends borrow the neighbouring weekday.
        self.first, self.last = between[0] - ONE_DAY, between[1] + ONE_DAY

    def slots(self, room):
        """The room's free slots now. Each slot's assessment holds for the day
        it was made on, but the minimum notice moves with the clock: it is
        checked again."""
        rules = self.rules[room.pk]
        assessed = self._assessed.get(room.pk)
        if assessed is None:
            assessed = self._assessed[room.pk] = assess(
                rules,
                self.inputs[room.pk],
                now=self.now,
                first=self.today,
                last=rules.last_day(self.now),
            )
        # Slots come in time order, so once one is far enough ahead, all later
        # ones are too.
        ahead = next(
            (
                index
                for index, (slot, refusal) in enumerate(assessed)
                if refusal is None and _timing(rules, slot.start, self.now) is None
            ),
            len(assessed),
        )
        return [slot for slot, refusal in assessed[ahead:] if refusal is None]

    def slots_on(self, room, day):
        return [slot for slot in self.slots(room) if slot.day == day]

    def days(self, room):
        """The days with at least one free slot, in order."""
        return sorted(self.free_counts(room))

    def free_counts(self, room):
        """How many free slots each day has, for the days that have any, in order."""
        return count_by_day(self.slots(room))

    def next_free_day(self, room):
        slots = self.slots(room)
        return slots[0].day if slots else None

    def explain(self, room, start):
        return explain(self.rules[room.pk], self.inputs[room.pk], start, now=self.now)

    def timetable(self, room, day):
        """The room's opening bands and duty shifts on `day`, as residents are
        offered them: after holidays, holiday openings and make-up workdays."""
        return self.inputs[room.pk].timetable(day, day)

    def day_kind(self, day):
        return self.calendar.kind(day) if self.first <= day <= self.last else day_kind(day)

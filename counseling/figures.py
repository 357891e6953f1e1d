"""心理咨询数据: the coordinators' figures, month by month, for each room and
for all rooms together, and the monthly self-check counts.

A month is a calendar month on the Shanghai clock. A booking counts in the
month its session starts, a waitlist entry in the month it was made.

- 预约数 (bookings): the bookings whose session starts in the month, whatever
  became of them (confirmed, attended, no-show, cancelled by the resident,
  late cancel, cancelled by staff), except the waitlist's holds: a time held
  for a resident (``held``) or held and not taken (``hold_released``) is not a
  booking; a hold the resident confirmed is one (the same row, now confirmed).
- 首次咨询 / 再次咨询: those bookings by visit type.
- 到访率 (attended rate): attended ÷ (attended + no-show), the sessions a
  coordinator recorded as held or missed. Sessions with no outcome recorded
  (still confirmed) and cancelled ones are in neither part.
- 爽约率 (no-show rate): no-show ÷ (attended + no-show).
- 逾期取消率 (late-cancel rate): late cancellations ÷ bookings.
- 提前预约天数 (lead time): for each booking, the days from when it was made
  (``created_at``; for a confirmed hold, when the time was held) to the start
  of its session; the median and the mean over the month's bookings.
- 利用率 (utilisation): booked time ÷ open counsellor time. Booked time is the
  length of the sessions in the month that hold their time (confirmed,
  attended, no-show). Open counsellor time is the length of the room's staffed
  intervals on the month's days (opening hours ∩ duty shifts, after statutory
  holidays, holiday openings and make-up workdays, counted once where shifts
  overlap: counseling.availability), less the room's closures and those of
  every room. For all rooms, both are summed over the rooms.
- 候补登记 / 候补成功 (waitlist): the entries made in the month, and those of
  them the waitlist served: the resident confirmed the time held for them
  (the entry's state is ``booked``, or a booking it was offered is confirmed,
  attended or no-show).
- 心理自评 (self-checks): SelfCheckCount, per questionnaire, band and month,
  for all rooms together (a self-check belongs to no room).

Rates are percentages and lead times days, each to one decimal with halves
rounded up (四舍五入); a figure with nothing to divide by is None, shown "—".

Only counts: no name, mobile, email, note or reference is read, so the
figures are not residents' booking data and opening them writes no entry to
the access log (counseling.audit). They read only what erasing personal data
(counseling.booking.erase_personal_data, ``manage.py purge_bookings``) keeps:
a booking's room, times, status, visit type, created_at and waitlist entry; a
waitlist entry's room, created_at and state. So the figures of a month are the
same before and after its bookings are erased.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from statistics import median

from django.db.models import Exists, OuterRef
from django.utils import timezone

from .availability import ONE_DAY, Availability, merge, staffed_intervals
from .models import LOCAL_TZ, Booking, Room, SelfCheckCount, WaitlistEntry

Status = Booking.Status
VisitType = Booking.VisitType

HOLDS = (Status.HELD, Status.HOLD_RELEASED)
# The statuses whose session keeps its time in the room: booked time, and a
# waitlist offer the resident took.
SESSION_STATUSES = (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)
MONTHS_SHOWN = 12

NO_TIME = datetime.timedelta()
MICROSECOND = datetime.timedelta(microseconds=1)
DAY_MICROSECONDS = ONE_DAY // MICROSECOND


def _one_decimal(numerator, denominator):
    """numerator / denominator to one decimal, halves rounded up (四舍五入),
    computed exactly (integers or fractions) so 12.25 is 12.3; None where
    there is nothing to divide by."""
    if not denominator:
        return None
    return int((20 * numerator + denominator) // (2 * denominator)) / 10


def _percent(part, whole):
    return _one_decimal(100 * part, whole)


@dataclass
class Tally:
    """The counts behind one month's figures for one room or for all rooms."""

    bookings: int = 0
    first_visits: int = 0
    follow_ups: int = 0
    attended: int = 0
    no_show: int = 0
    late_cancel: int = 0
    lead_days: list = field(default_factory=list)  # one Fraction of days per booking
    booked: datetime.timedelta = NO_TIME
    open: datetime.timedelta = NO_TIME
    waitlist_entries: int = 0
    waitlist_served: int = 0

    @property
    def outcomes(self):
        """Sessions recorded as attended or missed."""
        return self.attended + self.no_show

    @property
    def attended_rate(self):
        return _percent(self.attended, self.outcomes)

    @property
    def no_show_rate(self):
        return _percent(self.no_show, self.outcomes)

    @property
    def late_cancel_rate(self):
        return _percent(self.late_cancel, self.bookings)

    @property
    def lead_days_median(self):
        return _one_decimal(median(self.lead_days), 1) if self.lead_days else None

    @property
    def lead_days_average(self):
        return _one_decimal(sum(self.lead_days), len(self.lead_days))

    @property
    def utilisation(self):
        return _percent(self.booked // MICROSECOND, self.open // MICROSECOND)

    @property
    def booked_hours(self):
        return _one_decimal(self.booked // MICROSECOND, datetime.timedelta(hours=1) // MICROSECOND)

    @property
    def open_hours(self):
        return _one_decimal(self.open // MICROSECOND, datetime.timedelta(hours=1) // MICROSECOND)


def _by_month():
    return defaultdict(Tally)


@dataclass
class Report:
    """The figures for a run of months: `months` (first days, oldest first),
    the rooms, one Tally per month for all rooms (`whole`) and per room
    (`by_room`, keyed by room id), and the self-check counts
    ({month: {questionnaire: {band: count}}})."""

    months: list
    rooms: list
    whole: dict = field(default_factory=_by_month)
    by_room: dict = field(default_factory=lambda: defaultdict(_by_month))
    self_checks: dict = field(default_factory=dict)

    def tallies(self, room=None):
        """{month: Tally} for `room`, or for all rooms."""
        return self.whole if room is None else self.by_room[room.pk]


def next_month(month):
    return (month + datetime.timedelta(days=32)).replace(day=1)


def last_months(today, count=MONTHS_SHOWN):
    """The first days of the `count` months up to and including today's, oldest first."""
    months = [today.replace(day=1)]
    while len(months) < count:
        months.insert(0, (months[0] - ONE_DAY).replace(day=1))
    return months


def _midnight(day):
    return datetime.datetime.combine(day, datetime.time(), LOCAL_TZ)


def _month_of(moment):
    return moment.astimezone(LOCAL_TZ).date().replace(day=1)


def open_time(inputs, first, last):
    """The open counsellor time a room (its availability.RoomInputs) offers
    from `first` to `last`: its staffed intervals on those days, less its
    closures. A pure computation."""
    opening, duty = inputs.timetable(first, last)
    closed = merge(inputs.closures)
    total = NO_TIME
    for piece in staffed_intervals(opening, duty):
        total += piece.end - piece.start
        for closure in closed:
            overlap = min(piece.end, closure.end) - max(piece.start, closure.start)
            if overlap > NO_TIME:
                total -= overlap
    return total


def count_booking(tally, row):
    """Add one booking (room, starts_at, ends_at, created_at, status, visit
    type; never a hold) to a month's tally."""
    _room_id, starts_at, ends_at, created_at, status, visit_type = row
    tally.bookings += 1
    tally.first_visits += visit_type == VisitType.FIRST
    tally.follow_ups += visit_type == VisitType.FOLLOW_UP
    tally.attended += status == Status.ATTENDED
    tally.no_show += status == Status.NO_SHOW
    tally.late_cancel += status == Status.LATE_CANCEL
    tally.lead_days.append(Fraction((starts_at - created_at) // MICROSECOND, DAY_MICROSECONDS))
    if status in SESSION_STATUSES:
        tally.booked += ends_at - starts_at


def booking_rows(start, end):
    """The bookings whose session starts in [start, end), holds left out."""
    return (
        Booking.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=HOLDS)
        .values_list("room_id", "starts_at", "ends_at", "created_at", "status", "visit_type")
        .order_by()
    )


def waitlist_rows(start, end):
    """(room, created_at, served) for each waitlist entry made in [start, end)."""
    confirmed_offer = Booking.objects.filter(
        waitlist_entry=OuterRef("pk"), status__in=SESSION_STATUSES
    )
    return (
        WaitlistEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(confirmed_offer=Exists(confirmed_offer))
        .values_list("room_id", "created_at", "state", "confirmed_offer")
        .order_by()
    )


def report(today=None, months=MONTHS_SHOWN):
    """The figures for the `months` months up to today's, in a fixed number of
    queries whatever the number of rooms, bookings and entries."""
    today = today or timezone.localdate()
    shown = last_months(today, months)
    end = next_month(shown[-1])
    rooms = list(Room.objects.order_by("sort_order", "pk"))
    result = Report(months=shown, rooms=rooms)
    start, stop = _midnight(shown[0]), _midnight(end)

    for row in booking_rows(start, stop):
        month = _month_of(row[1])
        count_booking(result.whole[month], row)
        count_booking(result.by_room[row[0]][month], row)

    availability = Availability(rooms, between=(shown[0], end - ONE_DAY))
    for room in rooms:
        inputs = availability.inputs[room.pk]
        for month in shown:
            time = open_time(inputs, month, next_month(month) - ONE_DAY)
            result.by_room[room.pk][month].open += time
            result.whole[month].open += time

    for room_id, created_at, state, confirmed_offer in waitlist_rows(start, stop):
        served = state == WaitlistEntry.State.BOOKED or confirmed_offer
        month = _month_of(created_at)
        for tally in (result.whole[month], result.by_room[room_id][month]):
            tally.waitlist_entries += 1
            tally.waitlist_served += served

    result.self_checks = SelfCheckCount.objects.filter(
        month__gte=shown[0], month__lt=end
    ).per_month()
    return result

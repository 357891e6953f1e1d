"""The sub-district's figures for residents' requests, month by month: how
many came in, 响应率, 办结率, 满意率 and the average working days to an
answer, for the whole 街道, each 管区 and each category.

Everything is read from the requests' trails (RequestEvent) and the due dates
each request was given, never from counters kept on the side: a figure can be
checked against the orders behind it, and it cannot drift. A request counts in
the month it was received (local time); a request merged into another counts
once, as the other.

- 响应率: of the requests whose first response is in or due, the share first
  responded to (签收 or 不予受理) by the end of their response due date.
- 办结率: of the requests closed (a trail line whose new state is 已办结 or
  不予受理: a rating, the automatic close, a rejection) or left unanswered past
  their resolution due date, the share whose final answer (the last reply, or
  the rejection) went out by the end of the resolution due date of its round.
- 满意率: of the requests closed by the resident's rating (not those closed
  unrated after a week, even when an earlier round was rated), the share
  rated 满意 or 基本满意.
- 平均办理用时: the mean number of working days from the day a closed request
  was received to the day of its final answer (0 for the same day), counted
  with the statutory calendar staff keep (portal.core.workdays).

Rates are percentages and averages working days, each to one decimal with
halves rounded up (四舍五入); where nothing counts yet a figure is None (—).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Max, Min, Q
from django.utils import timezone

from portal.core.workdays import StatutoryCalendar

from .models import RequestEvent, ServiceRequest, Unit, next_month

State = ServiceRequest.State
Kind = RequestEvent.Kind

FIRST_RESPONSE_KINDS = (Kind.ACCEPTED, Kind.REJECTED)
ANSWER_KINDS = (Kind.REPLIED, Kind.REJECTED)
CLOSING_STATES = (State.CLOSED, State.REJECTED)
CONTENT_RATINGS = (ServiceRequest.Rating.SATISFIED, ServiceRequest.Rating.BASICALLY_SATISFIED)
MONTHS_SHOWN = 12


@dataclass
class Tally:
    """The counts behind one month's figures for one group of requests."""

    received: int = 0
    responded_in_time: int = 0
    response_due: int = 0
    closed_in_time: int = 0
    closing_due: int = 0
    content: int = 0
    rated: int = 0
    closed: int = 0
    working_days: int = 0

    @property
    def response_rate(self):
        return _percent(self.responded_in_time, self.response_due)

    @property
    def resolution_rate(self):
        return _percent(self.closed_in_time, self.closing_due)

    @property
    def satisfaction_rate(self):
        return _percent(self.content, self.rated)

    @property
    def average_working_days(self):
        return _one_decimal(self.working_days, self.closed)


def _one_decimal(numerator, denominator):
    """numerator / denominator to one decimal, halves rounded up (四舍五入) as
    published figures are, computed in integers so 81.25 is 81.3; None where
    nothing counts yet."""
    if not denominator:
        return None
    return (20 * numerator + denominator) // (2 * denominator) / 10


def _percent(part, whole):
    return _one_decimal(100 * part, whole)


@dataclass
class Report:
    """The figures for a run of months: `months` (first days, oldest first)
    and, per month, one Tally for the whole 街道 and one per 管区 and per
    category (keyed by their ids)."""

    months: list
    whole: dict = field(default_factory=lambda: _by_month())
    districts: dict = field(default_factory=lambda: defaultdict(_by_month))
    categories: dict = field(default_factory=lambda: defaultdict(_by_month))


def _by_month():
    # A named function, not a lambda: a report is pickled into the cache.
    return defaultdict(Tally)


def month_start(day):
    return day.replace(day=1)


def last_months(today, count=MONTHS_SHOWN):
    """The first days of the `count` months up to and including today's."""
    months = [month_start(today)]
    while len(months) < count:
        months.insert(0, month_start(months[0] - datetime.timedelta(days=1)))
    return months


def _local_day(moment, zone):
    return moment.astimezone(zone).date() if moment else None


def _aware(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


class WorkingDays:
    """Working days between two dates, from one read of the calendar."""

    def __init__(self, first, last):
        calendar = StatutoryCalendar(first, last)
        self.first = first
        self.ordinal = []
        count = 0
        for offset in range((last - first).days + 1):
            day = first + datetime.timedelta(days=offset)
            count += calendar.is_working_day(day)
            self.ordinal.append(count)

    def between(self, start, end):
        """Working days after `start` up to and including `end`."""
        return self.ordinal[(end - self.first).days] - self.ordinal[(start - self.first).days]


def facts(first_month, end):
    """One row per request received from `first_month` up to `end` (not
    merged): its place, category, due dates, rating, state and the times its
    trail gives for the first response, the final answer and the close."""
    return (
        ServiceRequest.objects.filter(received_at__gte=_aware(first_month), received_at__lt=end)
        .exclude(state=State.MERGED)
        .annotate(
            first_response_at=Min("events__at", filter=Q(events__kind__in=FIRST_RESPONSE_KINDS)),
            answered_at=Max("events__at", filter=Q(events__kind__in=ANSWER_KINDS)),
            closed_event_at=Max("events__at", filter=Q(events__to_state__in=CLOSING_STATES)),
            closed_by_rating_at=Max(
                "events__at",
                filter=Q(events__kind=Kind.RATED, events__to_state=State.CLOSED),
            ),
        )
        .values_list(
            "received_at",
            "place_id",
            "category_id",
            "response_due_on",
            "resolution_due_on",
            "rating",
            "state",
            "first_response_at",
            "answered_at",
            "closed_event_at",
            "closed_by_rating_at",
        )
        .order_by()
    )


def report(today=None, months=MONTHS_SHOWN):
    """The figures for the `months` months up to today's."""
    today = today or timezone.localdate()
    shown = last_months(today, months)
    report = Report(months=shown)
    district_of = _districts()
    days = WorkingDays(shown[0], today)
    # Looked up once: timezone.localtime() asks for it again for every time,
    # a third of the report's time at 100,000 requests.
    zone = timezone.get_current_timezone()
    for row in facts(shown[0], _aware(next_month(today))):
        (
            received_at,
            place_id,
            category_id,
            response_due_on,
            resolution_due_on,
            rating,
            state,
            first_response_at,
            answered_at,
            closed_at,
            closed_by_rating_at,
        ) = row
        received_on = _local_day(received_at, zone)
        month = month_start(received_on)
        tallies = [report.whole[month], report.categories[category_id][month]]
        if (district := district_of.get(place_id)) is not None:
            tallies.append(report.districts[district][month])
        responded_on = _local_day(first_response_at, zone)
        closed = closed_at is not None
        answered_on = _local_day(answered_at, zone) or _local_day(closed_at, zone)
        response_due = responded_on is not None or response_due_on < today
        closing_due = closed or (
            state in ServiceRequest.PENDING_STATES and resolution_due_on < today
        )
        # The rating on the row is the last one given; it closed the request
        # only if the trail says so.
        rated = closed_by_rating_at is not None
        for tally in tallies:
            tally.received += 1
            if response_due:
                tally.response_due += 1
                tally.responded_in_time += responded_on is not None and (
                    responded_on <= response_due_on
                )
            if closing_due:
                tally.closing_due += 1
                tally.closed_in_time += closed and answered_on <= resolution_due_on
            if rated:
                tally.rated += 1
                tally.content += rating in CONTENT_RATINGS
            if closed:
                tally.closed += 1
                tally.working_days += days.between(received_on, min(answered_on, today))
    return report


def _districts():
    """{unit id: its 管区's id} for every 管区 and every unit under one."""
    directory = list(Unit.objects.values_list("pk", "path", "depth"))
    by_path = {path: pk for pk, path, depth in directory if depth == Unit.Level.DISTRICT}
    return {
        pk: by_path[Unit.district_path(path)]
        for pk, path, depth in directory
        if depth >= Unit.Level.DISTRICT and Unit.district_path(path) in by_path
    }

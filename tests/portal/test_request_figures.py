"""回应公开's monthly figures (portal.service_requests.figures) against a count
of their own, written here from the definitions alone, over a generated history
of a few thousand residents' requests; and small requests built by hand that pin
each definition's edges: the last minute of a due date, midnight at the end of a
month, the second round of a reopened request, the statutory calendar."""

import datetime
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.core.models import HolidayArrangement, HolidayPeriod
from portal.service_requests import handling
from portal.service_requests.figures import Tally, report
from portal.service_requests.models import Category, RequestEvent, ServiceRequest, Unit
from tests.factories import make_organisation

pytestmark = pytest.mark.django_db

State = ServiceRequest.State
Kind = RequestEvent.Kind
Rating = ServiceRequest.Rating
HOLIDAY, MAKEUP = HolidayPeriod.Kind.HOLIDAY, HolidayPeriod.Kind.MAKEUP_WORKDAY

D = datetime.date
LOCAL = ZoneInfo("Asia/Shanghai")
ONE_DAY = datetime.timedelta(days=1)
ONE_MINUTE = datetime.timedelta(minutes=1)

COUNTS = (
    "received",
    "responded_in_time",
    "response_due",
    "closed_in_time",
    "closing_due",
    "content",
    "rated",
    "closed",
    "working_days",
)
RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "average_working_days")

FIRST_RESPONSES = (Kind.ACCEPTED, Kind.REJECTED)
FINAL_ANSWERS = (Kind.REPLIED, Kind.REJECTED)
CONTENT = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)


def local(day, hour=0, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), LOCAL)


def local_date(moment):
    return moment.astimezone(LOCAL).date()


def days_from(first, last):
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def arrangement(year, periods):
    entry = HolidayArrangement.objects.create(year=year, notice=f"{year} 年节假日安排")
    HolidayPeriod.objects.bulk_create(
        HolidayPeriod(arrangement=entry, name=name, kind=kind, starts_on=first, ends_on=last)
        for name, kind, first, last in periods
    )


# The reference: the figures counted from the definitions, request by request.


class WorkingDays:
    """The statutory calendar as the definitions give it: a day in a period staff
    entered (in any year's arrangement) is what they entered it as; any other day
    of a year they entered is worked from Monday to Friday; chinesecalendar
    decides the days of the other years."""

    def __init__(self):
        self.entered_years = set(HolidayArrangement.objects.values_list("year", flat=True))
        self.entered_days = {}
        for kind, first, last in HolidayPeriod.objects.values_list("kind", "starts_on", "ends_on"):
            for day in days_from(first, last):
                self.entered_days[day] = kind == MAKEUP
        self.known = {}

    def is_working(self, day):
        if day not in self.known:
            if day in self.entered_days:
                self.known[day] = self.entered_days[day]
            elif day.year in self.entered_years:
                self.known[day] = day.weekday() < 5
            else:
                self.known[day] = chinese_calendar.is_workday(day)
        return self.known[day]

    def between(self, first, last):
        """The working days d with first < d ≤ last."""
        return sum(self.is_working(day) for day in days_from(first + ONE_DAY, last))

    def after(self, start, count):
        """The day `count` working days after `start`: a due date."""
        day = start
        while count:
            day += ONE_DAY
            count -= self.is_working(day)
        return day


def months_up_to(today, count=12):
    months = [today.replace(day=1)]
    while len(months) < count:
        months.insert(0, (months[0] - ONE_DAY).replace(day=1))
    return months


def closes(line):
    """Whether this line of a trail closed the request: 办结 or 不予受理, or the
    rating that closed it. handling.rate writes a rated line alone then, with
    the new state 办结; a 办结 line comes only when nobody rated a reply."""
    return line["kind"] in (Kind.CLOSED, Kind.REJECTED) or (
        line["kind"] == Kind.RATED and line["to_state"] == State.CLOSED
    )


def counts_of(request, trail, today, calendar):
    """What one request adds to each count of its month."""
    first_response = min(
        (line["at"] for line in trail if line["kind"] in FIRST_RESPONSES), default=None
    )
    final_answer = max(
        (line["at"] for line in trail if line["kind"] in FINAL_ANSWERS), default=None
    )
    closed = any(closes(line) for line in trail)
    in_time = closed and local_date(final_answer) <= request["resolution_due_on"]
    # Rated: closed by the resident's rating itself. A request reopened after a
    # rating and then closed unrated keeps that old rating on its row, but
    # nobody rated the answer that closed it.
    rated = any(line["kind"] == Kind.RATED and line["to_state"] == State.CLOSED for line in trail)
    overdue = (
        request["state"] in ServiceRequest.PENDING_STATES and request["resolution_due_on"] < today
    )
    received_on = local_date(request["received_at"])
    working_days = calendar.between(received_on, local_date(final_answer)) if closed else 0
    return {
        "received": 1,
        "responded_in_time": first_response is not None
        and local_date(first_response) <= request["response_due_on"],
        "response_due": first_response is not None or request["response_due_on"] < today,
        "closed_in_time": in_time,
        "closing_due": closed or overdue,
        "content": rated and request["rating"] in CONTENT,
        "rated": rated,
        "closed": closed,
        "working_days": working_days,
    }


def district_of_places():
    """{unit id: its 管区's id} for every 管区 (its own) and 社区."""
    return {
        unit.pk: unit.pk if unit.depth == 2 else unit.get_ancestors().get(depth=2).pk
        for unit in Unit.objects.filter(depth__in=(2, 3))
    }


@dataclass
class Figures:
    months: list
    whole: dict  # {month: {count: n}}
    districts: dict  # {管区 id: {month: {count: n}}}
    categories: dict  # {category id: {month: {count: n}}}


def expected_figures(today):
    """Every count of every month, for the whole, each 管区 and each category."""
    months = months_up_to(today)
    calendar = WorkingDays()
    district_of = district_of_places()

    def empty():
        return {month: dict.fromkeys(COUNTS, 0) for month in months}

    whole = empty()
    districts = {pk: empty() for pk in Unit.objects.filter(depth=2).values_list("pk", flat=True)}
    categories = {pk: empty() for pk in Category.objects.values_list("pk", flat=True)}
    trails = defaultdict(list)
    for line in RequestEvent.objects.values("request_id", "kind", "to_state", "at"):
        trails[line["request_id"]].append(line)
    requests = ServiceRequest.objects.exclude(state=State.MERGED).values(
        "pk",
        "category_id",
        "place_id",
        "state",
        "rating",
        "received_at",
        "response_due_on",
        "resolution_due_on",
    )
    for request in requests:
        month = local_date(request["received_at"]).replace(day=1)
        if month not in whole:
            continue
        counts = counts_of(request, trails[request["pk"]], today, calendar)
        for group in (
            whole,
            districts[district_of[request["place_id"]]],
            categories[request["category_id"]],
        ):
            for name, count in counts.items():
                group[month][name] += count
    return Figures(months, whole, districts, categories)


def one_decimal(fraction):
    """Rounded to one decimal, half up (四舍五入), as published figures are."""
    return math.floor(fraction * 10 + Fraction(1, 2)) / 10


def expected_rates(counts):
    def share(part, whole):
        return one_decimal(Fraction(100 * part, whole)) if whole else None

    return {
        "response_rate": share(counts["responded_in_time"], counts["response_due"]),
        "resolution_rate": share(counts["closed_in_time"], counts["closing_due"]),
        "satisfaction_rate": share(counts["content"], counts["rated"]),
        "average_working_days": one_decimal(Fraction(counts["working_days"], counts["closed"]))
        if counts["closed"]
        else None,
    }


def counted(tallies, months, names=COUNTS):
    return {month: {name: getattr(tallies[month], name) for name in names} for month in months}


def tally(**counts):
    return {**dict.fromkeys(COUNTS, 0), **counts}


# The generated history.

TODAY = D(2026, 12, 5)
NOW = local(TODAY, 12)  # the history ends at noon on the day of the report
START = D(2025, 10, 1)  # two months before the twelve the report shows
HISTORY_MONTHS = [D(2025, 10, 1), D(2025, 11, 1)] + [D(2026, month, 1) for month in range(1, 13)]
HISTORY_SIZE = 3000
QUERIES = 3  # what report() takes, however many requests there are
FESTIVALS = [(D(2026, 2, 10), D(2026, 2, 27)), (D(2026, 9, 24), D(2026, 10, 12))]

# 2026 as staff enter it from the State Council's notice, with two days of their
# own: 8 October off as well, and Saturday 14 November worked in lieu. The year
# is then read from here alone, and chinesecalendar would get those days wrong.
ARRANGEMENT_2026 = [
    ("元旦", HOLIDAY, D(2026, 1, 1), D(2026, 1, 3)),
    ("元旦", MAKEUP, D(2026, 1, 4), D(2026, 1, 4)),
    ("春节", MAKEUP, D(2026, 2, 14), D(2026, 2, 14)),
    ("春节", HOLIDAY, D(2026, 2, 15), D(2026, 2, 23)),
    ("春节", MAKEUP, D(2026, 2, 28), D(2026, 2, 28)),
    ("清明节", HOLIDAY, D(2026, 4, 4), D(2026, 4, 6)),
    ("劳动节", HOLIDAY, D(2026, 5, 1), D(2026, 5, 5)),
    ("劳动节", MAKEUP, D(2026, 5, 9), D(2026, 5, 9)),
    ("端午节", HOLIDAY, D(2026, 6, 19), D(2026, 6, 21)),
    ("国庆节", MAKEUP, D(2026, 9, 20), D(2026, 9, 20)),
    ("中秋节", HOLIDAY, D(2026, 9, 25), D(2026, 9, 27)),
    ("国庆节", HOLIDAY, D(2026, 10, 1), D(2026, 10, 8)),
    ("国庆节", MAKEUP, D(2026, 10, 10), D(2026, 10, 10)),
    ("冬季调休", MAKEUP, D(2026, 11, 14), D(2026, 11, 14)),
]


def build_organisation():
    """make_organisation's 街道 with more 管区 and 社区 (第四管区 gets no requests)
    and categories with different time limits, two with replies approved."""
    org = make_organisation()
    org.miaoling = org.first.add_child(name="苗岭路社区")
    org.third = org.subdistrict.add_child(name="第三管区")
    org.xianggang = org.third.add_child(name="香港东路社区")
    org.haier = org.third.add_child(name="海尔路社区")
    org.fourth = org.subdistrict.add_child(name="第四管区")
    org.places = [
        org.first,
        org.shiling,
        org.miaoling,
        org.second,
        org.haian,
        org.third,
        org.xianggang,
        org.haier,
    ]
    org.rental = Category.objects.create(
        name="群租房", code="rental", response_days=2, resolution_days=10
    )
    org.street = Category.objects.create(
        name="占道经营", code="street-vending", response_days=1, resolution_days=3
    )
    org.sanitation = Category.objects.create(
        name="环境卫生",
        code="sanitation",
        response_days=1,
        resolution_days=5,
        reply_needs_approval=True,
    )
    org.property = Category.objects.create(
        name="物业纠纷",
        code="property",
        response_days=3,
        resolution_days=15,
        reply_needs_approval=True,
    )
    org.categories = [org.noise, org.rental, org.street, org.sanitation, org.property]
    units = list(Unit.objects.all())
    by_path = {unit.path: unit for unit in units}
    step = Unit.steplen
    org.parent = {unit.pk: by_path.get(unit.path[:-step]) for unit in units}
    org.children = defaultdict(list)
    for unit in units:
        if org.parent[unit.pk] is not None:
            org.children[org.parent[unit.pk].pk].append(unit)
    return org


class HistoryEnds(Exception):
    """The next step of a request would come after NOW."""


class Life:
    """One request lived step by step, with the trail handling would write for
    it and its fields as they stand at NOW."""

    def __init__(self, rng, calendar, org, pk, received_at):
        self.rng, self.calendar, self.org = rng, calendar, org
        self.pk = pk
        self.category = rng.choice(org.categories)
        self.place = self.unit = rng.choice(org.places)
        self.received_at = self.clock = received_at
        received_on = local_date(received_at)
        self.response_due_on = calendar.after(received_on, self.category.response_days)
        self.resolution_due_on = calendar.after(received_on, self.category.resolution_days)
        self.state = ""
        self.round = 1
        self.responded_at = self.replied_at = self.rated_at = self.closed_at = None
        self.rating = self.reply = self.rejection_reason = ""
        self.duplicate_of_id = None
        self.lines = []

    def live(self, earlier):
        try:
            self.step(Kind.RECEIVED, self.received_at, State.RECEIVED)
            self.first_round(earlier)
        except HistoryEnds:
            pass
        return self.request(), self.lines

    def step(self, kind, at, to_state, to_unit=None):
        if at > NOW:
            raise HistoryEnds
        self.lines.append(
            RequestEvent(
                request_id=self.pk,
                kind=kind,
                from_state=self.state,
                to_state=to_state,
                unit=self.unit,
                to_unit=to_unit,
                at=at,
            )
        )
        self.state, self.clock = to_state, at

    # When things happen.

    def soon(self, hours=8):
        return self.clock + datetime.timedelta(minutes=self.rng.randint(1, hours * 60))

    def against(self, due):
        """When the next answer goes out: mostly in good time, sometimes in the
        last minute of its due date or the first of the next day, sometimes days
        late."""
        roll = self.rng.random()
        if roll < 0.1:
            at = local(due, 23, 59)
        elif roll < 0.2:
            at = local(due + ONE_DAY, 0, 1)
        elif roll < 0.35:
            late = due + datetime.timedelta(days=self.rng.randint(1, 12))
            at = local(late, self.rng.randint(8, 20), self.rng.randint(0, 59))
        else:
            room = (local(due, 23) - self.clock).total_seconds()
            at = self.clock + datetime.timedelta(seconds=self.rng.uniform(60, max(room, 60)))
        return max(at, self.clock + ONE_MINUTE)

    # What happens.

    def first_round(self, earlier):
        if self.rng.random() < 0.25:
            self.pass_on()
        roll = self.rng.random()
        if roll < 0.04:
            return  # nobody has taken it on
        if roll < 0.09 and earlier:
            return self.merge(earlier)
        if roll < 0.15:
            return self.reject(self.against(self.response_due_on))
        self.accept(self.against(self.response_due_on))
        self.handle(earlier)

    def pass_on(self):
        below = self.org.children.get(self.unit.pk)
        if below and self.rng.random() < 0.7:
            to_unit = self.rng.choice(below)
            self.step(Kind.ASSIGNED, self.soon(3), State.ASSIGNED, to_unit)
        else:
            to_unit = self.org.parent[self.unit.pk]
            self.step(Kind.ESCALATED, self.soon(3), State.ESCALATED, to_unit)
        self.unit = to_unit

    def accept(self, at):
        self.step(Kind.ACCEPTED, at, State.IN_PROGRESS)
        self.responded_at = self.responded_at or at

    def reject(self, at):
        self.step(Kind.REJECTED, at, State.REJECTED)
        self.responded_at = self.responded_at or at
        self.rejection_reason = "不属于受理范围"
        self.closed_at = at

    def merge(self, earlier):
        at = self.soon(48)
        self.step(Kind.MERGED, at, State.MERGED)
        self.duplicate_of_id = self.rng.choice(earlier)
        self.closed_at = at

    def handle(self, earlier):
        """From 签收 to the answer and the resident's rating."""
        rng = self.rng
        above = self.org.parent[self.unit.pk]
        if above is not None and rng.random() < 0.1:
            self.step(Kind.ESCALATED, self.soon(), State.ESCALATED, above)
            self.unit = above
            self.accept(self.soon(30))
        roll = rng.random()
        if roll < 0.03 and earlier:
            return self.merge(earlier)
        if roll < 0.07:
            return self.reject(self.against(self.resolution_due_on))
        if roll < 0.12:
            return  # still being handled
        answered = self.against(self.resolution_due_on)
        if self.category.reply_needs_approval:
            room = (answered - self.clock).total_seconds()
            submitted = self.clock + datetime.timedelta(seconds=rng.uniform(1, max(room, 2)) / 2)
            self.step(Kind.REPLY_SUBMITTED, submitted, State.AWAITING_APPROVAL)
            self.reply = "已处理"
            if rng.random() < 0.2:
                self.step(Kind.REPLY_RETURNED, self.soon(4), State.IN_PROGRESS)
                self.step(Kind.REPLY_SUBMITTED, self.soon(4), State.AWAITING_APPROVAL)
            if rng.random() < 0.05:
                return  # waiting for approval
            answered = max(answered, self.clock + ONE_MINUTE)
        self.step(Kind.REPLIED, answered, State.REPLIED)
        self.reply, self.replied_at = "已处理", answered
        self.resident_answers(earlier)

    def resident_answers(self, earlier):
        roll = self.rng.random()
        rated_at = self.clock + datetime.timedelta(minutes=self.rng.randint(30, 6 * 24 * 60))
        if roll < 0.45:
            self.rate(Rating.SATISFIED, rated_at, earlier)
        elif roll < 0.6:
            self.rate(Rating.BASICALLY_SATISFIED, rated_at, earlier)
        elif roll < 0.8:
            self.rate(Rating.DISSATISFIED, rated_at, earlier)
        else:  # not rated within a week: handling.close_unrated
            unrated = datetime.timedelta(days=7, hours=self.rng.randint(1, 20))
            self.step(Kind.CLOSED, self.replied_at + unrated, State.CLOSED)
            self.closed_at = self.clock

    def rate(self, rating, at, earlier):
        if rating == Rating.DISSATISFIED and self.round == 1:
            self.step(Kind.RATED, at, State.REOPENED)
            self.rating, self.rated_at = rating, at
            self.round, self.replied_at = 2, None
            self.resolution_due_on = self.calendar.after(
                local_date(at), self.category.resolution_days
            )
            return self.second_round(earlier)
        self.step(Kind.RATED, at, State.CLOSED)
        self.rating, self.rated_at, self.closed_at = rating, at, at

    def second_round(self, earlier):
        roll = self.rng.random()
        if roll < 0.05:
            return  # nobody has taken it on again
        if roll < 0.08:
            return self.reject(self.against(self.resolution_due_on))
        self.accept(self.soon(30))
        self.handle(earlier)

    def request(self):
        pending = self.state in ServiceRequest.PENDING_STATES
        waiting_for_response = self.responded_at is None
        return ServiceRequest(
            pk=self.pk,
            reference=f"{self.pk:08d}",
            category=self.category,
            place=self.place,
            unit=self.unit,
            state=self.state,
            round=self.round,
            description="夜间噪音扰民",
            address="某路 1 号",
            mobile="13900000000",
            submission_hash=f"history-{self.pk}",
            received_at=self.received_at,
            response_due_on=self.response_due_on,
            resolution_due_on=self.resolution_due_on,
            next_due_on=(
                (self.response_due_on if waiting_for_response else self.resolution_due_on)
                if pending
                else None
            ),
            responded_at=self.responded_at,
            reply=self.reply,
            replied_at=self.replied_at,
            rejection_reason=self.rejection_reason,
            duplicate_of_id=self.duplicate_of_id,
            rating=self.rating,
            rated_at=self.rated_at,
            closed_at=self.closed_at,
        )


def received_time(rng):
    """When a request came in: often near midnight, at the turn of a month or
    around the Spring Festival and National Day."""
    days = (TODAY - START).days
    roll = rng.random()
    if roll < 0.05:  # the last half hour of a month
        month_end = rng.choice(HISTORY_MONTHS[1:]) - ONE_DAY
        return local(month_end, 23, rng.randint(30, 59))
    if roll < 0.1:  # the first 40 minutes of a month
        return local(rng.choice(HISTORY_MONTHS), 0, rng.randint(0, 40))
    if roll < 0.16:  # minutes either side of midnight
        day = START + datetime.timedelta(days=rng.randrange(days))
        return rng.choice([local(day, 23, rng.randint(50, 59)), local(day, 0, rng.randint(0, 10))])
    if roll < 0.32:
        first, last = rng.choice(FESTIVALS)
        day = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
        return local(day, rng.randint(0, 23), rng.randint(0, 59))
    return local(START) + datetime.timedelta(
        seconds=rng.uniform(0, (NOW - local(START)).total_seconds())
    )


def generate_history(org, count, seed, first_pk=1):
    """`count` requests received from START to NOW, each with its trail."""
    rng = random.Random(seed)
    calendar = WorkingDays()
    requests, lines, earlier = [], [], []
    moments = sorted(received_time(rng) for _ in range(count))
    for pk, received_at in enumerate(moments, start=first_pk):
        request, trail = Life(rng, calendar, org, pk, received_at).live(earlier)
        requests.append(request)
        lines.extend(trail)
        if request.state != State.MERGED:
            earlier.append(pk)
    ServiceRequest.objects.bulk_create(requests, batch_size=500)
    RequestEvent.objects.bulk_create(lines, batch_size=1000)
    return requests


@pytest.fixture
def org(db):
    return build_organisation()


@pytest.fixture
def history(org):
    arrangement(2026, ARRANGEMENT_2026)
    return generate_history(org, HISTORY_SIZE, seed=20261205)


def rates_of(tallies, months):
    return counted(tallies, months, RATES)


def expected_rates_of(counts):
    return {month: expected_rates(month_counts) for month, month_counts in counts.items()}


def test_the_history_holds_every_state_and_the_edges_the_figures_turn_on(history):
    assert {request.state for request in history} == set(State.values)
    assert {request.round for request in history} == {1, 2}
    first_responses = {}
    for line in RequestEvent.objects.filter(kind__in=FIRST_RESPONSES).order_by("at"):
        first_responses.setdefault(line.request_id, line.at.astimezone(LOCAL))
    due = dict(ServiceRequest.objects.values_list("pk", "response_due_on"))
    last_minute = {
        (at.date() - due[pk]).days for pk, at in first_responses.items() if at.hour == 23
    }
    first_minute = {
        (at.date() - due[pk]).days for pk, at in first_responses.items() if at.hour == 0
    }
    assert 0 in last_minute and 1 in first_minute
    received = [local_date(request.received_at) for request in history]
    assert any(day.month == 2 and day.day in range(14, 24) for day in received)  # 春节
    assert any(day.month == 10 and day.day in range(1, 9) for day in received)  # 国庆
    calendar = WorkingDays()
    assert not calendar.is_working(D(2026, 10, 8)) and chinese_calendar.is_workday(D(2026, 10, 8))
    assert calendar.is_working(D(2026, 11, 14)) and not chinese_calendar.is_workday(D(2026, 11, 14))


def test_every_count_of_every_month_matches_the_definitions(history, org):
    expected = expected_figures(TODAY)
    got = report(today=TODAY)

    assert got.months == expected.months == [D(2026, month, 1) for month in range(1, 13)]
    assert set(got.districts) <= set(expected.districts)
    assert set(got.categories) <= set(expected.categories)
    assert counted(got.whole, expected.months) == expected.whole
    for district, counts in expected.districts.items():
        assert counted(got.districts[district], expected.months) == counts, district
    for category, counts in expected.categories.items():
        assert counted(got.categories[category], expected.months) == counts, category
    # Every count has something in it, and 第四管区, where nobody reported, nothing.
    assert all(sum(counts[name] for counts in expected.whole.values()) for name in COUNTS)
    assert expected.districts[org.fourth.pk] == {month: tally() for month in expected.months}


def test_every_rate_and_average_matches_the_definitions(history):
    expected = expected_figures(TODAY)
    got = report(today=TODAY)
    months = expected.months

    assert rates_of(got.whole, months) == expected_rates_of(expected.whole)
    for district, counts in expected.districts.items():
        assert rates_of(got.districts[district], months) == expected_rates_of(counts), district
    for category, counts in expected.categories.items():
        assert rates_of(got.categories[category], months) == expected_rates_of(counts), category


@pytest.mark.parametrize(
    ("counts", "rate", "shown"),
    [
        ({"responded_in_time": 13, "response_due": 16}, "response_rate", 81.3),  # 81.25
        ({"closed_in_time": 9, "closing_due": 16}, "resolution_rate", 56.3),  # 56.25
        ({"closed_in_time": 15, "closing_due": 16}, "resolution_rate", 93.8),  # 93.75
        ({"content": 2, "rated": 3}, "satisfaction_rate", 66.7),
        ({"content": 0, "rated": 4}, "satisfaction_rate", 0.0),
        ({"content": 0, "rated": 0}, "satisfaction_rate", None),
        ({"working_days": 29, "closed": 4}, "average_working_days", 7.3),  # 7.25
        ({"working_days": 161, "closed": 20}, "average_working_days", 8.1),  # 8.05
        ({"working_days": 0, "closed": 3}, "average_working_days", 0.0),
        ({"working_days": 0, "closed": 0}, "average_working_days", None),
    ],
)
def test_a_rate_or_average_rounds_half_up_to_one_decimal(counts, rate, shown):
    assert getattr(Tally(**counts), rate) == shown
    assert expected_rates(tally(**counts))[rate] == shown


def test_the_report_takes_as_many_queries_for_three_thousand_requests_as_for_a_hundred(org):
    arrangement(2026, ARRANGEMENT_2026)
    generate_history(org, 100, seed=1)
    with CaptureQueriesContext(connection) as few:
        small = report(today=TODAY)
    generate_history(org, HISTORY_SIZE - 100, seed=2, first_pk=101)
    with CaptureQueriesContext(connection) as many:
        large = report(today=TODAY)

    assert sum(small.whole[month].received for month in small.months) < 100
    assert sum(large.whole[month].received for month in large.months) > 2000
    assert len(few) == len(many) <= QUERIES


# Requests built by hand, one edge each.

MARCH, APRIL = D(2026, 3, 1), D(2026, 4, 1)


def at(month, day, hour=10, minute=0, year=2026):
    return local(D(year, month, day), hour, minute)


def make_request(org, received_at, trail=(), *, category=None, place=None, rating="", **fields):
    """A request received at `received_at` whose trail goes on with `trail`,
    (kind, at, new state) lines; it stands in the state the last line left it."""
    place = place or org.shiling
    lines = [(Kind.RECEIVED, received_at, State.RECEIVED), *trail]
    reference = f"{ServiceRequest.objects.count() + 1:08d}"
    request = ServiceRequest.objects.create(
        reference=reference,
        category=category or org.noise,
        place=place,
        unit=place,
        state=lines[-1][2],
        rating=rating,
        description="楼上装修噪音",
        address="石岭路 8 号",
        mobile="13912345678",
        submission_hash=f"built-{reference}",
        received_at=received_at,
        **fields,
    )
    before = ""
    events = []
    for kind, moment, state in lines:
        events.append(
            RequestEvent(
                request=request, kind=kind, from_state=before, to_state=state, unit=place, at=moment
            )
        )
        before = state
    RequestEvent.objects.bulk_create(events)
    return request


def answered(received_at, replied_at):
    """Taken on within the hour, answered at `replied_at`, closed unrated a week later."""
    return [
        (Kind.ACCEPTED, received_at + datetime.timedelta(hours=1), State.IN_PROGRESS),
        (Kind.REPLIED, replied_at, State.REPLIED),
        (Kind.CLOSED, replied_at + datetime.timedelta(days=7, hours=1), State.CLOSED),
    ]


def test_a_first_response_in_the_last_minute_of_its_due_date_is_in_time_and_one_later_is_late(org):
    due = {"response_due_on": D(2026, 3, 3), "resolution_due_on": D(2026, 3, 31)}
    received = at(3, 2, 9)
    make_request(org, received, [(Kind.ACCEPTED, at(3, 3, 23, 59), State.IN_PROGRESS)], **due)
    # 00:01 on 4 March is still 3 March in UTC.
    make_request(org, received, [(Kind.ACCEPTED, at(3, 4, 0, 1), State.IN_PROGRESS)], **due)
    # Taken on in time, passed up and taken on again late: the first response counts.
    make_request(
        org,
        received,
        [
            (Kind.ACCEPTED, at(3, 3), State.IN_PROGRESS),
            (Kind.ESCALATED, at(3, 4, 9), State.ESCALATED),
            (Kind.ACCEPTED, at(3, 5), State.IN_PROGRESS),
        ],
        **due,
    )
    # 不予受理 answers the resident too, and closes the request.
    make_request(org, received, [(Kind.REJECTED, at(3, 3, 23, 59), State.REJECTED)], **due)

    figures = report(today=D(2026, 3, 20))
    assert counted(figures.whole, [MARCH]) == {
        MARCH: tally(
            received=4,
            response_due=4,
            responded_in_time=3,
            closing_due=1,
            closed=1,
            closed_in_time=1,
            working_days=1,
        )
    }


def test_a_merged_request_counts_nowhere(org):
    make_request(org, at(3, 2, 9), response_due_on=D(2026, 3, 25), resolution_due_on=D(2026, 3, 31))
    make_request(
        org,
        at(3, 2, 9),
        [
            (Kind.ACCEPTED, at(3, 2, 11), State.IN_PROGRESS),
            (Kind.MERGED, at(3, 3, 9), State.MERGED),
        ],
        category=org.rental,
        place=org.haian,
        response_due_on=D(2026, 3, 3),
        resolution_due_on=D(2026, 3, 9),
    )

    figures = report(today=D(2026, 3, 20))
    nothing = {month: tally() for month in figures.months}
    assert counted(figures.whole, [MARCH]) == {MARCH: tally(received=1)}
    assert counted(figures.districts[org.first.pk], [MARCH]) == {MARCH: tally(received=1)}
    assert counted(figures.districts[org.second.pk], figures.months) == nothing
    assert counted(figures.categories[org.rental.pk], figures.months) == nothing


def test_a_request_counts_in_the_local_month_it_was_received(org):
    due = {"response_due_on": D(2026, 4, 30), "resolution_due_on": D(2026, 4, 30)}
    make_request(org, at(3, 31, 23, 30), **due)  # 15:30 UTC
    make_request(org, at(4, 1, 0, 30), **due)  # 16:30 UTC on 31 March
    make_request(org, at(4, 30, 23, 30, year=2025), **due)  # before the twelve months

    figures = report(today=D(2026, 4, 20))
    assert figures.months == [D(2025, month, 1) for month in range(5, 13)] + [
        D(2026, month, 1) for month in range(1, 5)
    ]
    assert counted(figures.whole, figures.months, ["received"]) == {
        month: {"received": int(month in (MARCH, APRIL))} for month in figures.months
    }


def test_a_request_is_due_once_its_due_date_has_passed_unanswered(org):
    received = at(3, 9, 9)
    taken_on = [(Kind.ACCEPTED, at(3, 10), State.IN_PROGRESS)]
    # Nothing due yet, or due today: not counted.
    make_request(org, received, response_due_on=D(2026, 3, 23), resolution_due_on=D(2026, 3, 27))
    make_request(org, received, response_due_on=D(2026, 3, 20), resolution_due_on=D(2026, 3, 25))
    # Past both due dates without a word: due, and late.
    make_request(org, received, response_due_on=D(2026, 3, 19), resolution_due_on=D(2026, 3, 19))
    # Taken on in time; past the resolution due date being handled, and waiting
    # for approval of the reply.
    make_request(
        org, received, taken_on, response_due_on=D(2026, 3, 10), resolution_due_on=D(2026, 3, 19)
    )
    make_request(
        org,
        received,
        [*taken_on, (Kind.REPLY_SUBMITTED, at(3, 17), State.AWAITING_APPROVAL)],
        response_due_on=D(2026, 3, 10),
        resolution_due_on=D(2026, 3, 18),
    )
    # Answered late and waiting for the resident's rating: neither closed nor pending.
    make_request(
        org,
        received,
        [*taken_on, (Kind.REPLIED, at(3, 19), State.REPLIED)],
        response_due_on=D(2026, 3, 10),
        resolution_due_on=D(2026, 3, 18),
    )
    # Being handled, due today.
    make_request(
        org, received, taken_on, response_due_on=D(2026, 3, 10), resolution_due_on=D(2026, 3, 20)
    )

    figures = report(today=D(2026, 3, 20))
    assert counted(figures.whole, [MARCH]) == {
        MARCH: tally(received=7, response_due=5, responded_in_time=4, closing_due=3)
    }


def test_a_reopened_request_is_judged_by_the_due_date_of_its_second_round(org):
    def reopened(second_reply):
        """Answered in time, rated 不满意, answered again at `second_reply` and
        closed unrated: round 2 is due on 13 March."""
        return [
            (Kind.ACCEPTED, at(3, 2), State.IN_PROGRESS),
            (Kind.REPLIED, at(3, 5), State.REPLIED),
            (Kind.RATED, at(3, 6, 9), State.REOPENED),
            (Kind.ACCEPTED, at(3, 6), State.IN_PROGRESS),
            (Kind.REPLIED, second_reply, State.REPLIED),
            (Kind.CLOSED, second_reply + datetime.timedelta(days=7), State.CLOSED),
        ]

    for second_reply in (at(3, 12, 16), at(3, 16)):
        make_request(
            org,
            at(3, 2, 9),
            reopened(second_reply),
            rating=Rating.DISSATISFIED,
            round=2,
            response_due_on=D(2026, 3, 3),
            resolution_due_on=D(2026, 3, 13),
        )

    figures = report(today=D(2026, 3, 31))
    # Late against round 1's 9 March, in time against 13 March; and late against it.
    assert counted(figures.whole, [MARCH]) == {
        MARCH: tally(
            received=2,
            response_due=2,
            responded_in_time=2,
            closing_due=2,
            closed=2,
            closed_in_time=1,
            rated=0,  # closed unrated: round 1's 不满意 rated an answer since replaced
            working_days=8 + 10,
        )
    }


def test_working_days_skip_the_spring_festival_and_count_its_saturday_worked_in_lieu(org):
    due = {"response_due_on": D(2026, 2, 14), "resolution_due_on": D(2026, 2, 27)}
    # 14 February is a Saturday worked in lieu, 15 to 23 February the holiday.
    make_request(org, at(2, 13), answered(at(2, 13), at(2, 24)), **due)
    make_request(org, at(2, 13, 9), answered(at(2, 13, 9), at(2, 13, 16)), **due)

    figures = report(today=D(2026, 3, 10))
    february = D(2026, 2, 1)
    assert counted(figures.whole, [february]) == {
        february: tally(
            received=2,
            response_due=2,
            responded_in_time=2,
            closing_due=2,
            closed=2,
            closed_in_time=2,
            working_days=2 + 0,
        )
    }
    assert figures.whole[february].average_working_days == 1.0


def test_working_days_in_a_year_staff_entered_follow_their_entry_alone(org):
    # The 2025 notice's 国庆 as staff entered it, with a day off and a Saturday
    # worked of their own, and 清明 left out: the year is theirs, so 4 April is worked.
    arrangement(
        2025,
        [
            ("国庆节、中秋节", MAKEUP, D(2025, 9, 28), D(2025, 9, 28)),
            ("国庆节、中秋节", HOLIDAY, D(2025, 10, 1), D(2025, 10, 8)),
            ("国庆节、中秋节", MAKEUP, D(2025, 10, 11), D(2025, 10, 11)),
            ("补班", MAKEUP, D(2025, 10, 18), D(2025, 10, 18)),
            ("补休", HOLIDAY, D(2025, 10, 23), D(2025, 10, 23)),
        ],
    )
    due = {"response_due_on": D(2025, 12, 31), "resolution_due_on": D(2025, 12, 31)}
    for received, replied in [
        (D(2025, 9, 30), D(2025, 10, 13)),  # 9, 10, 11 (Saturday) and 13 October: 4
        (D(2025, 10, 17), D(2025, 10, 20)),  # 18 (Saturday) and 20 October: 2
        (D(2025, 10, 22), D(2025, 10, 24)),  # 24 October: 1
        (D(2025, 4, 3), D(2025, 4, 7)),  # 4 and 7 April: 2
    ]:
        make_request(
            org, local(received, 10), answered(local(received, 10), local(replied, 10)), **due
        )

    figures = report(today=D(2026, 3, 20))
    months = [D(2025, 4, 1), D(2025, 9, 1), D(2025, 10, 1)]
    assert counted(figures.whole, months, ["closed", "working_days"]) == {
        D(2025, 4, 1): {"closed": 1, "working_days": 2},
        D(2025, 9, 1): {"closed": 1, "working_days": 4},
        D(2025, 10, 1): {"closed": 2, "working_days": 3},
    }
    assert figures.whole[D(2025, 10, 1)].average_working_days == 1.5


def test_requests_closed_by_a_rating_or_a_week_unrated_are_closed_and_only_the_first_rated(org):
    def received(minute, description):
        request, _created = handling.receive(
            category=org.noise,
            place=org.shiling,
            description=description,
            address="石岭路 8 号",
            mobile="13912345678",
            now=at(3, 2, 9, minute),
        )
        request = handling.accept(request, org.shiling_handler, now=at(3, 2, 9, 30))
        return handling.reply(request, org.shiling_handler, "已约谈业主", now=at(3, 3))

    satisfied = handling.rate(received(0, "楼上深夜装修"), Rating.SATISFIED, now=at(3, 3, 20))
    unrated = received(5, "楼下烧烤店外放音乐")
    reopened = handling.rate(received(10, "广场舞音响太响"), Rating.DISSATISFIED, now=at(3, 3, 21))
    reopened = handling.accept(reopened, org.shiling_handler, now=at(3, 4, 9))
    handling.reply(reopened, org.shiling_handler, "已调整音响音量", now=at(3, 5))
    handling.close_unrated(now=at(3, 10, 11))  # the first answer to `unrated`
    handling.close_unrated(now=at(3, 12, 11))  # the second to `reopened`

    # A rating that closes a request writes no 办结 line of its own.
    assert not satisfied.events.filter(kind=Kind.CLOSED).exists()
    assert unrated.events.filter(kind=Kind.CLOSED).exists()
    figures = report(today=D(2026, 3, 31))
    assert counted(figures.whole, [MARCH]) == {
        MARCH: tally(
            received=3,
            response_due=3,
            responded_in_time=3,
            closing_due=3,
            closed=3,
            closed_in_time=3,
            # 满意 only: the reopened one's second answer closed unrated, and
            # its first round's 不满意 rated an answer since replaced.
            rated=1,
            content=1,
            working_days=1 + 1 + 3,
        )
    }

"""心理咨询数据 (counseling.figures and its admin page): every figure of every
room and month against a count of its own, written here from the definitions
alone, over a generated year of bookings, holds, waitlist entries and
self-checks; a room whose open counsellor time is worked out by hand; figures
with nothing to divide by; the figures unchanged once personal data is erased;
and the page, for coordinators only, in a fixed number of queries."""

import dataclasses
import datetime
import io
import random
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.figures import report
from counseling.models import (
    Booking,
    BookingAccessLog,
    Closure,
    Counsellor,
    DutyShift,
    HolidayOpening,
    OpeningHours,
    Room,
    SelfCheckCount,
    WaitlistEntry,
)
from counseling.selfcheck import CRISIS, INSTRUMENTS
from portal.core.groups import (
    COORDINATORS,
    EDITORS,
    GRID_WORKERS,
    REQUEST_HANDLERS,
    REVIEWERS,
)
from portal.core.models import HolidayArrangement, HolidayPeriod
from tests.factories import log_in_verified, make_weekday_room

pytestmark = pytest.mark.django_db

D = datetime.date
LOCAL = ZoneInfo("Asia/Shanghai")
ONE_DAY = datetime.timedelta(days=1)
URL = "/admin/counseling/figures/"
Status = Booking.Status
State = WaitlistEntry.State
VisitType = Booking.VisitType
HOLIDAY, MAKEUP = HolidayPeriod.Kind.HOLIDAY, HolidayPeriod.Kind.MAKEUP_WORKDAY
EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"
WORKDAYS = "MO,TU,WE,TH,FR"
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def local(day, hour=0, minute=0, second=0, microsecond=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute, second, microsecond), LOCAL)


def days_from(first, last):
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def arrangement(year, periods):
    entry = HolidayArrangement.objects.create(year=year, notice=f"{year} 年节假日安排")
    HolidayPeriod.objects.bulk_create(
        HolidayPeriod(arrangement=entry, name=name, kind=kind, starts_on=first, ends_on=last)
        for name, kind, first, last in periods
    )


def weekly(model, room, weekdays, start, end, starts_on, ends_on=None, **extra):
    return model.objects.create(
        room=room,
        weekdays=weekdays,
        start_time=datetime.time(*start),
        end_time=datetime.time(*end),
        starts_on=starts_on,
        ends_on=ends_on,
        **extra,
    )


_references = iter(range(10_000_000, 99_999_999))


def make_booking(room, starts_at, status, *, minutes=50, created_at=None, name="测试居民", **extra):
    """A booking row as counseling.booking leaves it, made at `created_at`."""
    booking = Booking.objects.create(
        reference=str(next(_references)),
        room=room,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=minutes),
        status=status,
        name=name,
        mobile="13800138000",
        **extra,
    )
    # created_at is stamped on insert: put it back to when the booking was made.
    Booking.objects.filter(pk=booking.pk).update(
        created_at=created_at or starts_at - datetime.timedelta(days=3)
    )
    return booking


def make_entry(room, created_at, state):
    return WaitlistEntry.objects.create(
        room=room,
        first_day=created_at.astimezone(LOCAL).date(),
        last_day=created_at.astimezone(LOCAL).date() + datetime.timedelta(days=3),
        mobile="13900139000",
        state=state,
        created_at=created_at,
    )


def snapshot(figures):
    """Every tally of every room (and all rooms) and month, and the self-check
    counts, as plain values (lead times in order: rows come back in any)."""

    def plain(tally):
        values = dataclasses.asdict(tally)
        values["lead_days"] = sorted(values["lead_days"])
        return values

    return {
        "tallies": {
            (room.pk if room else None, month): plain(figures.tallies(room)[month])
            for room in [None, *figures.rooms]
            for month in figures.months
        },
        "self_checks": figures.self_checks,
    }


# --- The generated history ----------------------------------------------------------

TODAY = D(2025, 6, 15)  # the figures' twelve months: 2024-07 to 2025-06
# Entered for both years the figures and their neighbouring days touch, so the
# statutory calendar is this list alone (chinesecalendar is not asked).
CALENDAR = {
    2024: [
        ("中秋节", MAKEUP, D(2024, 9, 14), D(2024, 9, 14)),
        ("中秋节", HOLIDAY, D(2024, 9, 15), D(2024, 9, 17)),
        ("国庆节", MAKEUP, D(2024, 9, 29), D(2024, 9, 29)),
        ("国庆节", HOLIDAY, D(2024, 10, 1), D(2024, 10, 7)),
        ("国庆节", MAKEUP, D(2024, 10, 12), D(2024, 10, 12)),
    ],
    2025: [
        ("元旦", HOLIDAY, D(2025, 1, 1), D(2025, 1, 1)),
        ("春节", MAKEUP, D(2025, 1, 26), D(2025, 1, 26)),
        ("春节", HOLIDAY, D(2025, 1, 28), D(2025, 2, 4)),
        ("春节", MAKEUP, D(2025, 2, 8), D(2025, 2, 8)),
        ("劳动节", MAKEUP, D(2025, 4, 27), D(2025, 4, 27)),
        ("劳动节", HOLIDAY, D(2025, 5, 1), D(2025, 5, 5)),
        ("端午节", HOLIDAY, D(2025, 5, 31), D(2025, 6, 2)),
    ],
}
FROM = D(2024, 1, 1)
# Per room: opening bands and duty shifts (counsellor, weekdays, start, end,
# first day, last day), closures (all rooms where the room is None) and the
# holidays a coordinator opened it on.
ROOMS = {
    "街道咨询室": {
        "opening": [
            (WORKDAYS, (9, 0), (12, 0), FROM, None),
            (WORKDAYS, (14, 0), (17, 0), FROM, None),
        ],
        "duty": [
            ("赵老师", WORKDAYS, (9, 0), (12, 0), FROM, None),
            ("钱老师", "MO,WE,FR", (14, 0), (17, 0), FROM, None),
            ("孙老师", "MO", (15, 0), (17, 0), FROM, None),  # overlaps 钱老师: counted once
        ],
        "holiday_openings": [],
    },
    "第一管区咨询室": {
        "opening": [("TU,TH,SA", (9, 0), (12, 0), FROM, None)],
        "duty": [
            ("李老师", "TU,TH", (9, 0), (11, 0), FROM, D(2024, 12, 31)),
            ("李老师", "TU,TH,SA", (10, 0), (12, 0), D(2025, 1, 1), None),
            ("周老师", "SA", (13, 0), (15, 0), FROM, None),  # on duty, but the room is shut
        ],
        "holiday_openings": [D(2024, 10, 3)],
    },
    "第二管区咨询室": {
        "opening": [
            (EVERY_DAY, (8, 30), (11, 45), FROM, None),
            ("SA,SU", (14, 0), (16, 0), D(2025, 3, 1), None),
        ],
        "duty": [
            ("吴老师", EVERY_DAY, (8, 0), (11, 0), FROM, None),
            ("吴老师", "SA,SU", (14, 0), (16, 0), D(2025, 3, 1), None),
        ],
        "holiday_openings": [D(2025, 1, 1)],
    },
}
CLOSURES = [
    ("街道咨询室", local(D(2024, 11, 12), 10), local(D(2024, 11, 12), 15, 30)),
    ("街道咨询室", local(D(2024, 11, 12), 11), local(D(2024, 11, 12), 13)),
    (None, local(D(2025, 3, 5)), local(D(2025, 3, 6))),
    ("第一管区咨询室", local(D(2024, 8, 31), 11), local(D(2024, 9, 3), 10, 30)),
    ("第二管区咨询室", local(D(2025, 6, 30), 10), local(D(2025, 7, 1), 9)),
    ("第二管区咨询室", local(D(2024, 6, 30), 9), local(D(2024, 7, 1), 10)),
]
STATUS_WEIGHTS = {
    Status.CONFIRMED: 3,
    Status.ATTENDED: 5,
    Status.NO_SHOW: 2,
    Status.CANCELLED: 2,
    Status.LATE_CANCEL: 1,
    Status.STAFF_CANCELLED: 1,
    Status.HELD: 1,
    Status.HOLD_RELEASED: 1,
}
# A waitlist entry's state, and the statuses the time offered to it may have now.
OFFERS = {
    State.WAITING: [None],
    State.OFFERED: [Status.HELD],
    State.BOOKED: [
        Status.CONFIRMED,
        Status.ATTENDED,
        Status.NO_SHOW,
        Status.CANCELLED,  # confirmed, then cancelled: the waitlist still served it
        Status.LATE_CANCEL,
    ],
    State.MISSED: [Status.HOLD_RELEASED],
    State.LEFT: [None, Status.HOLD_RELEASED],
    State.ENDED: [None],
}


def make_history(seed=20250615):
    """A year of everything the figures count, built with the models as
    counseling.booking leaves them, from a seeded generator."""
    rng = random.Random(seed)
    for year, periods in CALENDAR.items():
        arrangement(year, periods)
    rooms = {}
    counsellors = {}
    for name, plan in ROOMS.items():
        room = rooms[name] = Room.objects.create(name=name, address=f"{name}地址")
        for weekdays, start, end, first, last in plan["opening"]:
            weekly(OpeningHours, room, weekdays, start, end, first, last)
        for person, weekdays, start, end, first, last in plan["duty"]:
            counsellor = counsellors.get(person) or Counsellor.objects.create(name=person)
            counsellors[person] = counsellor
            weekly(DutyShift, room, weekdays, start, end, first, last, counsellor=counsellor)
        for day in plan["holiday_openings"]:
            HolidayOpening.objects.create(room=room, date=day)
    for name, starts_at, ends_at in CLOSURES:
        Closure.objects.create(
            room=rooms[name] if name else None, starts_at=starts_at, ends_at=ends_at, reason="检修"
        )

    # Sessions on the hour (never overlapping in a room), from a little before
    # the twelve months to a little after, and at 06:30 on the first of some
    # months: still the last day of the month before in UTC.
    first_day, last_day = D(2024, 6, 20), D(2025, 7, 10)
    span = (last_day - first_day).days
    free = {
        room: rng.sample(
            [
                local(first_day + datetime.timedelta(days=n), hour)
                for n in range(span + 1)
                for hour in range(8, 19)
            ],
            200,
        )
        for room in rooms.values()
    }
    for room in rooms.values():
        free[room] += [
            local(day, 6, 30)
            for day in (D(2024, 7, 1), D(2024, 12, 1), D(2025, 3, 1), D(2025, 7, 1))
        ]
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())

    def made_before(starts_at):
        lead = datetime.timedelta(
            days=rng.randint(0, 20),
            seconds=rng.randint(0, 86399),
            microseconds=rng.randint(0, 999999),
        )
        return starts_at - lead

    for room in rooms.values():
        for _n in range(140):
            starts_at = free[room].pop()
            make_booking(
                room,
                starts_at,
                rng.choices(statuses, weights)[0],
                minutes=rng.choice([45, 50, 60]),
                visit_type=rng.choice(list(VisitType)),
                created_at=made_before(starts_at),
                counsellor=rng.choice([None, *counsellors.values()]),
            )
        for _n in range(30):
            made_at = local(
                first_day + datetime.timedelta(days=rng.randint(0, span)),
                rng.randint(0, 23),
                rng.randint(0, 59),
            )
            state = rng.choice(list(OFFERS))
            entry = make_entry(room, made_at, state)
            offer = rng.choice(OFFERS[state])
            if offer is not None:
                starts_at = free[room].pop()
                make_booking(
                    room,
                    starts_at,
                    offer,
                    visit_type=rng.choice(list(VisitType)),
                    created_at=made_before(starts_at),
                    waitlist_entry=entry,
                )
        # Entries made at the edges of a month, on the Shanghai clock.
        make_entry(room, local(D(2024, 7, 1), 0, 30), State.BOOKED)
        make_entry(room, local(D(2024, 6, 30), 23, 30), State.WAITING)
        make_entry(room, local(D(2025, 6, 30), 23, 59), State.ENDED)
        make_entry(room, local(D(2025, 7, 1), 0, 0), State.WAITING)
        for starts_at in free[room][:4]:  # a few whole remaining sessions, all on one row each
            make_booking(room, starts_at, Status.ATTENDED, created_at=starts_at - ONE_DAY)

    checks = Counter()
    for _n in range(300):
        code = rng.choice(list(INSTRUMENTS))
        instrument = INSTRUMENTS[code]
        band = rng.choice(
            [band.code.value for band in instrument.bands]
            + ([CRISIS] if instrument.crisis_item else [])
        )
        when = local(
            first_day + datetime.timedelta(days=rng.randint(0, span)),
            rng.randint(0, 23),
            rng.randint(0, 59),
        )
        if rng.random() < 0.1:  # the last minutes of a month
            when = local(D(2024, 9, 30), 23, 50)
        SelfCheckCount.record(code, band, when)
        checks[(when.astimezone(LOCAL).date().replace(day=1), code, band)] += 1
    return rooms, checks


# --- The reference: the figures counted from the definitions ---------------------------


def months_up_to(today, count=12):
    months = [today.replace(day=1)]
    while len(months) < count:
        months.insert(0, (months[0] - ONE_DAY).replace(day=1))
    return months


def month_days(month):
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return days_from(month, following - ONE_DAY)


def one_decimal(value):
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(part, whole):
    return one_decimal(Decimal(100 * part) / Decimal(whole)) if whole else None


def kind_of(day):
    for periods in CALENDAR.values():
        for _name, kind, first, last in periods:
            if first <= day <= last:
                return kind
    return None


def minutes_of(weekly_times, day):
    """The minutes of the day (0–1439) the bands valid on `day` cover."""
    code = WEEKDAY_CODES[day.weekday()]
    covered = set()
    for weekdays, start, end, first, last in weekly_times:
        if code in weekdays.split(",") and first <= day and (last is None or day <= last):
            covered |= set(range(start[0] * 60 + start[1], end[0] * 60 + end[1]))
    return covered


def open_minutes(name, day):
    """Minutes a room was open with a counsellor on duty on `day`, closures left out."""
    plan = ROOMS[name]
    kind = kind_of(day)
    if kind == HOLIDAY and day not in plan["holiday_openings"]:
        return 0
    timetable_day = day
    if kind == MAKEUP:  # Saturday works as Friday, Sunday as Monday
        timetable_day = day - ONE_DAY if day.weekday() == 5 else day + ONE_DAY
    opening = minutes_of(plan["opening"], timetable_day)
    duty = minutes_of([shift[1:] for shift in plan["duty"]], timetable_day)
    midnight = local(day)
    closed = {
        minute
        for closure_room, starts_at, ends_at in CLOSURES
        if closure_room in (None, name) and starts_at < midnight + ONE_DAY and ends_at > midnight
        for minute in range(1440)
        if starts_at <= midnight + datetime.timedelta(minutes=minute) < ends_at
    }
    return len((opening & duty) - closed)


def expected_figures(rooms, checks, today):
    months = months_up_to(today)
    bookings = list(
        Booking.objects.values(
            "room_id",
            "starts_at",
            "ends_at",
            "created_at",
            "status",
            "visit_type",
            "waitlist_entry_id",
        )
    )
    entries = list(WaitlistEntry.objects.values("pk", "room_id", "created_at", "state"))
    taken_offers = {
        b["waitlist_entry_id"]
        for b in bookings
        if b["status"] in (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)
    }

    def month_of(moment):
        return moment.astimezone(LOCAL).date().replace(day=1)

    def figures_of(room_ids, names, month):
        counted = [
            b
            for b in bookings
            if b["room_id"] in room_ids
            and month_of(b["starts_at"]) == month
            and b["status"] not in (Status.HELD, Status.HOLD_RELEASED)
        ]
        attended = sum(b["status"] == Status.ATTENDED for b in counted)
        no_show = sum(b["status"] == Status.NO_SHOW for b in counted)
        late = sum(b["status"] == Status.LATE_CANCEL for b in counted)
        leads = sorted(
            (b["starts_at"] - b["created_at"]) // datetime.timedelta(microseconds=1)
            for b in counted
        )
        day = Decimal(86_400_000_000)
        if leads:
            middle = len(leads) // 2
            if len(leads) % 2:
                median = Decimal(leads[middle]) / day
            else:
                median = Decimal(leads[middle - 1] + leads[middle]) / (2 * day)
            lead_median = one_decimal(median)
            lead_average = one_decimal(Decimal(sum(leads)) / (len(leads) * day))
        else:
            lead_median = lead_average = None
        booked = sum(
            (b["ends_at"] - b["starts_at"]) // datetime.timedelta(minutes=1)
            for b in counted
            if b["status"] in (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)
        )
        opened = sum(open_minutes(name, day) for name in names for day in month_days(month))
        made = [
            e for e in entries if e["room_id"] in room_ids and month_of(e["created_at"]) == month
        ]
        return {
            "bookings": len(counted),
            "first_visits": sum(b["visit_type"] == VisitType.FIRST for b in counted),
            "follow_ups": sum(b["visit_type"] == VisitType.FOLLOW_UP for b in counted),
            "attended_rate": percent(attended, attended + no_show),
            "no_show_rate": percent(no_show, attended + no_show),
            "late_cancel_rate": percent(late, len(counted)),
            "lead_days_median": lead_median,
            "lead_days_average": lead_average,
            "utilisation": percent(booked, opened),
            "booked_hours": one_decimal(Decimal(booked) / 60),
            "open_hours": one_decimal(Decimal(opened) / 60),
            "waitlist_entries": len(made),
            "waitlist_served": sum(
                e["state"] == State.BOOKED or e["pk"] in taken_offers for e in made
            ),
        }

    expected = {}
    for month in months:
        expected[(None, month)] = figures_of({r.pk for r in rooms.values()}, list(rooms), month)
        for name, room in rooms.items():
            expected[(room.pk, month)] = figures_of({room.pk}, [name], month)
    self_checks = {}
    for (month, code, band), count in checks.items():
        if months[0] <= month <= months[-1]:
            self_checks.setdefault(month, {}).setdefault(code, {})[band] = count
    return expected, self_checks


FIGURES = (
    "bookings",
    "first_visits",
    "follow_ups",
    "attended_rate",
    "no_show_rate",
    "late_cancel_rate",
    "lead_days_median",
    "lead_days_average",
    "utilisation",
    "booked_hours",
    "open_hours",
    "waitlist_entries",
    "waitlist_served",
)


def test_every_figure_of_every_room_and_month_matches_a_count_from_the_definitions():
    rooms, checks = make_history()
    expected, self_checks = expected_figures(rooms, checks, TODAY)

    figures = report(TODAY)

    assert figures.months == months_up_to(TODAY)
    assert [room.name for room in figures.rooms] == list(ROOMS)
    for room in [None, *rooms.values()]:
        for month in figures.months:
            tally = figures.tallies(room)[month]
            found = {name: getattr(tally, name) for name in FIGURES}
            assert found == expected[(room.pk if room else None, month)], (room, month)
    assert figures.self_checks == self_checks
    # The history reaches every figure: none is vacuously right.
    whole = [figures.whole[month] for month in figures.months]
    assert all(tally.bookings and tally.open for tally in whole)
    assert sum(t.attended for t in whole) and sum(t.no_show for t in whole)
    assert sum(t.late_cancel for t in whole) and sum(t.waitlist_served for t in whole)
    assert sum(t.first_visits for t in whole) and sum(t.follow_ups for t in whole)


def test_erasing_personal_data_leaves_every_figure_as_it_was():
    make_history()
    before = snapshot(report(TODAY))

    call_command("purge_bookings", days=0, stdout=io.StringIO())
    service.erase_personal_data(timezone.now() + datetime.timedelta(days=3650))

    assert {booking.name for booking in Booking.objects.all()} == {service.ERASED_NAME}
    assert not Booking.objects.exclude(mobile="").exists()
    assert not Booking.objects.filter(personal_data_erased_at__isnull=True).exists()
    assert not WaitlistEntry.objects.exclude(mobile="").exists()
    assert snapshot(report(TODAY)) == before


# --- Utilisation worked out by hand -----------------------------------------------------


def test_utilisation_counts_three_hours_a_working_day_less_holidays_and_closures():
    """June 2025, a room open 9:00–12:00 on weekdays with one counsellor on duty:
    21 weekdays, less Monday 2 June (端午节), plus Saturday 7 June worked in lieu
    (as a Friday) is 21 days of 3 hours, 63 hours; less a closure of 1.5 hours
    (10 June 10:00–11:30) and one reaching 11:00–14:00 on 11 June, of which one
    hour is open time: 60.5 hours. Three sessions of 50 minutes hold their time
    (confirmed, attended, no-show); a cancelled one and a hold do not."""
    arrangement(
        2025,
        [
            ("端午节", HOLIDAY, D(2025, 5, 31), D(2025, 6, 2)),
            ("端午节", MAKEUP, D(2025, 6, 7), D(2025, 6, 7)),
        ],
    )
    room = make_weekday_room("手算咨询室", starts_on=D(2025, 1, 1))
    Closure.objects.create(
        room=room, starts_at=local(D(2025, 6, 10), 10), ends_at=local(D(2025, 6, 10), 11, 30)
    )
    Closure.objects.create(
        room=room, starts_at=local(D(2025, 6, 11), 11), ends_at=local(D(2025, 6, 11), 14)
    )
    for day, status in [
        (D(2025, 6, 3), Status.CONFIRMED),
        (D(2025, 6, 4), Status.ATTENDED),
        (D(2025, 6, 5), Status.NO_SHOW),
        (D(2025, 6, 6), Status.CANCELLED),
        (D(2025, 6, 9), Status.HELD),
    ]:
        make_booking(room, local(day, 9), status)

    june = report(TODAY).tallies(room)[D(2025, 6, 1)]

    assert june.open == datetime.timedelta(hours=60, minutes=30)
    assert june.booked == datetime.timedelta(minutes=150)
    assert (june.open_hours, june.booked_hours) == (60.5, 2.5)
    assert june.utilisation == 4.1  # 2.5 / 60.5 = 4.13%
    assert june.bookings == 4  # the hold is no booking


# --- Nothing to divide by ---------------------------------------------------------------


def test_a_figure_with_nothing_to_divide_by_is_none_and_shows_a_dash(coordinator_client):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - ONE_DAY).replace(day=1)
    # Open every weekday, with nothing booked: no rates, no lead time, 0% used.
    room = make_weekday_room("空闲咨询室", starts_on=last_month - datetime.timedelta(days=40))
    # Never open, yet one booking on the books, cancelled late, and none recorded.
    shut = Room.objects.create(name="未开放咨询室", address="某地")
    make_booking(shut, local(last_month, 10), Status.LATE_CANCEL)

    figures = report()
    empty = figures.tallies(room)[last_month]
    cancelled = figures.tallies(shut)[last_month]

    assert (empty.bookings, empty.attended_rate, empty.no_show_rate) == (0, None, None)
    assert (empty.late_cancel_rate, empty.lead_days_median, empty.lead_days_average) == (
        None,
        None,
        None,
    )
    assert empty.open and empty.utilisation == 0.0
    assert (cancelled.bookings, cancelled.attended_rate, cancelled.no_show_rate) == (1, None, None)
    assert cancelled.late_cancel_rate == 100.0
    assert (cancelled.open, cancelled.utilisation) == (datetime.timedelta(), None)
    page = coordinator_client.get(URL, {"room": shut.pk, "month": f"{last_month:%Y-%m}"})
    assert page.status_code == 200
    assert "—" in page.content.decode()


# --- A hold confirmed through the booking service ---------------------------------------


def test_a_hold_the_resident_confirms_is_one_booking_and_the_waitlist_served_it(
    django_capture_on_commit_callbacks,
):
    now = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL)  # a Monday
    room = make_weekday_room("候补数据室", weekdays=EVERY_DAY, hours=(9, 10))
    room.horizon_days = 2
    room.save()
    with django_capture_on_commit_callbacks(execute=True):
        booked = [
            service.create_booking(
                room=room,
                starts_at=slot.start,
                name=f"居民{n}",
                mobile=f"1370000{n:04d}",
                visit_type=VisitType.FIRST,
                now=now,
            )
            for n, slot in enumerate(Availability([room], now).slots(room))
        ]
        entry = service.join_waitlist(
            room=room,
            first_day=now.date(),
            last_day=now.date() + datetime.timedelta(days=2),
            mobile="13900000001",
            now=now,
        )
        service.cancel_by_resident(booked[1], now=now)
        hold = Booking.objects.get(status=Status.HELD)
        september = report(now.date()).tallies(room)[D(2026, 9, 1)]
        assert (september.bookings, september.waitlist_served) == (len(booked), 0)

        service.claim_hold(hold, name="候补居民", visit_type=VisitType.FIRST, now=now)

    september = report(now.date()).tallies(room)[D(2026, 9, 1)]
    assert september.bookings == len(booked) + 1  # the hold, now a booking, once
    assert (september.waitlist_entries, september.waitlist_served) == (1, 1)
    entry.refresh_from_db()
    assert entry.state == State.BOOKED


# --- The page ---------------------------------------------------------------------------


def make_user(username, group=None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="a-long-test-password", **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def coordinator_client(client):
    log_in_verified(client, make_user("figures-coordinator", COORDINATORS))
    return client


def recent_bookings(rooms, count, seed=7):
    """`count` bookings per room over this month and the two before, with
    waitlist entries and holds, named and numbered as residents' are."""
    rng = random.Random(seed)
    first = (timezone.localdate().replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    made = []
    for room in rooms:
        starts = rng.sample(
            [
                local(first + datetime.timedelta(days=n), hour)
                for n in range(85)
                for hour in range(8, 18)
            ],
            count,
        )
        for starts_at in starts:
            made.append(
                make_booking(
                    room, starts_at, rng.choice(list(Status)), name=f"居民{rng.randint(100, 999)}"
                )
            )
            if rng.random() < 0.2:
                make_entry(room, starts_at - ONE_DAY, rng.choice(list(State)))
    return made


def test_coordinators_see_the_charts_and_tables_and_nothing_about_anyone(coordinator_client):
    room = make_weekday_room("图表咨询室", starts_on=D(2026, 1, 1))
    other = make_weekday_room("另一咨询室", starts_on=D(2026, 1, 1))
    bookings = recent_bookings([room, other], 20)
    for instant in (timezone.now(), timezone.now() - datetime.timedelta(days=40)):
        SelfCheckCount.record("phq9", "mild", instant)
        SelfCheckCount.record("phq9", CRISIS, instant)
        SelfCheckCount.record("gad7", "severe", instant)

    response = coordinator_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "心理咨询数据" in html and "全部咨询室近 12 个月" in html
    # Five month charts and one per questionnaire, each an image with a title.
    assert html.count('class="chart__drawing"') == 7
    assert html.count('role="img"') == 7 and html.count("<title id=") == 7
    # A table beside them in a scroll region the keyboard reaches: months,
    # rooms, and each questionnaire's months.
    assert html.count('role="region" tabindex="0"') == 4
    assert html.count("<tr>") >= 12 + 3 + 2 * 12
    assert "css/admin_charts.css" in html
    for booking in bookings:
        assert booking.reference not in html
        assert booking.name not in html
    assert "13800138000" not in html
    assert not BookingAccessLog.objects.exists()

    chosen = coordinator_client.get(
        URL, {"room": room.pk, "month": f"{timezone.localdate():%Y-%m}"}
    )
    assert chosen.status_code == 200
    assert "图表咨询室近 12 个月" in chosen.content.decode()
    assert coordinator_client.get(URL, {"room": "999999"}).status_code == 404
    assert coordinator_client.get(URL, {"month": "2001-01"}).status_code == 404


def test_the_figures_are_in_the_counselling_menu_for_coordinators_only(
    coordinator_client, new_client
):
    assert URL in coordinator_client.get("/admin/").content.decode()
    editor = new_client()
    log_in_verified(editor, make_user("figures-editor", EDITORS))
    assert URL not in editor.get("/admin/").content.decode()


@pytest.mark.parametrize("group", [EDITORS, REVIEWERS, GRID_WORKERS, REQUEST_HANDLERS])
def test_other_staff_get_403(client, group):
    make_weekday_room("权限咨询室")
    log_in_verified(client, make_user("figures-other", group, is_staff=True))
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_takes_the_same_few_queries_however_many_bookings(
    coordinator_client, django_assert_max_num_queries
):
    rooms = [make_weekday_room(f"查询次数咨询室{n}", starts_on=D(2026, 1, 1)) for n in range(2)]
    recent_bookings(rooms, 3)
    coordinator_client.get(URL)  # the session and menus settle
    with CaptureQueriesContext(connection) as few:
        assert coordinator_client.get(URL).status_code == 200
    budget = len(few)  # now: the next request empties the connection's query log

    rooms.append(make_weekday_room("查询次数咨询室2", starts_on=D(2026, 1, 1)))
    recent_bookings(rooms, 60, seed=8)
    coordinator_client.get(URL)  # as above: the site's caches settle after the writes
    with django_assert_max_num_queries(budget):
        response = coordinator_client.get(URL)
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") > 12 + 3

"""Time free-slot availability for all six rooms over the next 30 days.

    python bench/availability.py [--days 60] [--runs 20]

Builds six rooms with a lunch-break timetable, two counsellors each, a closure,
a holiday opening and `--days` days of bookings before and after today, then
computes every room's free slots in a warm process several times and prints the
timings and the number of queries. Uses a throwaway SQLite file unless
DATABASE_URL names a database (give it a scratch PostgreSQL database: the
benchmark writes rooms and bookings and deletes them again at the end).
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
SCRATCH = tempfile.TemporaryDirectory(prefix="jjl-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SCRATCH.name}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from counseling.availability import Availability  # noqa: E402
from counseling.models import (  # noqa: E402
    LOCAL_TZ,
    Booking,
    Closure,
    Counsellor,
    DutyShift,
    HolidayOpening,
    OpeningHours,
    Room,
)

HORIZON_DAYS = 30
BANDS = [(datetime.time(9), datetime.time(12)), (datetime.time(14), datetime.time(17, 30))]
SESSIONS = [datetime.time(h) for h in (9, 10, 11, 14, 15, 16)]
PREFIX = "基准测试"


def build(days):
    today = timezone.localdate()
    since = today - datetime.timedelta(days=days + 7)
    rooms = []
    for number in range(6):
        room = Room.objects.create(
            name=f"{PREFIX}{number + 1}号咨询室", address="测试路", horizon_days=HORIZON_DAYS
        )
        rooms.append(room)
        for turn, weekdays in enumerate(("MO,WE,FR", "TU,TH")):
            counsellor = Counsellor.objects.create(name=f"{PREFIX}咨询师{number}-{turn}")
            for start, end in BANDS:
                times = {"start_time": start, "end_time": end, "starts_on": since}
                OpeningHours.objects.create(room=room, weekdays=weekdays, **times)
                DutyShift.objects.create(
                    room=room, counsellor=counsellor, weekdays=weekdays, **times
                )
        closed = datetime.datetime.combine(
            today + datetime.timedelta(days=number + 3), datetime.time(), LOCAL_TZ
        )
        Closure.objects.create(
            room=room, starts_at=closed, ends_at=closed + datetime.timedelta(days=1), reason="检修"
        )
        HolidayOpening.objects.create(room=room, date=today + datetime.timedelta(days=20))

    bookings = []
    for room in rooms:
        for offset in range(-days, days + 1):
            day = today + datetime.timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for index, start in enumerate(SESSIONS):
                if (index + offset + room.pk) % 2:  # about half of the sessions taken
                    continue
                starts_at = datetime.datetime.combine(day, start, LOCAL_TZ)
                bookings.append(
                    Booking(
                        reference=f"{len(bookings) + 10000000}",
                        room=room,
                        starts_at=starts_at,
                        ends_at=starts_at + datetime.timedelta(minutes=50),
                        name="基准",
                        mobile=f"139{len(bookings):08d}",
                    )
                )
    Booking.objects.bulk_create(bookings, batch_size=500)
    return rooms, len(bookings)


def clean_up():
    Booking.objects.filter(room__name__startswith=PREFIX).delete()
    for model in (OpeningHours, DutyShift):
        for band in model.objects.filter(room__name__startswith=PREFIX):
            band.delete()  # also deletes its scheduler event
    Room.objects.filter(name__startswith=PREFIX).delete()
    Counsellor.objects.filter(name__startswith=PREFIX).delete()


def measure(runs):
    rooms = list(Room.objects.filter(name__startswith=PREFIX))
    timings = []
    for _run in range(runs):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            availability = Availability(rooms)
            slots = sum(len(availability.slots(room)) for room in rooms)
        timings.append((time.perf_counter() - started) * 1000)
    return timings, len(queries), slots


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60, help="days of bookings either side")
    parser.add_argument("--runs", type=int, default=20, help="timed repetitions")
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    clean_up()
    rooms, booked = build(options.days)
    try:
        timings, queries, slots = measure(options.runs)
    finally:
        clean_up()
    print(f"数据库:{connection.vendor};6 个咨询室,{booked} 个预约({options.days} 天前后)")
    print(f"{HORIZON_DAYS} 天内可预约时段 {slots} 个,每次计算 {queries} 次查询")
    print(
        f"{options.runs} 次:最快 {min(timings):.1f} ms,中位数 {statistics.median(timings):.1f} ms"
        f",最慢 {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()

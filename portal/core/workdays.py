"""The statutory calendar: which days are holidays (放假), which weekend days are
worked in lieu (调休上班), and counting working days with them.

Three sources, in order of precedence:

1. **Staff** (`HolidayArrangement`, edited in the admin from the State Council's
   yearly notice). A year entered there is taken from there alone; a period of
   a notice that reaches into the neighbouring year (元旦 from 30 December)
   counts on those days too.
2. **The chinesecalendar package**, for the years it has data for.
3. **The law alone**, for a year neither knows: the days the national holiday
   regulation (《全国年节及纪念日放假办法》, 2024 revision) names are holidays
   (元旦 1 January; 春节 from 除夕 to 初三; 清明; 劳动节 1–2 May; 端午; 中秋;
   国庆 1–3 October), so no room opens on New Year's Day or at the Spring
   Festival by default. The bridging days and make-up workdays that only the
   yearly notice fixes are missing until staff enter it, and the admin
   dashboard says so (`unknown_years`).

Counselling availability and any module that counts due dates in working days
use this one calendar.
"""

import datetime
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import chinese_calendar
from django.utils.translation import gettext_lazy as _
from lunar_python import Lunar

ONE_DAY = datetime.timedelta(days=1)


class DayKind(Enum):
    ORDINARY = "ordinary"
    HOLIDAY = "holiday"  # statutory holiday: closed unless a coordinator opens the room
    MAKEUP_WORKDAY = "makeup"  # weekend day worked in lieu (调休上班)


class Source(Enum):
    STAFF = "staff"
    PACKAGE = "package"
    LAW = "law"  # neither staff nor the package know the year


@dataclass(frozen=True)
class Day:
    kind: DayKind = DayKind.ORDINARY
    name: str = ""


ORDINARY = Day()


def days_between(first, last):
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


@lru_cache(maxsize=256)
def package_knows(year):
    """Whether chinesecalendar has data for `year`."""
    try:
        chinese_calendar.get_holiday_detail(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def package_day(day):
    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    if is_holiday and name:
        return Day(DayKind.HOLIDAY, chinese_calendar.Holiday(name).chinese)
    if not is_holiday and day.weekday() >= 5:
        return Day(DayKind.MAKEUP_WORKDAY)
    return ORDINARY


# The years the lunar and solar-term conversions cover.
CONVERTIBLE_YEARS = range(1901, 2100)


NEW_YEAR = _("元旦")
SPRING_FESTIVAL = _("春节")
QINGMING = _("清明")
LABOUR_DAY = _("劳动节")
DRAGON_BOAT = _("端午节")
MID_AUTUMN = _("中秋节")
NATIONAL_DAY = _("国庆节")


@lru_cache(maxsize=64)
def statutory_days(year):
    """The holidays the regulation itself names for `year`, before any yearly
    notice adds bridging days: {date: name}. Outside the years the conversions
    cover (nobody books there) only the fixed-date ones."""
    named = {datetime.date(year, 1, 1): NEW_YEAR}
    for day in (1, 2):
        named[datetime.date(year, 5, day)] = LABOUR_DAY
    if year in CONVERTIBLE_YEARS:
        spring = _lunar(year, 1, 1)
        for offset in range(-1, 3):  # 除夕 to 初三
            named[spring + datetime.timedelta(days=offset)] = SPRING_FESTIVAL
        qingming = chinese_calendar.get_solar_terms(
            datetime.date(year, 4, 1), datetime.date(year, 4, 10)
        )[0][0]
        named[qingming] = QINGMING
        named[_lunar(year, 5, 5)] = DRAGON_BOAT
        named[_lunar(year, 8, 15)] = MID_AUTUMN
    for day in (1, 2, 3):
        named[datetime.date(year, 10, day)] = NATIONAL_DAY
    return named


def _lunar(year, month, day):
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())


def law_day(day):
    name = statutory_days(day.year).get(day)
    return Day(DayKind.HOLIDAY, name) if name else ORDINARY


class StatutoryCalendar:
    """The statutory calendar for the days from `first` to `last`, with what staff
    entered read in one query."""

    def __init__(self, first, last):
        from .models import HolidayArrangement

        self.first, self.last = first, last
        self.staff_years = set()
        self.staff_days = {}
        rows = HolidayArrangement.objects.filter(
            year__range=(first.year - 1, last.year + 1)
        ).values_list(
            "year", "periods__kind", "periods__name", "periods__starts_on", "periods__ends_on"
        )
        for year, kind, name, starts_on, ends_on in rows:
            self.staff_years.add(year)
            if kind is None:
                continue
            day_kind = DayKind.HOLIDAY if kind == "holiday" else DayKind.MAKEUP_WORKDAY
            for day in days_between(max(starts_on, first), min(ends_on, last)):
                self.staff_days[day] = Day(day_kind, name)

    def source(self, year):
        if year in self.staff_years:
            return Source.STAFF
        if package_knows(year):
            return Source.PACKAGE
        return Source.LAW

    def day(self, day):
        """What `day` is, by the first source that knows its year."""
        if day in self.staff_days:
            return self.staff_days[day]
        source = self.source(day.year)
        if source is Source.STAFF:
            return ORDINARY
        if source is Source.PACKAGE:
            return package_day(day)
        return law_day(day)

    def kind(self, day):
        return self.day(day).kind

    def kinds(self):
        return {day: self.kind(day) for day in days_between(self.first, self.last)}

    def unknown_years(self):
        """The years in range that only the law's fallback covers."""
        return [
            year
            for year in range(self.first.year, self.last.year + 1)
            if self.source(year) is Source.LAW
        ]

    def is_working_day(self, day):
        kind = self.kind(day)
        if kind is DayKind.HOLIDAY:
            return False
        return kind is DayKind.MAKEUP_WORKDAY or day.weekday() < 5


def day_kinds(first, last):
    """{date: DayKind} for every day from `first` to `last`."""
    return StatutoryCalendar(first, last).kinds()


def day_kind(day):
    return StatutoryCalendar(day, day).kind(day)


def unknown_years(first, last):
    return StatutoryCalendar(first, last).unknown_years()


def add_working_days(start, count):
    """The day `count` working days after `start` (a date): the due date of
    something received on `start` with `count` working days to answer it."""
    if count < 0:
        raise ValueError("count must not be negative")
    # Even the longest run of holidays (the Spring Festival week with its
    # weekends) leaves more than half of any month's days working.
    span = datetime.timedelta(days=count * 2 + 31)
    calendar = StatutoryCalendar(start, start + span)
    day, left = start, count
    while left:
        day += ONE_DAY
        if day > calendar.last:
            calendar = StatutoryCalendar(day, day + span)
        if calendar.is_working_day(day):
            left -= 1
    return day

"""How the booking module writes a day, a time or a session: on the Shanghai
clock whatever time zone is active, with Chinese weekday names, and the same way
on every page, text message, email, admin list and export.

Residents read 2026年12月7日 周一 09:00–09:50; texts name only the time (and,
elsewhere, the place and the reference), never the service. Staff lists and
exports use the sortable 2026-12-07 form."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

# The sub-district's clock: rooms open, residents book and staff work by it.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WEEKDAY_NAMES = "一二三四五六日"


def local(instant):
    """An aware instant as Shanghai wall-clock time."""
    return timezone.localtime(instant, LOCAL_TZ)


def at(day, time):
    """The instant of a Shanghai date and wall-clock time."""
    return datetime.datetime.combine(day, time, LOCAL_TZ)


def weekday(day):
    """周一 … 周日."""
    return _("周%(day)s") % {"day": WEEKDAY_NAMES[day.weekday()]}


def day_label(day):
    """12月7日 周一: a day in a list of the coming days."""
    return _("%(month)d月%(day)d日 %(weekday)s") % {
        "month": day.month,
        "day": day.day,
        "weekday": weekday(day),
    }


def full_day_label(day):
    """2026年12月7日 周一."""
    return _("%(year)d年%(month)d月%(day)d日 %(weekday)s") % {
        "year": day.year,
        "month": day.month,
        "day": day.day,
        "weekday": weekday(day),
    }


def clock(instant):
    """09:00."""
    return f"{local(instant):%H:%M}"


def time_range(start, end):
    """09:00–09:50."""
    return f"{clock(start)}–{clock(end)}"


def moment(instant):
    """12月7日 周一 09:00: a time within the booking horizon (a closure's start)."""
    return f"{day_label(local(instant).date())} {clock(instant)}"


def full_moment(instant):
    """2026年12月7日 周一 09:00: when a session starts, in pages and in texts."""
    return f"{full_day_label(local(instant).date())} {clock(instant)}"


def session(start, end):
    """2026年12月7日 周一 09:00–09:50: a booked session."""
    return f"{full_day_label(local(start).date())} {time_range(start, end)}"


def short_moment(instant):
    """12月7日 09:00: for staff, when the weekday does not matter."""
    value = local(instant)
    return _("%(month)d月%(day)d日 %(time)s") % {
        "month": value.month,
        "day": value.day,
        "time": clock(instant),
    }


def staff_session(start, end):
    """2026-12-07 周一 09:00–09:50: the admin's lists, which sort and scan by date."""
    return f"{local(start):%Y-%m-%d} {weekday(local(start))} {time_range(start, end)}"


def staff_moment(instant):
    """2026-12-07 09:00: exports and record names; empty for no time."""
    return f"{local(instant):%Y-%m-%d %H:%M}" if instant else ""


def spreadsheet_time(instant):
    """The Shanghai wall-clock time without a zone, which spreadsheets lack."""
    return local(instant).replace(tzinfo=None) if instant else None

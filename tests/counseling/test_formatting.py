"""Every booking time is written by counseling.formatting: on the Shanghai clock
whatever zone is active, Chinese weekday names, one form per use."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from counseling import booking as service
from counseling import formatting
from counseling.models import Booking, Notification
from counseling.notifications import message_text
from tests.factories import make_weekday_room

UTC = datetime.UTC
# 16:30 on Sunday 6 December in UTC is 00:30 on Monday 7 December in Shanghai.
AFTER_MIDNIGHT = datetime.datetime(2026, 12, 6, 16, 30, tzinfo=UTC)
# A session from 23:30 on Sunday to 00:20 on Monday, Shanghai time.
LATE_START = datetime.datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
LATE_END = datetime.datetime(2026, 12, 6, 16, 20, tzinfo=UTC)


@pytest.fixture(autouse=True)
def another_active_zone():
    """The Shanghai clock holds even when the request's zone is another."""
    with timezone.override("Europe/London"):
        yield


def test_weekdays_are_named_in_chinese_from_monday():
    monday = datetime.date(2026, 12, 7)
    names = [formatting.weekday(monday + datetime.timedelta(days=n)) for n in range(7)]
    assert names == ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


def test_an_instant_after_midnight_in_shanghai_is_written_on_the_shanghai_day():
    assert formatting.clock(AFTER_MIDNIGHT) == "00:30"
    assert formatting.full_moment(AFTER_MIDNIGHT) == "2026年12月7日 周一 00:30"
    assert formatting.moment(AFTER_MIDNIGHT) == "12月7日 周一 00:30"
    assert formatting.short_moment(AFTER_MIDNIGHT) == "12月7日 00:30"
    assert formatting.staff_moment(AFTER_MIDNIGHT) == "2026-12-07 00:30"
    assert formatting.spreadsheet_time(AFTER_MIDNIGHT) == datetime.datetime(2026, 12, 7, 0, 30)


def test_a_session_is_named_by_the_day_it_starts():
    assert formatting.time_range(LATE_START, LATE_END) == "23:30–00:20"
    assert formatting.session(LATE_START, LATE_END) == "2026年12月6日 周日 23:30–00:20"
    assert formatting.staff_session(LATE_START, LATE_END) == "2026-12-06 周日 23:30–00:20"


def test_days_have_no_leading_zeros():
    day = datetime.date(2027, 1, 5)
    assert formatting.day_label(day) == "1月5日 周二"
    assert formatting.full_day_label(day) == "2027年1月5日 周二"
    assert formatting.short_moment(formatting.at(day, datetime.time(9))) == "1月5日 09:00"


def test_no_time_is_written_as_nothing():
    assert formatting.staff_moment(None) == ""
    assert formatting.spreadsheet_time(None) is None


def test_templates_write_times_the_same_way():
    rendered = Template(
        "{% load booking_times %}{{ day|full_day_label }}|{{ at|short_moment }}|"
        "{% time_range start end %}"
    ).render(
        Context(
            {
                "day": datetime.date(2026, 12, 7),
                "at": AFTER_MIDNIGHT,
                "start": LATE_START,
                "end": LATE_END,
            }
        )
    )
    assert rendered == "2026年12月7日 周一|12月7日 00:30|23:30–00:20"


@pytest.mark.django_db
def test_a_text_names_the_time_as_the_booking_pages_do_and_not_the_service():
    room = make_weekday_room(address="崂山区云岭路 18 号")
    starts_at = datetime.datetime(2026, 9, 14, 10, 0, tzinfo=formatting.LOCAL_TZ)
    booking = service.create_booking(
        room=room,
        starts_at=starts_at,
        name="张女士",
        mobile="13800000001",
        visit_type=Booking.VisitType.FIRST,
        now=starts_at - datetime.timedelta(days=1),
    )
    text = message_text(booking.notifications.get(channel=Notification.Channel.SMS))
    assert "2026年9月14日 周一 10:00" in text
    assert not any(word in text for word in ("心理", "咨询", "辅导"))

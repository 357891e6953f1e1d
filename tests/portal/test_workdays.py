"""The statutory calendar staff own (portal.core.workdays): their entries come
first, chinesecalendar next, and a year neither knows still closes the days the
holiday regulation names, with a warning on the admin dashboard."""

import datetime

import chinese_calendar
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from wagtail import hooks

from counseling.availability import Availability
from counseling.models import LOCAL_TZ, HolidayOpening
from portal.core import workdays
from portal.core.groups import COORDINATORS, EDITORS
from portal.core.models import HolidayArrangement, HolidayPeriod
from portal.core.wagtail_hooks import LOOKAHEAD_HOOK, unknown_years_ahead
from portal.core.workdays import DayKind, Source, add_working_days, day_kind, day_kinds
from tests.factories import log_in_verified, make_weekday_room
from tests.strategies import PROPERTY_SETTINGS

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)
# A year chinesecalendar 1.11 has no data for; the law's days are computed.
UNKNOWN = 2031


def arrangement(year, *periods):
    entry = HolidayArrangement.objects.create(year=year, notice=f"{year} 年通知")
    for name, kind, first, last in periods:
        HolidayPeriod.objects.create(
            arrangement=entry, name=name, kind=kind, starts_on=first, ends_on=last
        )
    return entry


HOLIDAY, MAKEUP = HolidayPeriod.Kind.HOLIDAY, HolidayPeriod.Kind.MAKEUP_WORKDAY


@pytest.mark.django_db
class TestSources:
    def test_a_year_nobody_entered_closes_new_years_day_and_the_spring_festival(self):
        # 2027: chinesecalendar 1.11 stops at 2026, and every day used to be ordinary.
        assert day_kind(D(2027, 1, 1)) is DayKind.HOLIDAY
        # 春节 2027 is 6 February: 除夕 (5 February) to 初三 (8 February).
        kinds = day_kinds(D(2027, 2, 4), D(2027, 2, 9))
        assert [kinds[D(2027, 2, day)] for day in range(4, 10)] == [
            DayKind.ORDINARY,
            DayKind.HOLIDAY,
            DayKind.HOLIDAY,
            DayKind.HOLIDAY,
            DayKind.HOLIDAY,
            DayKind.ORDINARY,
        ]

    def test_the_law_names_thirteen_days_with_lunar_festivals_where_they_fall(self):
        assert workdays.statutory_days(2027) == {
            D(2027, 1, 1): "元旦",
            D(2027, 2, 5): "春节",  # 除夕
            D(2027, 2, 6): "春节",  # 正月初一
            D(2027, 2, 7): "春节",
            D(2027, 2, 8): "春节",  # 初三
            D(2027, 4, 5): "清明",
            D(2027, 5, 1): "劳动节",
            D(2027, 5, 2): "劳动节",
            D(2027, 6, 9): "端午节",  # 五月初五
            D(2027, 9, 15): "中秋节",  # 八月十五
            D(2027, 10, 1): "国庆节",
            D(2027, 10, 2): "国庆节",
            D(2027, 10, 3): "国庆节",
        }
        for day in workdays.statutory_days(UNKNOWN):
            assert day_kind(day) is DayKind.HOLIDAY

    def test_a_holiday_only_the_law_knows_carries_its_festivals_name(self):
        # The coordinators' schedule shows the name on the day.
        calendar = workdays.StatutoryCalendar(D(2027, 2, 1), D(2027, 2, 28))
        assert calendar.day(D(2027, 2, 6)) == workdays.Day(DayKind.HOLIDAY, "春节")

    def test_the_package_answers_for_the_years_it_knows(self):
        calendar = workdays.StatutoryCalendar(D(2026, 9, 1), D(2026, 10, 31))
        assert calendar.source(2026) is Source.PACKAGE
        assert calendar.day(D(2026, 10, 1)) == workdays.Day(DayKind.HOLIDAY, "国庆节")
        assert calendar.kind(D(2026, 9, 20)) is DayKind.MAKEUP_WORKDAY
        assert calendar.kind(D(2026, 10, 10)) is DayKind.MAKEUP_WORKDAY  # a Saturday

    def test_staff_entries_take_precedence_over_the_package_for_their_year(self):
        arrangement(2026, ("国庆节", HOLIDAY, D(2026, 10, 2), D(2026, 10, 4)))
        calendar = workdays.StatutoryCalendar(D(2026, 9, 1), D(2026, 10, 31))
        assert calendar.source(2026) is Source.STAFF
        # What staff did not list is an ordinary day, whatever the package says.
        assert calendar.kind(D(2026, 10, 1)) is DayKind.ORDINARY
        assert calendar.kind(D(2026, 9, 20)) is DayKind.ORDINARY
        assert calendar.day(D(2026, 10, 2)) == workdays.Day(DayKind.HOLIDAY, "国庆节")

    def test_staff_enter_a_year_the_package_does_not_know(self):
        arrangement(
            UNKNOWN,
            ("春节", HOLIDAY, D(UNKNOWN, 1, 22), D(UNKNOWN, 1, 29)),
            ("春节", MAKEUP, D(UNKNOWN, 1, 18), D(UNKNOWN, 1, 18)),
        )
        kinds = day_kinds(D(UNKNOWN, 1, 1), D(UNKNOWN, 1, 31))
        assert kinds[D(UNKNOWN, 1, 22)] is DayKind.HOLIDAY
        assert kinds[D(UNKNOWN, 1, 29)] is DayKind.HOLIDAY
        assert kinds[D(UNKNOWN, 1, 18)] is DayKind.MAKEUP_WORKDAY  # a Saturday
        # 元旦 was not entered: staff own the year now, so it is an ordinary day.
        assert kinds[D(UNKNOWN, 1, 1)] is DayKind.ORDINARY
        assert workdays.unknown_years(D(UNKNOWN, 1, 1), D(UNKNOWN, 12, 31)) == []

    def test_a_notice_period_reaching_into_the_previous_year_counts_there_too(self):
        arrangement(UNKNOWN + 1, ("元旦", HOLIDAY, D(UNKNOWN, 12, 30), D(UNKNOWN + 1, 1, 1)))
        assert day_kind(D(UNKNOWN, 12, 30)) is DayKind.HOLIDAY
        assert day_kind(D(UNKNOWN, 12, 31)) is DayKind.HOLIDAY

    def test_a_year_entered_with_nothing_off_leaves_the_year_before_as_entered(self):
        arrangement(UNKNOWN, ("春节", HOLIDAY, D(UNKNOWN, 1, 22), D(UNKNOWN, 1, 29)))
        arrangement(UNKNOWN + 1)
        calendar = workdays.StatutoryCalendar(D(UNKNOWN, 1, 1), D(UNKNOWN + 1, 1, 31))
        assert calendar.kind(D(UNKNOWN, 1, 28)) is DayKind.HOLIDAY  # beyond the law's 初三
        assert calendar.kind(D(UNKNOWN + 1, 1, 1)) is DayKind.ORDINARY

    def test_unknown_years_are_those_only_the_law_covers(self):
        arrangement(UNKNOWN, ("元旦", HOLIDAY, D(UNKNOWN, 1, 1), D(UNKNOWN, 1, 1)))
        unknown = workdays.unknown_years(D(2026, 6, 1), D(UNKNOWN + 1, 2, 1))
        assert 2026 not in unknown
        assert UNKNOWN not in unknown
        assert UNKNOWN + 1 in unknown


@pytest.mark.django_db
class TestWorkingDays:
    def test_counting_skips_weekends_and_holidays_and_counts_makeup_days(self):
        # Friday 18 September 2026, 3 working days: Mon 21, Tue 22, Wed 23. The
        # make-up Sunday 20 September counts as a working day, so Tuesday 22.
        assert add_working_days(D(2026, 9, 18), 3) == D(2026, 9, 22)
        # Across the National Day week: 30 September + 1 working day is Thursday
        # 8 October (1–7 October are holidays).
        assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)

    def test_counting_through_an_unknown_spring_festival_skips_the_laws_days(self):
        # 2027: Thursday 4 February + 2 working days. Friday 5 February is 除夕,
        # Monday 8 is 初三: both closed by the law, so Tuesday 9 and Wednesday 10.
        assert add_working_days(D(2027, 2, 4), 2) == D(2027, 2, 10)

    def test_a_plain_weekend_is_skipped(self):
        assert add_working_days(D(2026, 9, 11), 1) == D(2026, 9, 14)  # Friday to Monday

    def test_the_spring_festival_2026_and_its_two_saturdays_worked_in_lieu(self):
        # 15–23 February off; Saturdays 14 and 28 February are working days.
        friday = D(2026, 2, 13)
        assert [add_working_days(friday, count) for count in range(1, 8)] == [
            D(2026, 2, 14),
            D(2026, 2, 24),
            D(2026, 2, 25),
            D(2026, 2, 26),
            D(2026, 2, 27),
            D(2026, 2, 28),
            D(2026, 3, 2),
        ]

    def test_the_saturday_worked_after_the_national_day_week_counts(self):
        # 30 September + 3: Thursday 8, Friday 9 and Saturday 10 October.
        assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)

    def test_staff_entries_decide_the_due_date_over_the_package(self):
        arrangement(2026, ("国庆节", HOLIDAY, D(2026, 10, 1), D(2026, 10, 3)))
        # Only 1–3 October off: Sunday 4 October is an ordinary weekend day.
        assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 5)

    def test_a_saturday_staff_enter_as_worked_counts_in_a_year_the_package_lacks(self):
        arrangement(2027, ("春节", MAKEUP, D(2027, 1, 30), D(2027, 1, 30)))
        assert add_working_days(D(2027, 1, 29), 1) == D(2027, 1, 30)

    def test_counting_zero_days_is_the_same_day(self):
        assert add_working_days(D(2026, 9, 18), 0) == D(2026, 9, 18)

    def test_a_negative_count_is_refused(self):
        with pytest.raises(ValueError, match="must not be negative"):
            add_working_days(D(2026, 9, 18), -1)

    def test_a_due_date_reads_the_staff_entries_once(self, django_assert_num_queries):
        # From the first working week of 2026 through the Spring Festival.
        for count in (5, 20, 60):
            with django_assert_num_queries(1):
                add_working_days(D(2026, 1, 5), count)

    def test_counting_goes_on_past_a_stretch_longer_than_it_first_reads(self):
        # Six weeks entered as off leave no working day in the 33 days read
        # first for one or two working days.
        arrangement(
            UNKNOWN,
            ("停工", HOLIDAY, D(UNKNOWN, 1, 1), D(UNKNOWN, 1, 15)),
            ("停工", HOLIDAY, D(UNKNOWN, 1, 16), D(UNKNOWN, 1, 30)),
            ("停工", HOLIDAY, D(UNKNOWN, 1, 31), D(UNKNOWN, 2, 14)),
        )
        start = D(UNKNOWN - 1, 12, 31)
        assert add_working_days(start, 1) == D(UNKNOWN, 2, 17)  # the Monday after
        assert add_working_days(start, 2) == D(UNKNOWN, 2, 18)

    def test_counting_far_ahead_reaches_the_next_year(self):
        start = D(2026, 1, 5)
        later = add_working_days(start, 400)
        assert later.year == 2027
        assert workdays.StatutoryCalendar(later, later).is_working_day(later)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(start=st.dates(D(2026, 1, 1), D(2026, 10, 31)), count=st.integers(1, 40))
def test_due_dates_agree_with_chinesecalendar_in_a_year_it_knows(start, count):
    due = add_working_days(start, count)
    assert chinese_calendar.is_workday(due)
    assert len(chinese_calendar.get_workdays(start + ONE_DAY, due)) == count


# 正月初一 as published, across the leap months of 2028, 2031 and 2033.
@pytest.mark.parametrize(
    "new_year",
    [
        D(2027, 2, 6),
        D(2028, 1, 26),
        D(2029, 2, 13),
        D(2030, 2, 3),
        D(2031, 1, 23),
        D(2032, 2, 11),
        D(2033, 1, 31),
        D(2034, 2, 19),
        D(2035, 2, 8),
        D(2036, 1, 28),
    ],
)
def test_the_laws_spring_festival_runs_from_chuxi_to_chusan(new_year):
    named = workdays.statutory_days(new_year.year)
    festival = sorted(day for day, name in named.items() if name == "春节")
    assert festival == [new_year + offset * ONE_DAY for offset in (-1, 0, 1, 2)]


# 五月初五 as published; 2028 has a leap fifth month after it.
@pytest.mark.parametrize(
    "dragon_boat", [D(2028, 5, 28), D(2029, 6, 16), D(2030, 6, 5), D(2033, 6, 1)]
)
def test_the_laws_dragon_boat_day(dragon_boat):
    named = workdays.statutory_days(dragon_boat.year)
    assert [day for day, name in named.items() if name == "端午节"] == [dragon_boat]


# 八月十五 as published.
@pytest.mark.parametrize(
    "mid_autumn", [D(2029, 9, 22), D(2030, 9, 12), D(2033, 9, 8), D(2035, 9, 16)]
)
def test_the_laws_mid_autumn_day(mid_autumn):
    named = workdays.statutory_days(mid_autumn.year)
    assert [day for day, name in named.items() if name == "中秋节"] == [mid_autumn]


@pytest.mark.django_db
class TestBooking:
    """The calendar decides which days residents can book."""

    def room(self, horizon_days=30):
        room = make_weekday_room(
            "新年咨询室",
            weekdays="MO,TU,WE,TH,FR,SA,SU",
            hours=(9, 17),
            starts_on=D(2026, 12, 1),
        )
        room.horizon_days = horizon_days
        room.save()
        return room

    def days(self, room, now):
        return Availability([room], now).days(room)

    def test_new_years_day_2027_is_not_bookable_by_default(self):
        room = self.room(horizon_days=14)
        now = datetime.datetime(2026, 12, 20, 9, 0, tzinfo=LOCAL_TZ)
        days = self.days(room, now)
        assert D(2026, 12, 31) in days
        assert D(2027, 1, 1) not in days
        assert D(2027, 1, 2) in days  # the law names 1 January only

    def test_a_coordinator_can_still_open_the_room_on_such_a_day(self):
        room = self.room(horizon_days=14)
        HolidayOpening.objects.create(room=room, date=D(2027, 1, 1))
        now = datetime.datetime(2026, 12, 20, 9, 0, tzinfo=LOCAL_TZ)
        assert D(2027, 1, 1) in self.days(room, now)

    def test_the_spring_festival_2027_is_closed_from_chuxi_to_chusan(self):
        room = self.room(horizon_days=30)
        now = datetime.datetime(2027, 1, 20, 9, 0, tzinfo=LOCAL_TZ)
        days = self.days(room, now)
        closed = [D(2027, 2, day) for day in (5, 6, 7, 8)]
        assert not set(closed) & set(days)
        assert D(2027, 2, 4) in days and D(2027, 2, 9) in days

    def test_entered_holidays_and_makeup_days_shape_the_bookable_days(self):
        room = make_weekday_room(
            "工作日咨询室", weekdays="MO,TU,WE,TH,FR", hours=(9, 17), starts_on=D(2026, 12, 1)
        )
        room.horizon_days = 30
        room.save()
        arrangement(
            2027,
            ("元旦", HOLIDAY, D(2027, 1, 1), D(2027, 1, 3)),
            ("春节", HOLIDAY, D(2027, 2, 5), D(2027, 2, 12)),
            ("春节", MAKEUP, D(2027, 1, 30), D(2027, 1, 30)),
        )
        now = datetime.datetime(2027, 1, 20, 9, 0, tzinfo=LOCAL_TZ)
        days = self.days(room, now)
        assert D(2027, 1, 30) in days  # a Saturday worked in lieu: Friday's timetable
        assert D(2027, 2, 11) not in days  # a Thursday inside the entered break
        assert D(2027, 2, 15) in days


@pytest.mark.django_db
class TestAdmin:
    def coordinator(self, django_user_model, client):
        user = django_user_model.objects.create_user("xietiao", password="x" * 16)
        user.groups.add(Group.objects.get(name=COORDINATORS))
        log_in_verified(client, user)
        return user

    def test_the_booking_horizon_is_what_the_calendar_must_know(self):
        room = make_weekday_room("远期咨询室", weekdays="MO", hours=(9, 12))
        room.horizon_days = 90
        room.save()
        today = D(2026, 12, 1)
        assert max(fn(today) for fn in hooks.get_hooks(LOOKAHEAD_HOOK)) == D(2027, 3, 1)
        years, reached = unknown_years_ahead(today)
        if workdays.package_knows(2027):
            pytest.skip("chinesecalendar now knows 2027")
        assert years == [2027]
        assert reached

    def test_the_dashboard_warns_coordinators_until_the_year_is_entered(
        self, client, django_user_model
    ):
        self.coordinator(django_user_model, client)
        with hooks.register_temporarily(LOOKAHEAD_HOOK, lambda today: D(2040, 6, 1)):
            response = client.get(reverse("wagtailadmin_home"))
            assert response.status_code == 200
            page = response.content.decode()
            assert "年的法定节假日和调休安排还没有录入" in page
            assert "2040" in page
            assert "居民已经可以预约到这一年的日期" in page
            for year in workdays.unknown_years(D.today(), D(2040, 7, 1)):
                arrangement(year, ("元旦", HOLIDAY, D(year, 1, 1), D(year, 1, 1)))
            page = client.get(reverse("wagtailadmin_home")).content.decode()
            assert "年的法定节假日和调休安排还没有录入" not in page

    def test_editors_do_not_get_the_warning(self, client, django_user_model):
        editor = django_user_model.objects.create_user("bianji2", password="x" * 16)
        editor.groups.add(Group.objects.get(name=EDITORS))
        log_in_verified(client, editor)
        with hooks.register_temporarily(LOOKAHEAD_HOOK, lambda today: D(2040, 6, 1)):
            page = client.get(reverse("wagtailadmin_home")).content.decode()
        assert "年的法定节假日和调休安排还没有录入" not in page

    def test_a_coordinator_enters_a_year_in_the_admin(self, client, django_user_model):
        self.coordinator(django_user_model, client)
        response = client.post(
            reverse("holiday_arrangements:add"),
            {
                "year": "2027",
                "notice": "国务院办公厅关于2027年部分节假日安排的通知",
                "periods-TOTAL_FORMS": "2",
                "periods-INITIAL_FORMS": "0",
                "periods-MIN_NUM_FORMS": "1",
                "periods-MAX_NUM_FORMS": "1000",
                "periods-0-name": "元旦",
                "periods-0-kind": "holiday",
                "periods-0-starts_on": "2027-01-01",
                "periods-0-ends_on": "2027-01-03",
                "periods-0-ORDER": "1",
                "periods-1-name": "春节",
                "periods-1-kind": "makeup",
                "periods-1-starts_on": "2027-01-30",
                "periods-1-ends_on": "2027-01-30",
                "periods-1-ORDER": "2",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert day_kind(D(2027, 1, 3)) is DayKind.HOLIDAY
        assert day_kind(D(2027, 1, 30)) is DayKind.MAKEUP_WORKDAY

    @pytest.mark.parametrize(
        "kind, first, last, message",
        [
            ("makeup", "2027-02-01", "2027-02-01", "调休上班日应是周六或周日"),
            ("holiday", "2028-02-01", "2028-02-03", "日期要在 2027 年内"),
            ("holiday", "2027-02-03", "2027-02-01", "最后一天不能早于第一天"),
            ("holiday", "2027-02-01", "2027-03-01", "一段日期最长 15 天"),
        ],
    )
    def test_a_wrong_period_is_refused_in_chinese_and_nothing_is_saved(
        self, client, django_user_model, kind, first, last, message
    ):
        self.coordinator(django_user_model, client)
        response = client.post(
            reverse("holiday_arrangements:add"),
            {
                "year": "2027",
                "notice": "",
                "periods-TOTAL_FORMS": "1",
                "periods-INITIAL_FORMS": "0",
                "periods-MIN_NUM_FORMS": "1",
                "periods-MAX_NUM_FORMS": "1000",
                "periods-0-name": "春节",
                "periods-0-kind": kind,
                "periods-0-starts_on": first,
                "periods-0-ends_on": last,
                "periods-0-ORDER": "1",
            },
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not HolidayArrangement.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("day", [D(1, 1, 1), D(1899, 6, 1), D(2100, 2, 1), D(9999, 12, 31)])
def test_days_far_outside_any_calendar_still_have_a_kind(day):
    assert day_kind(day) in (DayKind.ORDINARY, DayKind.HOLIDAY)
    assert day_kind(D(day.year, 1, 1)) is DayKind.HOLIDAY

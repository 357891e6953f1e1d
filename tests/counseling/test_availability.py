"""Free slots: the pure computation on plain values, then the loader on real
django-scheduler events, holidays from chinesecalendar and bookings."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schedule.models import Rule

from counseling import booking as service
from counseling.availability import (
    Availability,
    DayKind,
    Interval,
    Refusal,
    RoomInputs,
    RoomRules,
    apply_calendar,
    assess,
    day_kind,
    explain,
    free_slots,
    listed_rooms,
    staffed_intervals,
)
from counseling.models import (
    LOCAL_TZ,
    Booking,
    Closure,
    Counsellor,
    DutyShift,
    HolidayOpening,
    OpeningHours,
    Room,
    TimetableVersion,
)
from portal.core.models import HolidayArrangement, HolidayPeriod
from tests.strategies import PROPERTY_SETTINGS

MONDAY = datetime.date(2026, 9, 14)
NOW = datetime.datetime(2026, 9, 14, 7, 0, tzinfo=LOCAL_TZ)
MAKEUP_SUNDAY = datetime.date(2026, 9, 20)  # 调休上班 before the National Day week
NATIONAL_DAY = datetime.date(2026, 10, 1)
MID_AUTUMN = datetime.date(2026, 9, 25)  # a Friday
SINCE = datetime.date(2026, 1, 1)
ONE_WEEK = datetime.timedelta(days=7)


def at(day, hhmm):
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), LOCAL_TZ)


def band(day, start, end, tag=None):
    return Interval(at(day, start), at(day, end), tag)


def starts(slots):
    return [slot.start.astimezone(LOCAL_TZ).strftime("%H:%M") for slot in slots]


def pure(rules, *, opening, duty=None, closures=(), bookings=(), kinds=None, now=NOW, **extra):
    inputs = RoomInputs(
        opening=opening,
        duty=opening if duty is None else duty,
        closures=list(closures),
        bookings=list(bookings),
        kinds=kinds or {},
        **extra,
    )
    return free_slots(rules, inputs, now=now)


RULES = RoomRules(room_id=1)


class TestPureComputation:
    def test_a_band_is_cut_into_sessions_a_buffer_apart(self):
        slots = pure(RULES, opening=[band(MONDAY, "09:00", "12:00")])
        assert starts(slots) == ["09:00", "10:00", "11:00"]
        assert slots[0].end - slots[0].start == datetime.timedelta(minutes=50)

    def test_lunch_break_between_two_bands_is_never_offered(self):
        opening = [band(MONDAY, "09:00", "12:00"), band(MONDAY, "14:00", "17:30")]
        slots = pure(RULES, opening=opening)
        assert starts(slots) == ["09:00", "10:00", "11:00", "14:00", "15:00", "16:00"]

    def test_only_hours_with_a_counsellor_on_duty_are_offered(self):
        slots = pure(
            RULES,
            opening=[band(MONDAY, "09:00", "17:30")],
            duty=[band(MONDAY, "10:00", "12:00", tag=7)],
        )
        assert starts(slots) == ["10:00", "11:00"]
        assert {slot.counsellor_id for slot in slots} == {7}

    def test_duty_outside_opening_hours_offers_nothing(self):
        slots = pure(
            RULES, opening=[band(MONDAY, "09:00", "12:00")], duty=[band(MONDAY, "14:00", "17:00")]
        )
        assert slots == []

    def test_overlapping_shifts_still_give_one_session_at_a_time(self):
        pieces = staffed_intervals(
            [band(MONDAY, "09:00", "12:00")],
            [band(MONDAY, "09:00", "11:00", tag=1), band(MONDAY, "10:00", "12:00", tag=2)],
        )
        assert pieces == [band(MONDAY, "09:00", "11:00"), band(MONDAY, "11:00", "12:00")]
        assert [piece.tag for piece in pieces] == [1, 2]

    def test_a_booking_blocks_its_slot_and_the_buffer_around_it(self):
        opening = [band(MONDAY, "09:00", "12:00")]
        # Placed off the grid (as staff may do): the 10-minute buffer on either
        # side reaches both neighbouring sessions.
        booked = [band(MONDAY, "10:30", "11:20")]
        assert starts(pure(RULES, opening=opening, bookings=booked)) == ["09:00"]
        wider = RoomRules(room_id=1, buffer=datetime.timedelta(minutes=40))
        # With a 40-minute buffer the grid is 90 minutes: 09:00, 10:30.
        assert starts(pure(wider, opening=[band(MONDAY, "09:00", "12:00")])) == ["09:00", "10:30"]
        assert starts(pure(wider, opening=opening, bookings=[band(MONDAY, "10:00", "10:50")])) == []

    def test_slots_inside_the_minimum_notice_are_not_offered(self):
        now = at(MONDAY, "08:00")
        slots = pure(RULES, opening=[band(MONDAY, "09:00", "12:00")], now=now)
        assert starts(slots) == ["10:00", "11:00"]  # 09:00 is only an hour away

    def test_days_beyond_the_horizon_are_not_offered(self):
        rules = RoomRules(room_id=1, horizon_days=2)
        days = [MONDAY + datetime.timedelta(days=n) for n in range(5)]
        slots = pure(rules, opening=[band(day, "09:00", "10:00") for day in days])
        assert sorted({slot.day for slot in slots}) == days[:3]

    def test_a_day_at_its_cap_offers_nothing_while_other_days_stay_open(self):
        rules = RoomRules(room_id=1, daily_cap=1)
        tuesday = MONDAY + datetime.timedelta(days=1)
        opening = [band(MONDAY, "09:00", "12:00"), band(tuesday, "09:00", "12:00")]
        slots = pure(rules, opening=opening, bookings=[band(MONDAY, "09:00", "09:50")])
        assert {slot.day for slot in slots} == {tuesday}

    def test_closures_remove_the_slots_they_touch(self):
        opening = [band(MONDAY, "09:00", "12:00")]
        slots = pure(RULES, opening=opening, closures=[band(MONDAY, "10:30", "11:00")])
        assert starts(slots) == ["09:00", "11:00"]

    def test_a_closure_that_starts_as_a_session_ends_leaves_it_offered(self):
        opening = [band(MONDAY, "09:00", "12:00")]
        # 09:00–09:50 ends as the closure starts; 10:00 starts as it ends.
        slots = pure(RULES, opening=opening, closures=[band(MONDAY, "09:50", "10:00")])
        assert starts(slots) == ["09:00", "10:00", "11:00"]

    def test_a_shift_that_only_touches_the_opening_hours_staffs_nothing(self):
        opening = [band(MONDAY, "09:00", "12:00")]
        assert staffed_intervals(opening, [band(MONDAY, "12:00", "14:00", tag=1)]) == []
        assert staffed_intervals(opening, [band(MONDAY, "07:00", "09:00", tag=1)]) == []

    def test_bands_that_touch_are_one_band(self):
        opening = [band(MONDAY, "09:00", "10:30"), band(MONDAY, "10:30", "12:00")]
        slots = pure(RULES, opening=opening, duty=[band(MONDAY, "09:00", "12:00", tag=1)])
        assert starts(slots) == ["09:00", "10:00", "11:00"]

    def test_a_short_shift_inside_a_longer_one_hides_no_later_shift(self):
        duty = [
            band(MONDAY, "09:00", "12:00", tag=1),
            band(MONDAY, "10:00", "11:00", tag=2),
            band(MONDAY, "14:00", "16:00", tag=3),
        ]
        slots = pure(RULES, opening=[band(MONDAY, "09:00", "17:00")], duty=duty)
        assert starts(slots) == ["09:00", "10:00", "11:00", "14:00", "15:00"]
        assert [slot.counsellor_id for slot in slots] == [1, 1, 1, 3, 3]

    def test_slots_carry_their_room(self):
        rules = RoomRules(room_id=42)
        assert {slot.room_id for slot in pure(rules, opening=[band(MONDAY, "09:00", "12:00")])} == {
            42
        }

    def test_days_are_shanghai_days_even_when_utc_is_still_on_yesterday(self):
        # 07:00 in Shanghai is 23:00 UTC the day before: the horizon, the days
        # offered and the day a start is explained on all count Shanghai days.
        rules = RoomRules(room_id=1, horizon_days=1, min_notice=datetime.timedelta(0))
        tuesday = MONDAY + datetime.timedelta(days=1)
        bands = [band(MONDAY, "07:00", "08:00"), band(tuesday, "07:00", "08:00")]
        inputs = RoomInputs(opening=bands, duty=bands)
        offered = free_slots(rules, inputs, now=NOW)
        assert [(slot.day, starts([slot])[0]) for slot in offered] == [
            (MONDAY, "07:00"),
            (tuesday, "07:00"),
        ]
        assert explain(rules, inputs, at(tuesday, "07:00"), now=NOW) is None
        assert explain(rules, inputs, at(tuesday, "08:00"), now=NOW) is Refusal.NOT_A_SLOT

    @pytest.mark.parametrize("server_zone", ["UTC", "Pacific/Kiritimati"])
    def test_days_are_shanghai_days_whatever_zone_the_server_runs_in(self, settings, server_zone):
        # On a Shanghai morning UTC is still on the day before; on a Shanghai
        # evening Kiritimati (UTC+14) is already on the day after.
        settings.TIME_ZONE = server_zone
        rules = RoomRules(room_id=1, horizon_days=1, min_notice=datetime.timedelta(0))
        tuesday, wednesday = (MONDAY + datetime.timedelta(days=n) for n in (1, 2))
        bands = [
            band(MONDAY, "07:00", "08:00"),
            band(MONDAY, "19:00", "20:00"),
            band(tuesday, "07:00", "08:00"),
            band(wednesday, "07:00", "08:00"),
        ]
        inputs = RoomInputs(opening=bands, duty=bands)

        def offered(now):
            return [(slot.day, starts([slot])[0]) for slot in free_slots(rules, inputs, now=now)]

        morning, evening = at(MONDAY, "06:00"), at(MONDAY, "18:30")
        assert offered(morning) == [(MONDAY, "07:00"), (MONDAY, "19:00"), (tuesday, "07:00")]
        assert offered(evening) == [(MONDAY, "19:00"), (tuesday, "07:00")]
        assert explain(rules, inputs, at(tuesday, "07:00"), now=evening) is None
        assert explain(rules, inputs, at(wednesday, "07:00"), now=evening) is Refusal.TOO_FAR

    def test_explain_names_each_reason(self):
        opening = [band(MONDAY, "09:00", "12:00")]
        rules = RoomRules(room_id=1, horizon_days=3, daily_cap=2)
        tuesday = MONDAY + datetime.timedelta(days=1)
        bands = opening + [band(tuesday, "09:00", "12:00")]
        bookings = [band(MONDAY, "10:00", "10:50")]
        inputs = RoomInputs(opening=bands, duty=bands, bookings=bookings)
        now = at(MONDAY, "08:00")
        assert explain(rules, inputs, at(MONDAY, "09:00"), now=now) is Refusal.TOO_SOON
        assert explain(rules, inputs, at(MONDAY, "11:00"), now=now) is None
        assert explain(rules, inputs, at(MONDAY, "10:00"), now=now) is Refusal.TAKEN
        assert explain(rules, inputs, at(MONDAY, "10:30"), now=now) is Refusal.NOT_A_SLOT
        wednesday = MONDAY + datetime.timedelta(days=2)
        assert explain(rules, inputs, at(wednesday, "10:00"), now=now) is Refusal.CLOSED
        assert explain(
            rules, inputs, at(MONDAY + datetime.timedelta(days=5), "10:00"), now=now
        ) is (Refusal.TOO_FAR)
        full = bookings + [band(tuesday, "09:00", "09:50"), band(tuesday, "10:00", "10:50")]
        inputs = RoomInputs(opening=bands, duty=bands, bookings=full)
        assert explain(rules, inputs, at(tuesday, "11:00"), now=now) is Refusal.DAY_FULL


class TestChineseCalendar:
    @pytest.mark.django_db
    def test_day_kinds_come_from_chinesecalendar(self):
        assert day_kind(NATIONAL_DAY) is DayKind.HOLIDAY
        assert day_kind(MAKEUP_SUNDAY) is DayKind.MAKEUP_WORKDAY
        assert day_kind(MID_AUTUMN) is DayKind.HOLIDAY
        assert day_kind(MONDAY) is DayKind.ORDINARY
        assert day_kind(datetime.date(2026, 9, 19)) is DayKind.ORDINARY  # a plain Saturday

    def test_a_holiday_closes_unless_the_room_is_opened(self):
        intervals = [band(NATIONAL_DAY, "09:00", "12:00")]
        kinds = {NATIONAL_DAY: DayKind.HOLIDAY}
        assert apply_calendar(intervals, NATIONAL_DAY, NATIONAL_DAY, kinds) == []
        opened = apply_calendar(intervals, NATIONAL_DAY, NATIONAL_DAY, kinds, {NATIONAL_DAY})
        assert opened == intervals

    def test_a_makeup_saturday_keeps_fridays_timetable(self):
        saturday = datetime.date(2026, 10, 10)
        friday = saturday - datetime.timedelta(days=1)
        intervals = [band(friday, "09:00", "11:00"), band(saturday + ONE_WEEK, "09:00", "10:00")]
        kinds = {saturday: DayKind.MAKEUP_WORKDAY}
        kept = apply_calendar(intervals, saturday, saturday, kinds)
        assert kept == [band(saturday, "09:00", "11:00")]

    def test_a_makeup_sunday_keeps_mondays_timetable(self):
        following_monday = MAKEUP_SUNDAY + datetime.timedelta(days=1)
        intervals = [band(following_monday, "14:00", "17:00")]
        kinds = {MAKEUP_SUNDAY: DayKind.MAKEUP_WORKDAY}
        kept = apply_calendar(intervals, MAKEUP_SUNDAY, following_monday, kinds)
        assert band(MAKEUP_SUNDAY, "14:00", "17:00") in kept
        assert intervals[0] in kept


# Through the loader: real rooms, events and rules in the database.


def make_room(name="测试咨询室", **rules):
    return Room.objects.create(name=name, address="测试路 1 号", **rules)


def open_room(room, weekdays, *bands, counsellor=None, starts_on=SINCE, ends_on=None):
    """Opening hours and a counsellor on duty for the same bands."""
    counsellor = counsellor or Counsellor.objects.create(name=f"咨询师{room.pk}")
    for start, end in bands:
        times = {
            "weekdays": weekdays,
            "start_time": datetime.time.fromisoformat(start),
            "end_time": datetime.time.fromisoformat(end),
            "starts_on": starts_on,
            "ends_on": ends_on,
        }
        OpeningHours.objects.create(room=room, **times)
        DutyShift.objects.create(room=room, counsellor=counsellor, **times)
    return counsellor


def days_with_slots(room, now=NOW):
    return Availability([room], now).days(room)


@pytest.mark.django_db
class TestLoader:
    def test_a_band_on_several_weekdays_gives_slots_on_each_of_them(self):
        room = make_room()
        open_room(room, "MO,WE,FR", ("09:00", "12:00"))
        days = days_with_slots(room)
        assert days[:3] == [MONDAY, MONDAY.replace(day=16), MONDAY.replace(day=18)]
        # Every Monday, Wednesday and Friday within the horizon but the
        # Mid-Autumn holiday, plus the make-up Sunday on Monday's timetable.
        expected = {
            MONDAY + datetime.timedelta(days=n) for n in range(15) if n % 7 in (0, 2, 4)
        } - {MID_AUTUMN} | {MAKEUP_SUNDAY}
        assert set(days) == expected

    def test_lunch_break_and_duty_within_opening_hours(self):
        room = make_room()
        OpeningHours.objects.create(
            room=room, weekdays="TU", start_time=datetime.time(9), end_time=datetime.time(12),
            starts_on=SINCE,
        )  # fmt: skip
        OpeningHours.objects.create(
            room=room, weekdays="TU", start_time=datetime.time(14), end_time=datetime.time(17, 30),
            starts_on=SINCE,
        )  # fmt: skip
        counsellor = Counsellor.objects.create(name="值班咨询师")
        DutyShift.objects.create(
            room=room, counsellor=counsellor, weekdays="TU", start_time=datetime.time(10),
            end_time=datetime.time(16), starts_on=SINCE,
        )  # fmt: skip
        tuesday = MONDAY + datetime.timedelta(days=1)
        slots = Availability([room], NOW).slots_on(room, tuesday)
        assert starts(slots) == ["10:00", "11:00", "14:00", "15:00"]
        assert {slot.counsellor_id for slot in slots} == {counsellor.pk}

    def test_slots_are_in_shanghai_time(self):
        room = make_room()
        open_room(room, "MO", ("09:00", "10:00"))
        slot = Availability([room], NOW).slots_on(room, MONDAY)[0]
        assert slot.start == datetime.datetime(2026, 9, 14, 1, 0, tzinfo=datetime.UTC)

    def test_a_morning_and_an_afternoon_counsellor_both_offer_their_hours(self):
        room = make_room()
        morning = open_room(
            room, "MO", ("09:00", "11:00"), counsellor=Counsellor.objects.create(name="上午咨询师")
        )
        afternoon = open_room(
            room, "MO", ("14:00", "16:00"), counsellor=Counsellor.objects.create(name="下午咨询师")
        )
        slots = Availability([room], NOW).slots_on(room, MONDAY)
        assert [(starts([slot])[0], slot.counsellor_id) for slot in slots] == [
            ("09:00", morning.pk),
            ("10:00", morning.pk),
            ("14:00", afternoon.pk),
            ("15:00", afternoon.pk),
        ]

    def test_an_evening_session_is_offered_when_the_servers_zone_is_already_on_tomorrow(
        self, settings
    ):
        settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: 18:30 in Shanghai is 00:30 there
        room = make_room(min_notice_hours=0, horizon_days=1)
        open_room(room, "MO", ("19:00", "20:00"))
        availability = Availability([room], at(MONDAY, "18:30"))
        assert starts(availability.slots_on(room, MONDAY)) == ["19:00"]

    def test_the_coordinators_schedule_loads_the_days_it_asks_for(self):
        room = make_room(horizon_days=7)
        open_room(room, "MO", ("09:00", "12:00"))
        later = MONDAY + 5 * ONE_WEEK  # beyond the horizon
        availability = Availability([room], NOW, between=(later, later + ONE_WEEK))
        opening, _duty = availability.timetable(room, later)
        assert [(o.start, o.end) for o in opening] == [(at(later, "09:00"), at(later, "12:00"))]

    def test_the_next_free_day_is_that_of_the_earliest_free_time(self):
        room = make_room()
        open_room(room, "MO,TU", ("09:00", "10:00"))  # one session a day
        assert Availability([room], NOW).next_free_day(room) == MONDAY

    def test_day_kinds_follow_staff_entries_without_a_query_for_the_loaded_days(
        self, django_assert_num_queries
    ):
        entry = HolidayArrangement.objects.create(year=2027)
        HolidayPeriod.objects.create(
            arrangement=entry,
            name="春节",
            kind=HolidayPeriod.Kind.HOLIDAY,
            starts_on=datetime.date(2027, 2, 5),
            ends_on=datetime.date(2027, 2, 12),
        )
        room = make_room()
        availability = Availability([room], NOW)
        with django_assert_num_queries(0):
            kinds = {day: availability.day_kind(day) for day in (MONDAY, MAKEUP_SUNDAY)}
        assert kinds == {MONDAY: DayKind.ORDINARY, MAKEUP_SUNDAY: DayKind.MAKEUP_WORKDAY}
        # Beyond the loaded days: a Thursday only the staff entry closes.
        assert availability.day_kind(datetime.date(2027, 2, 11)) is DayKind.HOLIDAY

    def test_a_site_without_rooms_yet_has_no_free_times_and_no_error(self):
        assert Availability.shown([], NOW).rooms == {}
        assert Availability([], NOW).day_kind(NATIONAL_DAY) is DayKind.HOLIDAY

    def test_duty_shifts_end_on_their_last_day(self):
        room = make_room()
        open_room(room, "MO,TU,WE,TH,FR", ("09:00", "12:00"), ends_on=MONDAY.replace(day=16))
        assert days_with_slots(room) == [MONDAY, MONDAY.replace(day=15), MONDAY.replace(day=16)]

    def test_national_day_is_closed_unless_a_coordinator_opens_the_room(self):
        room = make_room()
        open_room(room, "MO,TU,WE,TH,FR,SA,SU", ("09:00", "12:00"))
        now = datetime.datetime(2026, 9, 28, 7, 0, tzinfo=LOCAL_TZ)
        assert NATIONAL_DAY not in days_with_slots(room, now)
        assert Availability([room], now).explain(room, at(NATIONAL_DAY, "09:00")) is (
            Refusal.CLOSED
        )
        HolidayOpening.objects.create(room=room, date=NATIONAL_DAY, note="值班开放")
        assert NATIONAL_DAY in days_with_slots(room, now)
        assert datetime.date(2026, 10, 2) not in days_with_slots(room, now)

    def test_a_holiday_a_coordinator_opened_can_be_booked(self):
        room = make_room()
        open_room(room, "MO,TU,WE,TH,FR,SA,SU", ("09:00", "12:00"))
        now = datetime.datetime(2026, 9, 28, 7, 0, tzinfo=LOCAL_TZ)
        HolidayOpening.objects.create(room=room, date=NATIONAL_DAY, note="值班开放")
        assert Availability([room], now).explain(room, at(NATIONAL_DAY, "09:00")) is None

    def test_the_counsellor_on_a_makeup_workday_is_the_stand_in_days(self):
        room = make_room()
        counsellor = open_room(room, "MO", ("14:00", "16:00"))
        slots = Availability([room], NOW).slots_on(room, MAKEUP_SUNDAY)
        assert {slot.counsellor_id for slot in slots} == {counsellor.pk}

    def test_a_rooms_own_session_length_and_buffer_cut_its_slots(self):
        room = make_room(session_minutes=30, buffer_minutes=0)
        open_room(room, "MO", ("09:00", "10:30"))
        assert starts(Availability([room], NOW).slots_on(room, MONDAY)) == [
            "09:00",
            "09:30",
            "10:00",
        ]

    def test_a_makeup_workday_follows_its_stand_in_weekdays_timetable(self):
        room = make_room()
        open_room(room, "MO", ("14:00", "16:00"))
        slots = Availability([room], NOW).slots_on(room, MAKEUP_SUNDAY)
        assert starts(slots) == ["14:00", "15:00"]
        assert MAKEUP_SUNDAY + datetime.timedelta(days=1) in days_with_slots(room)

    def test_closure_of_one_room_and_of_all_rooms(self):
        first, second = make_room("一号室"), make_room("二号室")
        for room in (first, second):
            open_room(room, "MO,TU", ("09:00", "12:00"))
        tuesday = MONDAY + datetime.timedelta(days=1)
        Closure.objects.create(
            room=first, starts_at=at(MONDAY, "00:00"), ends_at=at(tuesday, "00:00"), reason="检修"
        )
        availability = Availability([first, second], NOW)
        assert MONDAY not in availability.days(first)
        assert MONDAY in availability.days(second)
        Closure.objects.create(
            starts_at=at(tuesday, "10:00"), ends_at=at(tuesday, "11:00"), reason="全员培训"
        )
        availability = Availability([first, second], NOW)
        assert starts(availability.slots_on(first, tuesday)) == ["09:00", "11:00"]
        assert starts(availability.slots_on(second, tuesday)) == ["09:00", "11:00"]

    def test_a_cancelled_occurrence_removes_that_days_band(self):
        room = make_room()
        open_room(room, "MO,TU", ("09:00", "12:00"))
        event = room.opening_bands.get().event
        event.get_occurrence(at(MONDAY, "09:00")).cancel()
        assert MONDAY not in days_with_slots(room)
        assert MONDAY + datetime.timedelta(days=1) in days_with_slots(room)

    def test_changes_to_the_schedule_show_at_once_in_the_same_process(self):
        """Expanded rules are kept in the process; every change must still show."""
        room = make_room()
        open_room(room, "MO,TU", ("09:00", "12:00"))
        assert starts(Availability([room], NOW).slots_on(room, MONDAY)) == [
            "09:00",
            "10:00",
            "11:00",
        ]
        for band in [room.opening_bands.get(), room.duty_shifts.get()]:
            band.end_time = datetime.time(11)
            band.save()
        assert starts(Availability([room], NOW).slots_on(room, MONDAY)) == ["09:00", "10:00"]

        room.opening_bands.get().event.get_occurrence(at(MONDAY, "09:00")).cancel()
        assert Availability([room], NOW).slots_on(room, MONDAY) == []
        assert Availability([room], NOW).slots_on(room, MONDAY + datetime.timedelta(days=1))

    def test_a_weekly_rule_corrected_in_place_shows_at_once(self):
        """The kept expansion depends on the rule too, not only on the event."""
        room = make_room()
        open_room(room, "MO", ("09:00", "12:00"))
        assert MONDAY in days_with_slots(room)
        Rule.objects.filter(params="byweekday:MO").update(params="byweekday:TU")
        days = days_with_slots(room)
        assert MONDAY not in days
        assert MONDAY + datetime.timedelta(days=1) in days

    def test_horizon_and_notice_follow_the_rooms_settings(self):
        room = make_room(horizon_days=3, min_notice_hours=27)
        open_room(room, "MO,TU,WE,TH,FR,SA,SU", ("09:00", "12:00"))
        days = days_with_slots(room)
        assert days == [MONDAY + datetime.timedelta(days=n) for n in (1, 2, 3)]
        tuesday_slots = Availability([room], NOW).slots_on(room, days[0])
        assert starts(tuesday_slots) == ["10:00", "11:00"]  # 09:00 is 26 hours away

    def test_daily_cap_and_cancelled_bookings_freeing_their_slot(self):
        room = make_room(daily_cap=1)
        open_room(room, "MO,TU", ("09:00", "12:00"))
        booking = service.create_booking(
            room=room,
            starts_at=at(MONDAY, "10:00"),
            name="张女士",
            mobile="13800000001",
            visit_type=Booking.VisitType.FIRST,
            now=NOW,
        )
        assert MONDAY not in days_with_slots(room)
        assert Availability([room], NOW).explain(room, at(MONDAY, "11:00")) is Refusal.DAY_FULL
        service.cancel_by_resident(booking, now=NOW)
        assert starts(Availability([room], NOW).slots_on(room, MONDAY)) == [
            "09:00",
            "10:00",
            "11:00",
        ]

    def test_counts_next_day_timetable_and_day_kind_of_a_room(self):
        room = make_room()
        open_room(room, "MO", ("09:00", "12:00"))
        availability = Availability([room], NOW)
        counts = availability.free_counts(room)
        assert counts[MONDAY] == 3
        assert sum(counts.values()) == len(availability.slots(room))
        assert availability.next_free_day(room) == MONDAY
        opening, duty = availability.timetable(room, MAKEUP_SUNDAY)
        assert [(o.start, o.end) for o in opening] == [
            (at(MAKEUP_SUNDAY, "09:00"), at(MAKEUP_SUNDAY, "12:00"))
        ]
        assert [shift.tag for shift in duty] == [DutyShift.objects.get(room=room).counsellor_id]
        assert availability.day_kind(MAKEUP_SUNDAY) is DayKind.MAKEUP_WORKDAY
        assert availability.day_kind(NATIONAL_DAY + ONE_WEEK * 10) is DayKind.ORDINARY
        assert availability.day_kind(datetime.date(2027, 2, 6)) is DayKind.HOLIDAY  # 春节

    def test_a_room_with_no_free_time_has_no_next_day(self):
        room = make_room()
        assert Availability([room], NOW).next_free_day(room) is None

    def test_queries_do_not_grow_with_rooms_or_bookings(self, django_assert_num_queries):
        rooms = [make_room(f"{n}号室") for n in range(6)]
        for number, room in enumerate(rooms):
            open_room(room, "MO,TU,WE,TH,FR", ("09:00", "12:00"), ("14:00", "17:00"))
            service.create_booking(
                room=room,
                starts_at=at(MONDAY, "14:00"),
                name="居民",
                mobile=f"1380000{number:04d}",
                visit_type=Booking.VisitType.FIRST,
                now=NOW,
            )
        rooms = list(Room.objects.all())
        # Events with their occurrences (2), closures, holiday openings, the
        # staff's statutory calendar and bookings.
        with django_assert_num_queries(6):
            availability = Availability(rooms, NOW)
        with django_assert_num_queries(0):
            for room in rooms:
                assert availability.next_free_day(room) == MONDAY

    def test_queries_do_not_grow_with_rooms_on_the_first_load_either(
        self, django_assert_num_queries
    ):
        for number in range(3):
            open_room(make_room(f"{number}号室"), "MO,TU", ("09:00", "12:00"), ("14:00", "17:00"))
        rooms = list(Room.objects.all())
        with django_assert_num_queries(6):
            availability = Availability(rooms, NOW)
        assert {availability.next_free_day(room) for room in rooms} == {MONDAY}


WEEK = [MONDAY + datetime.timedelta(days=n) for n in range(7)]


def moments(days, first_hour=0, last_hour=24):
    """Five-minute marks on one of `days`, from `first_hour` to `last_hour` o'clock."""
    return st.builds(
        lambda day, steps: at(day, "00:00") + datetime.timedelta(minutes=5 * steps),
        st.sampled_from(days),
        st.integers(first_hour * 12, last_hour * 12),
    )


def spans(max_size, tags=None):
    """Up to `max_size` spans of a quarter hour to six hours in the week, each
    within one day, as the schedule forms allow (a band ends after it starts)."""
    return st.lists(
        st.builds(
            lambda start, quarters, tag: Interval(
                start, start + datetime.timedelta(minutes=15 * quarters), tag
            ),
            moments(WEEK, 6, 18),
            st.integers(1, 24),
            st.none() if tags is None else tags,
        ),
        max_size=max_size,
    )


@st.composite
def rooms_at_a_moment(draw):
    """A room's rules, its inputs over a week, and a moment early in that week,
    often just around the minimum notice before an opening, where rules meet."""
    rules = RoomRules(
        room_id=1,
        session=datetime.timedelta(minutes=draw(st.sampled_from([30, 45, 50, 60]))),
        buffer=datetime.timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
        min_notice=datetime.timedelta(hours=draw(st.integers(0, 26))),
        horizon_days=draw(st.integers(0, 6)),
        daily_cap=draw(st.none() | st.integers(1, 4)),
    )
    opening = draw(spans(8))
    staffed = [Interval(band.start, band.end, 1) for band in opening]
    kinds = st.sampled_from([DayKind.HOLIDAY, DayKind.MAKEUP_WORKDAY])
    inputs = RoomInputs(
        opening=opening,
        duty=draw(st.just(staffed) | spans(8, tags=st.integers(1, 3))),
        closures=draw(spans(2)),
        bookings=draw(spans(6)),
        kinds=draw(st.dictionaries(st.sampled_from(WEEK), kinds)),
        opened_days=frozenset(draw(st.sets(st.sampled_from(WEEK), max_size=2))),
    )
    now = draw(moments(WEEK[:2]))
    if opening and draw(st.booleans()):
        near = draw(st.sampled_from(opening)).start - rules.min_notice
        now = near + datetime.timedelta(minutes=5 * draw(st.integers(-3, 3)))
    return rules, inputs, now


@PROPERTY_SETTINGS
@given(rooms_at_a_moment(), st.lists(moments(WEEK), max_size=20))
def test_every_offered_slot_is_bookable_and_every_refusal_has_a_reason(room_at_a_moment, asked):
    """free_slots and explain apply the same rules: whatever a resident is offered
    can be booked, and any other time they ask for is refused with a reason."""
    rules, inputs, now = room_at_a_moment
    offered = {slot.start for slot in free_slots(rules, inputs, now=now)}
    every_slot = assess(rules, inputs, now=now, first=WEEK[0], last=WEEK[-1])
    for start in offered | set(asked) | {slot.start for slot, _ in every_slot}:
        refusal = explain(rules, inputs, start, now=now)
        if start in offered:
            assert refusal is None, start
        else:
            assert isinstance(refusal, Refusal), (start, refusal)


@pytest.mark.django_db
class TestShownFreeTimes:
    """Pages that show free times reuse what their process loaded until the
    timetable version moves on, which every change they depend on does as it
    commits."""

    @pytest.fixture(autouse=True)
    def committed(self, django_capture_on_commit_callbacks):
        self.committed = lambda: django_capture_on_commit_callbacks(execute=True)

    def shown_starts(self, room, day=MONDAY):
        return starts(Availability.shown([room], NOW).slots_on(room, day))

    def test_a_second_look_reads_only_the_version(self, django_assert_num_queries):
        with self.committed():
            room = make_room()
            open_room(room, "MO", ("09:00", "12:00"))
        first_look = self.shown_starts(room)
        with django_assert_num_queries(1):
            assert self.shown_starts(room) == first_look == ["09:00", "10:00", "11:00"]

    def test_listed_rooms_are_kept_per_version_and_handed_out_as_copies(
        self, django_assert_num_queries, monkeypatch
    ):
        from counseling import availability

        with self.committed():
            room = make_room()
            open_room(room, "MO", ("09:00", "12:00"))
            make_room("停用的咨询室", is_active=False)
        version, rooms = listed_rooms()
        assert [listed.name for listed in rooms] == ["测试咨询室"]
        assert [band.start_time for band in rooms[0].opening_bands.all()] == [datetime.time(9)]
        rooms[0].name = "一个页面改了它"
        with django_assert_num_queries(1):
            again_version, again = listed_rooms()
        assert again_version == version and [listed.name for listed in again] == ["测试咨询室"]
        with self.committed():
            room.name = "改名后的咨询室"
            room.save()
        renamed_version, renamed = listed_rooms()
        assert renamed_version != version
        assert [listed.name for listed in renamed] == ["改名后的咨询室"]
        # A change the signals cannot see shows once the kept rooms are old.
        Room.objects.filter(pk=room.pk).update(name="数据库里直接改的")
        assert listed_rooms()[1][0].name == "改名后的咨询室"
        monkeypatch.setattr(availability, "SHOWN_SECONDS", -1)
        assert listed_rooms()[1][0].name == "数据库里直接改的"

    def test_a_booking_a_closure_or_a_holiday_opening_is_seen_once_committed(self):
        with self.committed():
            room = make_room()
            open_room(room, "MO", ("09:00", "12:00"))
        assert self.shown_starts(room) == ["09:00", "10:00", "11:00"]
        with self.committed():
            service.create_booking(
                room=room, starts_at=at(MONDAY, "10:00"), name="李", mobile="13912345678",
                visit_type="first", now=NOW,
            )  # fmt: skip
        assert self.shown_starts(room) == ["09:00", "11:00"]
        with self.committed():
            closure = Closure.objects.create(
                room=None, starts_at=at(MONDAY, "08:00"), ends_at=at(MONDAY, "09:30"), reason="检修"
            )
        assert self.shown_starts(room) == ["11:00"]
        with self.committed():
            closure.delete()
        assert self.shown_starts(room) == ["09:00", "11:00"]
        with self.committed():
            open_room(room, "TH", ("09:00", "10:00"))
        week_before = at(NATIONAL_DAY - ONE_WEEK, "07:00")
        assert Availability.shown([room], week_before).slots_on(room, NATIONAL_DAY) == []
        with self.committed():
            HolidayOpening.objects.create(room=room, date=NATIONAL_DAY)
        shown = Availability.shown([room], week_before).slots_on(room, NATIONAL_DAY)
        assert starts(shown) == ["09:00"]

    def test_a_changed_timetable_or_a_deleted_shift_is_seen_once_committed(self):
        with self.committed():
            room = make_room()
            open_room(room, "MO", ("09:00", "12:00"))
        assert self.shown_starts(room) == ["09:00", "10:00", "11:00"]
        band = OpeningHours.objects.get(room=room)
        band.end_time = datetime.time(10)
        with self.committed():
            band.save()
        assert self.shown_starts(room) == ["09:00"]
        with self.committed():
            DutyShift.objects.filter(room=room).first().delete()
        assert self.shown_starts(room) == []

    def test_the_version_moves_only_when_the_change_commits(self):
        with self.committed():
            room = make_room()
            open_room(room, "MO", ("09:00", "12:00"))
        before = TimetableVersion.current()
        Closure.objects.create(
            room=room, starts_at=at(MONDAY, "08:00"), ends_at=at(MONDAY, "12:00"), reason="检修"
        )
        assert TimetableVersion.current() == before  # not yet committed: no row lock held
        with self.committed():
            Counsellor.objects.create(name="新咨询师")
        assert TimetableVersion.current() != before

    def test_the_minimum_notice_moves_with_the_clock_between_looks(self):
        with self.committed():
            room = make_room()
            open_room(room, "MO", ("09:00", "12:00"))
        assert self.shown_starts(room) == ["09:00", "10:00", "11:00"]
        later = NOW + datetime.timedelta(hours=1, minutes=30)  # 08:30: 10:00 is too soon
        assert starts(Availability.shown([room], later).slots_on(room, MONDAY)) == ["11:00"]

    def test_rooms_looked_at_alone_or_together_each_get_their_own_times(self):
        with self.committed():
            first, second = make_room("一号室"), make_room("二号室")
            open_room(first, "MO", ("09:00", "10:00"))
            open_room(second, "MO", ("14:00", "16:00"))
        assert self.shown_starts(first) == ["09:00"]
        assert self.shown_starts(second) == ["14:00", "15:00"]
        both = Availability.shown([second, first], NOW)
        assert starts(both.slots_on(first, MONDAY)) == ["09:00"]
        assert starts(both.slots_on(second, MONDAY)) == ["14:00", "15:00"]

    def test_shown_free_times_tell_holidays_on_every_look(self):
        with self.committed():
            room = make_room()
            open_room(room, "MO", ("09:00", "12:00"))
        week_before = at(NATIONAL_DAY - ONE_WEEK, "07:00")
        for _look in range(2):
            shown = Availability.shown([room], week_before)
            assert shown.day_kind(NATIONAL_DAY) is DayKind.HOLIDAY

    def test_once_the_notice_has_passed_every_free_time_none_is_offered(self):
        with self.committed():
            room = make_room(horizon_days=1)
            open_room(room, "MO", ("09:00", "12:00"))
        assert self.shown_starts(room) == ["09:00", "10:00", "11:00"]
        later = at(MONDAY, "09:30")  # 11:00 is within the two hours' notice
        assert Availability.shown([room], later).slots(room) == []

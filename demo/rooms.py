"""The counselling module's demo data: the six rooms, their opening hours, the
counsellors on duty from today on and a few bookings."""

import datetime

from django.utils import timezone

from counseling.availability import Availability
from counseling.booking import create_booking
from counseling.models import LOCAL_TZ, Booking, Counsellor, DutyShift, OpeningHours, Room
from demo import content

# A room's timetable in rooms.json, beside the room's own fields: the weekdays
# and time bands of its opening hours (two bands make a lunch break) and the
# counsellors who share its duty by weekday.
TIMETABLE = ("weekdays", "hours", "counsellors")


def seed():
    data = content("rooms")
    now = timezone.now()
    rooms = seed_rooms(data["rooms"])
    counsellors = seed_counsellors(data["counsellors"])
    seed_schedules(rooms, data["rooms"], counsellors, timezone.localtime(now, LOCAL_TZ).date())
    seed_bookings(rooms, data["residents"], now)


def seed_rooms(rooms):
    saved = []
    for order, data in enumerate(rooms):
        fields = {key: value for key, value in data.items() if key not in TIMETABLE}
        room, _created = Room.objects.update_or_create(
            name=fields.pop("name"), defaults={**fields, "sort_order": order}
        )
        saved.append(room)
    return saved


def seed_counsellors(counsellors):
    return {
        data["name"]: Counsellor.objects.get_or_create(
            name=data["name"], defaults={"title": data["title"]}
        )[0]
        for data in counsellors
    }


def seed_schedules(rooms, timetables, counsellors, today):
    """Opening hours and duty shifts from today on, with the room's weekdays
    shared out among its counsellors in turn."""
    for room, timetable in zip(rooms, timetables, strict=True):
        weekdays, names = timetable["weekdays"], timetable["counsellors"]
        bands = [(_time(start), _time(end)) for start, end in timetable["hours"]]
        if not room.opening_bands.exists():
            for start, end in bands:
                OpeningHours.objects.create(
                    room=room, weekdays=weekdays, start_time=start, end_time=end, starts_on=today
                )
        if not room.duty_shifts.exists():
            codes = weekdays.split(",")
            for turn, name in enumerate(names):
                for start, end in bands:
                    DutyShift.objects.create(
                        room=room,
                        counsellor=counsellors[name],
                        weekdays=",".join(codes[turn :: len(names)]),
                        start_time=start,
                        end_time=end,
                        starts_on=today,
                    )


def seed_bookings(rooms, residents, now):
    """A few bookings in the first free slots, made through the booking service
    like a resident's; only on a site that has none yet."""
    if Booking.objects.exists():
        return
    availability = Availability(rooms, now)
    for room, resident in zip(rooms, residents, strict=False):
        slots = availability.slots(room)
        if slots:
            create_booking(
                room=room,
                starts_at=slots[len(slots) // 3].start,
                name=resident["name"],
                mobile=resident["mobile"],
                email=resident["email"],
                visit_type=Booking.VisitType.FIRST,
                now=now,
            )


def _time(text):
    return datetime.time.fromisoformat(text)

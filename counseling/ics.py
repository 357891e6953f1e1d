"""A calendar entry for a booking. Like the text messages it names only the
reference, the time and the address: a calendar seen by someone else must not
reveal what the appointment is."""

import datetime

from django.utils import timezone
from icalendar import Calendar, Event

from .models import LOCAL_TZ
from .notifications import manage_url


def booking_calendar(booking):
    """The .ics bytes for one booking."""
    calendar = Calendar()
    calendar.add("prodid", "-//Jinjialing//yuyue//ZH")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.reference}@yuyue.jinjialing")
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("summary", f"预约 {booking.reference_display}")
    event.add("dtstart", booking.starts_at.astimezone(LOCAL_TZ))
    event.add("dtend", booking.ends_at.astimezone(LOCAL_TZ))
    event.add("location", booking.room.address)
    event.add(
        "description",
        f"预约编号 {booking.reference_display}。查看、改约或取消:{manage_url()}",
    )
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

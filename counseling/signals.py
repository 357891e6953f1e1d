"""Move the timetable version on whenever something free times are computed from
is saved or deleted, as soon as the change commits. After the commit rather than
inside it: a batch of staff cancellations holds its transaction open across many
bookings, and a version row locked inside it would make a resident's own
cancellation of one of them wait on the batch while the batch waits on it.
A failure there is logged, never raised: the change itself has committed."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

# A booking changes free times only through these; a reminder sent or a personal
# detail erased leaves them as they were.
BOOKING_TIMES = frozenset({"room", "starts_at", "ends_at", "status", "counsellor"})


def timetable_sources():
    """The models free times are computed from (counseling.availability)."""
    from schedule.models import Calendar, Event, Occurrence, Rule

    from portal.core.models import HolidayArrangement, HolidayPeriod

    from .models import Closure, Counsellor, DutyShift, HolidayOpening, OpeningHours, Room

    return [
        Room,
        Counsellor,
        OpeningHours,
        DutyShift,
        Closure,
        HolidayOpening,
        Calendar,
        Event,
        Occurrence,
        Rule,
        HolidayArrangement,
        HolidayPeriod,
    ]


def timetable_changed(sender, **kwargs):
    from .models import TimetableVersion

    transaction.on_commit(TimetableVersion.move_on, robust=True)


def booking_saved(sender, update_fields=None, **kwargs):
    if update_fields is None or BOOKING_TIMES & set(update_fields):
        timetable_changed(sender)


def connect():
    from .models import Booking

    for model in timetable_sources():
        post_save.connect(timetable_changed, sender=model, dispatch_uid=f"timetable-{model}")
        post_delete.connect(timetable_changed, sender=model, dispatch_uid=f"timetable-d-{model}")
    post_save.connect(booking_saved, sender=Booking, dispatch_uid="timetable-booking")
    post_delete.connect(timetable_changed, sender=Booking, dispatch_uid="timetable-d-booking")

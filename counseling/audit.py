"""The staff access log for residents' booking data (PIPL): every list, detail,
schedule, export and status change a coordinator makes is written here with the
booking references it showed or touched. Each entry is also logged as a JSON
event on `portal.audit` (user id, action, booking ids; never residents' details)."""

import logging

from .models import BookingAccessLog

audit_log = logging.getLogger("portal.audit")

Action = BookingAccessLog.Action


def references_of(bookings):
    return [booking.reference for booking in bookings]


def record(user, action, bookings=(), detail=""):
    """Write one access-log row: who, which action, and the bookings involved."""
    staff = user if user is not None and user.is_authenticated else None
    bookings = list(bookings)
    entry = BookingAccessLog.objects.create(
        user=staff,
        username=staff.get_username() if staff else "",
        action=action,
        booking_references=" ".join(references_of(bookings)),
        detail=detail[:300],
    )
    # The free-text detail may hold a search for a name or a mobile: not logged.
    audit_log.info(
        f"booking_data.{action}",
        extra={
            "user_id": staff.pk if staff else None,
            "username": staff.get_username() if staff else "",
            "action": str(action),
            "booking_count": len(bookings),
            "booking_ids": [booking.pk for booking in bookings],
            "access_log_id": entry.pk,
        },
    )
    return entry

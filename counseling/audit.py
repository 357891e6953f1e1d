"""The staff access log for residents' booking data (PIPL): every list, detail,
schedule, export and status change a coordinator makes is written here with the
booking references it showed or touched."""

from .models import BookingAccessLog

Action = BookingAccessLog.Action


def references_of(bookings):
    return [booking.reference for booking in bookings]


def record(user, action, bookings=(), detail=""):
    """Write one access-log row: who, which action, and the bookings involved."""
    return BookingAccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        username=user.get_username() if user is not None and user.is_authenticated else "",
        action=action,
        booking_references=" ".join(references_of(bookings)),
        detail=detail[:300],
    )

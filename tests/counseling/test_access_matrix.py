"""Who may reach residents' booking data: every admin and public URL that shows
or changes a booking, for each kind of visitor, against one explicit table.

Admin URLs send anonymous visitors to the login page and answer 403 to staff
outside the coordinators; the public /yuyue/ pages show a booking only to the
browser that gave its reference code and mobile, whoever is logged in."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.models import Booking
from portal.core.groups import COORDINATORS, EDITORS, REVIEWERS
from tests.factories import log_in_verified, make_weekday_room, prove_mobile

STAFF_PASSWORD = "a-long-test-password"
RESIDENT = {"name": "权限测试居民", "mobile": "13912348888"}

ROLES = ("anonymous", "editor", "reviewer", "coordinator", "superuser", "resident")

# Outcomes: ok (200, or a POST carried out and redirected to its result),
# login (302 to the admin login), denied (403), lookup (302 to /yuyue/, the
# code+phone form), absent (404: no such view exists for anyone).
ok, login, denied, lookup, absent = "ok", "login", "denied", "lookup", "absent"

# (method, url) → outcome for anonymous, editor, reviewer, coordinator, superuser,
# and a resident (anonymous, after entering the booking's code and mobile).
EXPECTED = {
    # The coordinators' admin.
    ("GET", "/admin/counseling/booking/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/waitlist/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/figures/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/booking/results/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/booking/?export=csv"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/booking/?export=xlsx"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/booking/{booking}/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/booking/{booking}/cancel/"): (login, denied, denied, ok, ok, login),
    ("POST", "/admin/counseling/booking/{booking}/cancel/"): (
        login,
        denied,
        denied,
        ok,
        ok,
        login,
    ),
    ("POST", "/admin/counseling/booking/{booking}/attended/"): (
        login,
        denied,
        denied,
        ok,
        ok,
        login,
    ),
    ("POST", "/admin/counseling/booking/{booking}/no-show/"): (
        login,
        denied,
        denied,
        ok,
        ok,
        login,
    ),
    # Bookings are never added, edited or deleted in the admin.
    ("GET", "/admin/counseling/booking/add/"): (login, absent, absent, absent, absent, login),
    ("GET", "/admin/counseling/booking/edit/{booking}/"): (
        login,
        absent,
        absent,
        absent,
        absent,
        login,
    ),
    ("POST", "/admin/counseling/booking/delete/{booking}/"): (
        login,
        absent,
        absent,
        absent,
        absent,
        login,
    ),
    ("GET", "/admin/counseling/schedule/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/schedule/{room}/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/access-log/"): (login, denied, denied, ok, ok, login),
    ("GET", "/admin/counseling/access-log/results/"): (login, denied, denied, ok, ok, login),
    ("POST", "/admin/counseling/access-log/delete/{log}/"): (
        login,
        absent,
        absent,
        absent,
        absent,
        login,
    ),
    # The resident's side: the code+phone form is open to all; the pages behind it
    # only to the browser that passed it.
    ("GET", "/yuyue/"): (ok, ok, ok, ok, ok, ok),
    ("GET", "/yuyue/bookings/"): (lookup, lookup, lookup, lookup, lookup, ok),
    ("GET", "/yuyue/booking/"): (lookup, lookup, lookup, lookup, lookup, ok),
    ("GET", "/yuyue/cancel/"): (lookup, lookup, lookup, lookup, lookup, ok),
    ("POST", "/yuyue/cancel/"): (lookup, lookup, lookup, lookup, lookup, ok),
    ("GET", "/yuyue/move/"): (lookup, lookup, lookup, lookup, lookup, ok),
    ("GET", "/yuyue/move/{day}/"): (lookup, lookup, lookup, lookup, lookup, ok),
    ("GET", "/yuyue/yuyue.ics"): (lookup, lookup, lookup, lookup, lookup, ok),
    ("GET", "/counseling/done/"): (lookup, lookup, lookup, lookup, lookup, ok),
}

CASES = [
    pytest.param(method, url, role, outcomes[index], id=f"{role}-{method}-{url}")
    for (method, url), outcomes in EXPECTED.items()
    for index, role in enumerate(ROLES)
]


def make_staff(username, group=None, **extra):
    user = get_user_model().objects.create_user(username=username, password=STAFF_PASSWORD, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def log_in_staff(client, user):
    """Log a member of staff in to the admin, password and authenticator code
    both given, as the admin requires (ADMIN_REQUIRE_2FA)."""
    log_in_verified(client, user)


def visitor(client, role, booking):
    """The client as `role`: logged-in staff, an anonymous visitor, or a resident
    who proved the booking's mobile with the SMS code at /yuyue/ and opened it."""
    if role == "resident":
        prove_mobile(client, RESIDENT["mobile"])
        response = client.post("/yuyue/bookings/", {"booking": booking.reference})
        assert response.status_code == 302 and response["Location"] == "/yuyue/booking/"
    elif role == "superuser":
        log_in_staff(client, make_staff("root", is_superuser=True, is_staff=True))
    elif role != "anonymous":
        group = {"editor": EDITORS, "reviewer": REVIEWERS, "coordinator": COORDINATORS}[role]
        log_in_staff(client, make_staff(role, group))
    return client


@pytest.fixture
def booking(db):
    room = make_weekday_room(
        "权限测试咨询室",
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(8, 20),
        starts_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    slot = next(
        s
        for s in Availability([room]).slots(room)
        if s.day >= tomorrow + datetime.timedelta(days=1)
    )
    return service.create_booking(
        room=room, starts_at=slot.start, visit_type=Booking.VisitType.FIRST, **RESIDENT
    )


def outcome_of(response):
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith("/admin/login/"):
        return login
    if response.status_code == 302 and location == "/yuyue/":
        return lookup
    return {200: ok, 302: ok, 403: denied, 404: absent}.get(
        response.status_code, response.status_code
    )


@pytest.mark.parametrize(("method", "url", "role", "expected"), CASES)
def test_access_to_booking_data(client, booking, method, url, role, expected):
    from counseling.models import BookingAccessLog

    log = BookingAccessLog.objects.create(username="someone", action=BookingAccessLog.Action.LIST)
    client = visitor(client, role, booking)
    target = url.format(
        booking=booking.pk,
        room=booking.room_id,
        log=log.pk,
        day=timezone.localtime(booking.starts_at).date().isoformat(),
    )
    data = {"reason": "咨询师临时有事"} if "cancel" in target and "admin" in target else {}
    response = getattr(client, method.lower())(target, data)

    assert outcome_of(response) == expected
    if expected != ok:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert RESIDENT["name"].encode() not in body and RESIDENT["mobile"].encode() not in body
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED  # a refused POST changed nothing

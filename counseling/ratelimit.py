"""Attempt limits for booking and lookup, per client and per mobile, counted in
the database (portal.core.ratelimit).

A client is its address behind the trusted reverse proxy, an IPv6 client its /64
network (portal.core.clients).

Limits come from settings.COUNSELING_RATE_LIMITS, a dict such as
``{"booking": {"ip": (10, 3600), "mobile": (5, 3600)}}``: for each action and key,
at most N attempts per window of S seconds. Missing entries keep the defaults."""

from django.conf import settings

from portal.core.clients import client_key
from portal.core.ratelimit import count_attempt, refund_attempt

from .privacy import mobile_digest

DEFAULT_LIMITS = {
    "booking": {"ip": (10, 60 * 60), "mobile": (5, 60 * 60)},
    "lookup": {"ip": (10, 15 * 60), "mobile": (10, 15 * 60)},
    # Sending an SMS code (counseling.verification): each one is a message to a
    # number that may not be the visitor's.
    # Per visitor, per number from one visitor, and per number from anywhere.
    "code": {"ip": (10, 60 * 60), "mobile": (5, 60 * 60), "mobile_total": (10, 60 * 60)},
    # Typing a code: five tries per code, and this many per visitor.
    "verify": {"ip": (30, 60 * 60)},
}


def limit(action, kind):
    configured = getattr(settings, "COUNSELING_RATE_LIMITS", {}).get(action, {})
    return configured.get(kind, DEFAULT_LIMITS[action][kind])


def attempt(action, kind, value):
    """Count one attempt; False when it goes over the limit."""
    allowed, window = limit(action, kind)
    return count_attempt(f"counseling:{action}:{kind}", value, allowed, window)


def refund(action, kind, value):
    """Take back one attempt counted by attempt(), for one that did not happen."""
    _allowed, window = limit(action, kind)
    refund_attempt(f"counseling:{action}:{kind}", value, window)


def attempt_from_client(request, action):
    return attempt(action, "ip", client_key(request))


def attempt_for_mobile(action, mobile):
    # Keyed: an unkeyed hash of an 11-digit mobile is quickly reversed.
    return attempt(action, "mobile", mobile_digest(mobile))

"""Attempt limits for booking and lookup, per client and per mobile, counted in
the database (portal.core.ratelimit).

A client is its address behind the trusted reverse proxy, an IPv6 client its /64
network (portal.core.clients).

The limits are the knob RATE_LIMITS (counseling.conf): for each action and
key, at most N attempts per window of S seconds."""

from portal.core.clients import client_key
from portal.core.privacy import mobile_digest
from portal.core.ratelimit import count_attempt, refund_attempt

from . import conf


def attempt(action, kind, value):
    """Count one attempt; False when it goes over the limit."""
    allowed, window = conf.rate_limit(action, kind)
    return count_attempt(f"counseling:{action}:{kind}", value, allowed, window)


def refund(action, kind, value):
    """Take back one attempt counted by attempt(), for one that did not happen."""
    _allowed, window = conf.rate_limit(action, kind)
    refund_attempt(f"counseling:{action}:{kind}", value, window)


def attempt_from_client(request, action):
    return attempt(action, "ip", client_key(request))


def attempt_for_mobile(action, mobile):
    # Keyed: an unkeyed hash of an 11-digit mobile is quickly reversed.
    return attempt(action, "mobile", mobile_digest(mobile))

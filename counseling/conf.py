"""Every knob of the booking module, in one place: what it does, its unit, and
why its default is what it is.

A site changes a knob with a Django setting named ``COUNSELING_`` plus the
knob's name (``COUNSELING_MAX_UPCOMING_PER_MOBILE = 3``). The rest of the module
reads knobs only through `get` (or `rate_limit`), at the moment it needs one, so
a setting changed in a test takes effect at once. docs/deploy.md lists them."""

from django.conf import settings

PREFIX = "COUNSELING_"

DEFAULTS = {
    # --- Bookings (counseling.booking) ---------------------------------------
    # The most upcoming bookings (confirmed, not yet begun) one mobile number may
    # hold across all six rooms; a count. Two lets a resident keep a follow-up
    # booked while the first session is still ahead, yet one number cannot take a
    # room's week of scarce sessions.
    "MAX_UPCOMING_PER_MOBILE": 2,
    # Hours before a session after which it can no longer be moved online, and a
    # cancellation is recorded as late (逾期取消). Two hours still leaves the
    # coordinator time to offer the session to a resident waiting that day.
    "CANCEL_CUTOFF_HOURS": 2,
    # Days after a session ends before `purge_bookings` erases the resident's
    # details (PIPL: keep them no longer than needed). 180 days covers a course of
    # follow-up sessions and the half-year review of no-shows and complaints.
    "RETENTION_DAYS": 180,
    # --- Waitlist (候补, counseling.booking) ---------------------------------
    # Minutes a freed time is kept for the resident first on the waitlist before
    # it goes to the next one. Half an hour lets someone at work or at the market
    # see the text and answer, yet a cancelled session rarely sits idle long.
    "WAITLIST_HOLD_MINUTES": 30,
    # The most rooms one mobile may wait for at once (a count): enough to wait
    # for the rooms near home and work, not enough to queue at all six.
    "WAITLIST_MAX_PER_MOBILE": 2,
    # Local hours (from, until) in which no offer is texted: a time freed at
    # night is held, and the text goes at the end of them with the hold
    # running from then, so nobody is woken and nobody loses a place asleep.
    # Equal hours mean none.
    "WAITLIST_QUIET_HOURS": (21, 8),
    # --- Attempt limits (counseling.ratelimit) -----------------------------
    # For each action and key, (at most N attempts, per window of S seconds). A
    # setting overrides single entries: {"booking": {"ip": (20, 3600)}} keeps the
    # rest. Keys: "ip" one visitor (an IPv6 visitor's /64), "mobile" one number.
    # Generous for a household sharing one address, tight enough that guessing
    # references goes nowhere. Limits on SMS codes: portal.core.verification.
    "RATE_LIMITS": {
        "booking": {"ip": (10, 60 * 60), "mobile": (5, 60 * 60)},
        "lookup": {"ip": (10, 15 * 60), "mobile": (10, 15 * 60)},
        "waitlist": {"ip": (10, 60 * 60), "mobile": (5, 60 * 60)},
    },
    # --- Messages to residents (counseling.notifications) -------------------
    # Attempts at one message before it is marked failed for staff to see (a count).
    "MESSAGE_ATTEMPTS": 6,
    # Minutes to wait before each retry, the last one repeated: over four hours
    # in all, long enough to ride out a gateway outage, short enough that a
    # confirmation still arrives before a next-day session.
    "MESSAGE_RETRY_MINUTES": (1, 5, 15, 60, 180),
}


def get(name):
    """The knob's value: the site's COUNSELING_<name> setting, or the default."""
    return getattr(settings, PREFIX + name, DEFAULTS[name])


def rate_limit(action, kind):
    """(attempts, window in seconds) for `action` keyed by `kind`; a site's
    COUNSELING_RATE_LIMITS overrides single entries and keeps the other defaults."""
    configured = getattr(settings, PREFIX + "RATE_LIMITS", {}).get(action, {})
    return configured.get(kind, DEFAULTS["RATE_LIMITS"][action][kind])

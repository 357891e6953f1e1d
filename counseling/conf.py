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
    # --- Attempt limits (counseling.ratelimit) -----------------------------
    # For each action and key, (at most N attempts, per window of S seconds). A
    # setting overrides single entries: {"booking": {"ip": (20, 3600)}} keeps the
    # rest. Keys: "ip" one visitor (an IPv6 visitor's /64), "mobile" one number
    # (for codes: one number from one visitor), "mobile_total" one number from
    # anywhere. Generous for a household sharing one address, tight enough that
    # guessing references or texting strangers' phones goes nowhere.
    "RATE_LIMITS": {
        "booking": {"ip": (10, 60 * 60), "mobile": (5, 60 * 60)},
        "lookup": {"ip": (10, 15 * 60), "mobile": (10, 15 * 60)},
        # Sending an SMS code: each one is a message to a number that may not be
        # the visitor's.
        "code": {"ip": (10, 60 * 60), "mobile": (5, 60 * 60), "mobile_total": (10, 60 * 60)},
        # Typing a code: five tries per code (CODE_TRIES), and this many per visitor.
        "verify": {"ip": (30, 60 * 60)},
    },
    # --- Proof of the mobile (counseling.verification) ---------------------
    # Minutes an SMS code stays valid: enough for an elderly resident to find
    # the message and type it, short enough that a code read off a lost phone
    # later is useless.
    "CODE_LIFETIME_MINUTES": 5,
    # Wrong tries one code allows (a count); then a new code must be asked for.
    # Five tries of six digits leave a guesser one chance in 200,000.
    "CODE_TRIES": 5,
    # Seconds before the same session may have another code sent to the number:
    # SMS gateways take up to a minute, and a second tap must not send two texts.
    "CODE_RESEND_SECONDS": 60,
    # Minutes a session counts a number as proven after its code was typed, so
    # booking then looking the booking up needs one code, not two; a shared phone
    # left on the page does not stay proven for long.
    "VERIFIED_MINUTES": 30,
    # Days the hashed codes are kept before `purge_bookings` deletes them: a day
    # answers "did the resident get a code?" the same day, nothing longer.
    "CODES_KEPT_DAYS": 1,
    # Minutes the details typed into the booking or lookup form are kept
    # (encrypted, in the session) while the resident waits for the code.
    "PENDING_FORM_MINUTES": 30,
    # --- Messages to residents (counseling.notifications, counseling.sms) ---
    # Import path of the SMS backend: a class with send(mobile, text). The console
    # by default, so `make run` needs no gateway; production names the provider's
    # (and refuses to start with a console one, portal/settings/production.py).
    "SMS_BACKEND": "counseling.sms.ConsoleBackend",
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

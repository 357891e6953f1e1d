"""Time limits for staff sessions: one after a stretch without any request (idle)
and one counted from the login whatever the activity (absolute).

The session keeps two Unix timestamps: when the login happened and when the last
request was seen. The last-seen time is written at most once a minute, so an
active staff member does not cost a session write on every request."""

import time

from django.conf import settings

STARTED_AT = "staff_session_started_at"
SEEN_AT = "staff_session_seen_at"
SEEN_WRITE_INTERVAL = 60

IDLE = "idle_timeout"
ABSOLUTE = "absolute_timeout"


def start_clock(session, now=None):
    now = int(time.time() if now is None else now)
    session[STARTED_AT] = now
    session[SEEN_AT] = now


def expiry_reason(session, now=None):
    """IDLE or ABSOLUTE when the session has run out, else None. A session that
    has no clock yet (it began before the limits existed) starts one now."""
    now = time.time() if now is None else now
    if STARTED_AT not in session:
        start_clock(session, now)
        return None
    if now - session[STARTED_AT] > settings.STAFF_SESSION_ABSOLUTE_TIMEOUT.total_seconds():
        return ABSOLUTE
    if now - session.get(SEEN_AT, session[STARTED_AT]) > (
        settings.STAFF_SESSION_IDLE_TIMEOUT.total_seconds()
    ):
        return IDLE
    return None


def mark_seen(session, now=None):
    now = int(time.time() if now is None else now)
    if now - session.get(SEEN_AT, 0) >= SEEN_WRITE_INTERVAL:
        session[SEEN_AT] = now

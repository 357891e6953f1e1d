"""Serialising writers on a key that is not a row (a mobile number, a report's
fingerprint) for the rest of the transaction."""

from django.db import connection


def hold_until_commit(hex_digest):
    """Take a transaction-scoped advisory lock named by a hex digest on
    PostgreSQL, so a second transaction holding the same key waits for this one
    to end. SQLite needs nothing: it has one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(hex_digest[:15], 16)])

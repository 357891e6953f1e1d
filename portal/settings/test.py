"""Test settings: the database comes from DATABASE_URL (SQLite by default)."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="jjl-test-media-")
PRIVATE_MEDIA_ROOT = tempfile.mkdtemp(prefix="jjl-test-private-")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WAGTAILADMIN_BASE_URL = "http://localhost"
# Texts to residents land in portal.core.sms.MemoryBackend.outbox, where tests read
# a verification code as a resident reads it on the phone.
SMS_BACKEND = "portal.core.sms.MemoryBackend"
# Tests run on clocks of their own, often in the small hours: offers from the
# waitlist are texted at once. The quiet hours have tests of their own.
COUNSELING_WAITLIST_QUIET_HOURS = (0, 0)
# Serve static files through the finders: tests never run collectstatic. Found
# when asked for rather than all read up front, as WhiteNoise otherwise does for
# every test client it is built for (half the time of the property tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file database, as production SQLite uses, so concurrent tests take the
    # real write lock; one per test process.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.mkdtemp(prefix="jjl-test-db-")) / "test.sqlite3")
    }
    # No fsync on commit: building the test database commits once per migration,
    # and waiting for the disk was a third of that. Locking is unchanged, and a
    # killed process still leaves the file intact; only a power cut would not.
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        **DATABASES["default"]["OPTIONS"],  # noqa: F405
        "init_command": "PRAGMA synchronous=OFF",
    }

# Tests measure real renders; tests/portal/test_pagecache.py turns the page cache on.
PAGE_CACHE_ENABLED = False

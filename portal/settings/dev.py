"""Local development: DEBUG on, SQLite and local-memory cache from base."""

import os

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-key-not-for-production-use")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

# `make run`'s demo admin logs in with the password alone; production and tests
# keep two-factor sign-in on (base.py).
ADMIN_REQUIRE_2FA = False

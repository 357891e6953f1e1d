"""Production settings with the benchmark's own static folder.

Everything else comes from portal.settings.production and the environment the
page benchmark sets (SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, MEDIA_ROOT,
PAGE_CACHE_ENABLED, and ALLOW_CONSOLE_MESSAGES since it sends no messages), so
the numbers are those of a production process.
"""

import os

from portal.settings.production import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]

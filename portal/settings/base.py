"""Settings shared by every environment. Environment-specific files import from here."""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROJECT_DIR = BASE_DIR / "portal"

INSTALLED_APPS = [
    "portal.core",
    "portal.accounts",
    "portal.home",
    "portal.news",
    "portal.talks",
    "portal.campaigns",
    "portal.service_requests",
    "counseling",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.table_block",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "wagtailmedia",
    "schedule",
    "django_tasks",
    "django_tasks_db",
    "modelcluster",
    "taggit",
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the page cache, so a page served from it gets its headers afresh.
    "portal.core.security.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "portal.core.pagecache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.core.outages.StorageRefusedMiddleware",
    "portal.core.lookups.CachedSiteMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.core.publishing.WorkflowRefusalMiddleware",
    "portal.accounts.middleware.StaffSessionTimeoutMiddleware",
    "portal.accounts.middleware.AdminTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Response headers (docs/security.md). Public pages take nothing from other hosts
# and have no inline script or style; NONCE only appears in the header for a
# response whose template asked for request.csp_nonce, and the page cache never
# stores such a response.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# The Wagtail admin writes inline scripts and styles, and shows page previews
# in a frame of its own (portal.core.security).
ADMIN_CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, "'unsafe-inline'"],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    }
}
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "fullscreen": ["self"],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Nothing of ours reads the CSRF cookie from JavaScript: forms carry the token,
# and the Wagtail admin takes it from the page.
CSRF_COOKIE_HTTPONLY = True
# The admin asks no other host for anything: no avatars from Gravatar, no
# release check against wagtail.org.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# SQLite is the embedded default; production sets DATABASE_URL to PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        # A kept connection the server has cut (a restart, a terminated backend)
        # is noticed before the request uses it, not as that request's 500.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take the write lock when a transaction starts, so a transaction that reads
    # before it writes cannot be overtaken by another writer in between.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "portal.accounts.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = BASE_DIR / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
# Files residents send with their requests (photos): outside MEDIA_ROOT, so no
# web server serves them; the admin hands them only to staff who may see the
# request, and they are stored encrypted.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private"))
# Talk recordings are served through the talk page so its privacy applies. When
# nginx fronts the site, turn this on: Django then answers with X-Accel-Redirect
# to the internal /media/ location and nginx sends the file (with Range support).
MEDIA_ACCEL_REDIRECT = os.environ.get("MEDIA_ACCEL_REDIRECT", "false").lower() == "true"

STORAGES = {
    # Django's file system storage that removes what a full disk cut short.
    "default": {"BACKEND": "portal.core.storage.MediaStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CACHES = {
    # Pages, fragments, cards and look-ups are kept per content generation (portal.core.pagecache);
    # room for a few thousand of them in each process when there is no Redis.
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
    "renditions": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "renditions",
        "TIMEOUT": 60 * 60 * 24,
    },
}

# --- Anonymous page cache (portal.core.pagecache, docs/performance.md) ------------
# Anonymous visitors' pages are kept per content generation, which a publish
# moves, so an edit shows at once. On by default; test.py turns it off so tests
# measure real renders, and production reads PAGE_CACHE_ENABLED from the
# environment.
PAGE_CACHE_ENABLED = True
# The CACHES entry that holds pages, fragments and look-ups: the shared one
# (Redis in production), so every app process sees one generation.
PAGE_CACHE_ALIAS = "default"
# Seconds a cached page is kept at most, whatever the generation says. This
# bounds what the generation cannot see: a publish during a Redis outage, or
# a local-memory cache of another process. Ten minutes keeps most requests
# cached on a site that changes a few times a day.
PAGE_CACHE_SECONDS = 600

# --- Who is asking (portal.core.clients) ----------------------------------------
# Addresses of the reverse proxies whose X-Real-IP header names the visitor, for
# the per-visitor limits (bookings, SMS codes, login lockout). None by default:
# without a proxy any visitor could forge the header and count as someone else.
# Production reads TRUSTED_PROXIES from the environment (default the local nginx).
TRUSTED_PROXIES = []

# --- Task worker (portal.core.worker, `manage.py db_worker`) --------------------
# Seconds between a worker's heartbeats: often enough that a dead worker shows
# well within the lease, rarely enough to be no load on the database.
TASK_WORKER_HEARTBEAT = 10
# Seconds without a heartbeat after which a worker counts as dead and its
# running task goes back to the queue: six missed beats, so a slow database
# moment does not hand one task to two workers.
TASK_WORKER_LEASE = 60
# Seconds after which a running task of a worker that never beat (django-tasks-db's
# own worker) is handed back: longer than any message takes to send.
TASK_WORKER_ORPHAN_AGE = 600

# The booking module's knobs (COUNSELING_*) keep their defaults, units and
# reasons in counseling/conf.py; a setting of the same name here overrides one.

LOGIN_URL = "wagtailadmin_login"

# --- Staff accounts (portal/accounts/, docs/security.md "员工账户安全") ---------------
# django-axes watches every password login (the admin's and the staff login for
# private pages) and refuses a username from one address after 5 failures for 30
# minutes. Its backend must come first; it only checks, StaffBackend (Django's
# ModelBackend, loading the staff post with the user) logs in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.accounts.backends.StaffBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The visitor's address by the same rule as the booking limits: X-Real-IP only
# when the connection comes from a trusted reverse proxy.
AXES_CLIENT_IP_CALLABLE = "portal.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.accounts.lockout.locked_out"
# Logins and logouts go to the portal.audit log instead of axes' own table.
AXES_DISABLE_ACCESS_LOG = True

# The admin's "forgot password" sends at most 3 mails an hour to one address and
# answers at most 5 requests an hour from one visitor (portal.accounts.forms).
WAGTAILADMIN_USER_PASSWORD_RESET_FORM = "portal.accounts.forms.ThrottledPasswordResetForm"
PASSWORD_RESET_LIMITS = ((3, 60 * 60), (5, 60 * 60))

# Every /admin/ page asks for a code from the staff member's authenticator app
# (TOTP) after the password. dev.py turns this off for the `make run` demo.
ADMIN_REQUIRE_2FA = True
OTP_TOTP_ISSUER = "金家岭街道门户"

# Staff sessions end after 30 minutes without a request, and 12 hours after the
# login whatever the activity; the cookie lives no longer than that.
STAFF_SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
STAFF_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
SESSION_COOKIE_AGE = int(STAFF_SESSION_ABSOLUTE_TIMEOUT.total_seconds())
# Where page privacy sends visitors of staff-only talks: the site's own layout.
WAGTAIL_FRONTEND_LOGIN_TEMPLATE = "core/staff_login.html"

WAGTAIL_SITE_NAME = "金家岭街道"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = False
WAGTAIL_ALLOW_UNICODE_SLUGS = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_FORMAT_CONVERSIONS = {"bmp": "jpeg", "gif": "gif", "heic": "jpeg", "tiff": "jpeg"}
# Upload limits and content checks: portal/core/uploads.py, docs/security.md.
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
# Below Pillow's own bomb limit (about 89 million), so Wagtail counts the pixels
# and says how many; a 48-megapixel phone photo still fits.
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 50_000_000
WAGTAILIMAGES_IMAGE_FORM_BASE = "portal.core.uploads.ImageForm"
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILDOCS_DOCUMENT_FORM_BASE = "portal.core.uploads.DocumentForm"
WAGTAILDOCS_EXTENSIONS = [
    "pdf",
    "vtt",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "pptx",
    "txt",
    "odt",
    "ods",
]
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Every document downloads as an attachment, PDFs included: nothing uploaded is
# ever shown as a page of this site. Talk captions are served as text/vtt by the
# talk page's own captions route, not through this view.
WAGTAILDOCS_INLINE_CONTENT_TYPES = []
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAILMEDIA = {
    "MEDIA_MODEL": "wagtailmedia.Media",
    "AUDIO_EXTENSIONS": ["mp3", "m4a", "ogg", "oga", "opus", "wav"],
    "VIDEO_EXTENSIONS": ["mp4", "webm", "ogv"],
    "MEDIA_FORM_BASE": "portal.core.uploads.MediaForm",
}
# wagtailmedia has no size limit of its own; portal.core.uploads.MediaForm applies this.
MEDIA_MAX_UPLOAD_SIZE = 500 * 1024 * 1024
WAGTAIL_USER_TIME_ZONES = ["Asia/Shanghai"]
WAGTAILADMIN_PERMITTED_LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]

# Messages run at once in development and tests; production sets TASK_BACKEND to
# django_tasks_db.DatabaseBackend and runs `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# Demo and admin mail goes to the console unless production configures SMTP.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@jinjialing.local")
# Seconds a mail server may take to answer: a hung one fails the attempt, which
# the outbox retries later, instead of holding a task worker indefinitely.
EMAIL_TIMEOUT = 30

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Template debug records would otherwise carry whole page contexts,
        # residents' booking details included.
        "without_template_context": {"()": "portal.core.logging.WithoutTemplateContext"}
    },
    "formatters": {"json": {"()": "portal.core.logging.JsonLinesFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "audit": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "jieba": {"level": "WARNING"},
        "django.template": {"filters": ["without_template_context"]},
        # Login failures and lockouts are portal.audit events; axes would repeat them.
        "axes": {"level": "ERROR"},
        # Security events as JSON lines: logins, lockouts, 2FA, booking-data access.
        "portal.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
    },
}


def keys_from_env(name):
    """A comma-separated list of keys from the environment, newest first."""
    return [key.strip() for key in os.environ.get(name, "").split(",") if key.strip()]


def development_key(purpose):
    """A fixed key derived from a public string, so a development or test database
    stays readable across restarts. Anyone can derive it: NOT for production,
    which refuses to start without keys of its own."""
    digest = hashlib.sha256(f"jinjialing-development-only:{purpose}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Residents' personal data is encrypted at rest (portal.core.privacy): the first
# data key encrypts, all decrypt; the lookup key hashes mobiles for finding a
# booking. Development and tests use fixed keys; production.py requires both.
BOOKING_DATA_KEYS = keys_from_env("BOOKING_DATA_KEY") or [development_key("booking-data")]
BOOKING_LOOKUP_KEYS = keys_from_env("BOOKING_LOOKUP_KEY") or [development_key("booking-lookup")]

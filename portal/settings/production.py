"""Production: everything secret or site-specific comes from the environment."""

import json
import os

from cryptography.fernet import Fernet, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = False
try:
    SECRET_KEY = os.environ["SECRET_KEY"]
except KeyError as missing:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment.") from missing
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The site's own address: links in messages to residents and in staff emails.
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "").strip()
if not WAGTAILADMIN_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        "生产环境必须设置 WAGTAILADMIN_BASE_URL 为网站的正式地址(例如 https://www.example.gov.cn),"
        "短信和邮件中的链接都用它。"
        " / Set WAGTAILADMIN_BASE_URL to the site's address, e.g. https://www.example.gov.cn."
    )

# How long one statement may wait for a lock, and run at all, on PostgreSQL.
# A stuck lock then ends as the booking form's 系统繁忙 (503, the form kept)
# instead of holding every gunicorn worker until its 30 s timeout kills it with
# a bare English error. The statement limit stays below gunicorn's --timeout
# (docs/deploy.md). pg_dump and pg_restore use connections of their own without
# these limits; the ANALYZE after a restore or bulk load lifts them for itself.
DB_LOCK_TIMEOUT_MS = int(os.environ.get("DB_LOCK_TIMEOUT_MS", "5000"))
DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "20000"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (  # noqa: F405
        f"-c lock_timeout={DB_LOCK_TIMEOUT_MS} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    )

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "true").lower() == "true"
# The cookies are sent over HTTPS only, whoever redirects plain HTTP (Django, or
# nginx with SECURE_SSL_REDIRECT=false). Only a machine served over plain HTTP
# on purpose (a closed test network) turns them off.
SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "true").lower() == "true"
CSRF_COOKIE_SECURE = os.environ.get("CSRF_COOKIE_SECURE", "true").lower() == "true"
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Ask to be on the browsers' HSTS preload list. A site that must not be preloaded
# sets SECURE_HSTS_PRELOAD=false, and the deploy check stops asking for it.
SECURE_HSTS_PRELOAD = os.environ.get("SECURE_HSTS_PRELOAD", "true").lower() == "true"
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

PAGE_CACHE_ENABLED = os.environ.get("PAGE_CACHE_ENABLED", "true").lower() == "true"

# The reverse proxy in front of gunicorn; it reports the visitor in X-Real-IP.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")

# Residents' booking data: keys of this site's own, never the development ones.
BOOKING_DATA_KEYS = keys_from_env("BOOKING_DATA_KEY")  # noqa: F405
BOOKING_LOOKUP_KEYS = keys_from_env("BOOKING_LOOKUP_KEY")  # noqa: F405
if not (BOOKING_DATA_KEYS and BOOKING_LOOKUP_KEYS):
    raise ImproperlyConfigured(
        "Set BOOKING_DATA_KEY and BOOKING_LOOKUP_KEY in the environment (docs/booking.md)."
    )
try:
    MultiFernet([Fernet(key) for key in BOOKING_DATA_KEYS])
except ValueError as bad_key:
    raise ImproperlyConfigured(
        "BOOKING_DATA_KEY must be Fernet keys (URL-safe base64 of 32 bytes), comma-separated."
    ) from bad_key

if os.environ.get("REDIS_URL"):
    # One cache shared by every app process (pages and renditions). The site keeps
    # working without it (portal.core.cache); rate limits count in the database.
    CACHES = {
        "default": {
            "BACKEND": "portal.core.cache.TolerantRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "jjl",
        },
        "renditions": {
            "BACKEND": "portal.core.cache.TolerantRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "jjl-renditions",
            "TIMEOUT": 60 * 60 * 24,
        },
    }
elif os.environ.get("SINGLE_PROCESS", "false").lower() != "true":
    # Each process's local-memory cache would keep serving pages another process
    # has republished, for up to PAGE_CACHE_SECONDS.
    raise ImproperlyConfigured(
        "Set REDIS_URL: the app processes must share one cache. "
        "Only a single app process may do without (SINGLE_PROCESS=true)."
    )

# Residents must receive their confirmations and reminders: production does not
# start with messages going only to the console (where they would be marked sent
# and lost) unless ALLOW_CONSOLE_MESSAGES=true says this is a staging machine.
ALLOW_CONSOLE_MESSAGES = os.environ.get("ALLOW_CONSOLE_MESSAGES", "false").lower() == "true"
# Backends that only print or keep texts (the benchmark's and tests' files too).
CONSOLE_SMS_BACKENDS = {
    "portal.core.sms.ConsoleBackend",
    "portal.core.sms.MemoryBackend",
    "phone_outbox.FileBackend",
    "tests.counseling.fault_worker.FileBackend",
}
# COUNSELING_SMS_BACKEND is the name the setting had when only bookings sent texts.
# "aliyun" and "tencent" name the two providers' backends (portal.core.sms_gateways).
SMS_GATEWAYS = {
    "aliyun": "portal.core.sms_gateways.AliyunBackend",
    "tencent": "portal.core.sms_gateways.TencentBackend",
}
SMS_BACKEND = (
    os.environ.get("SMS_BACKEND")
    or os.environ.get("COUNSELING_SMS_BACKEND")
    or "portal.core.sms.ConsoleBackend"
)
SMS_BACKEND = SMS_GATEWAYS.get(SMS_BACKEND, SMS_BACKEND)
# The provider's approved signature and template ids ({"booking_confirmation":
# "SMS_123456789", ...} as JSON; `manage.py check` names any kind missing),
# the keys, and for Tencent Cloud the SMS application's SdkAppId.
SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "")
SMS_TEMPLATES = json.loads(os.environ.get("SMS_TEMPLATES") or "{}")
SMS_ACCESS_KEY_ID = os.environ.get("SMS_ACCESS_KEY_ID", "")
SMS_ACCESS_KEY_SECRET = os.environ.get("SMS_ACCESS_KEY_SECRET", "")
SMS_SDK_APP_ID = os.environ.get("SMS_SDK_APP_ID", "")
SMS_REGION = os.environ.get("SMS_REGION", "")
SMS_ENDPOINT = os.environ.get("SMS_ENDPOINT", "")
SMS_TIMEOUT_SECONDS = int(os.environ.get("SMS_TIMEOUT_SECONDS", "10"))

if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "true").lower() == "true"
elif not ALLOW_CONSOLE_MESSAGES:
    raise ImproperlyConfigured(
        "生产环境必须配置发信服务器:请设置 EMAIL_HOST(以及 EMAIL_PORT、EMAIL_HOST_USER、"
        "EMAIL_HOST_PASSWORD)。否则预约确认邮件只会输出到控制台却被记为已发送。"
        "仅供测试的预发布机器可设置 ALLOW_CONSOLE_MESSAGES=true。"
        " / Set EMAIL_HOST, or ALLOW_CONSOLE_MESSAGES=true on a staging machine."
    )

if SMS_BACKEND in CONSOLE_SMS_BACKENDS and not ALLOW_CONSOLE_MESSAGES:
    raise ImproperlyConfigured(
        "生产环境必须配置短信网关:请把 SMS_BACKEND 设为对接短信服务商的类"
        "(带 send(mobile, text) 方法,见 docs/booking.md)。否则预约短信只会输出到控制台"
        "却被记为已发送。仅供测试的预发布机器可设置 ALLOW_CONSOLE_MESSAGES=true。"
        " / Set SMS_BACKEND to a real SMS backend, or ALLOW_CONSOLE_MESSAGES=true"
        " on a staging machine."
    )

LOGGING["root"]["level"] = os.environ.get("LOG_LEVEL", "INFO")  # noqa: F405

"""Production settings come from the environment and share one Redis cache."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
import re
import django
from django.conf import settings
from django.core.cache import caches
django.setup()
cache = caches["default"]
cache.set("probe", "共享缓存", 30)
print(json.dumps({
    "debug": settings.DEBUG,
    "backend": settings.CACHES["default"]["BACKEND"],
    "value": cache.get("probe"),
    "hosts": settings.ALLOWED_HOSTS,
    "ssl": settings.SECURE_SSL_REDIRECT,
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "base_url": settings.WAGTAILADMIN_BASE_URL,
    "email": settings.EMAIL_BACKEND,
    "sms": settings.SMS_BACKEND,
    "database": {
        key: settings.DATABASES["default"][key] for key in ("CONN_HEALTH_CHECKS", "OPTIONS")
    },
}))
"""

# What a real deployment sets for message delivery.
DELIVERY = {
    "EMAIL_HOST": "smtp.example.gov.cn",
    "SMS_BACKEND": "jinjialing_sms.ProviderBackend",
}
MESSAGE_SETTINGS = ("EMAIL_HOST", "SMS_BACKEND", "ALLOW_CONSOLE_MESSAGES")


# Throwaway keys and the site's address: production refuses to start without them.
BOOKING_KEYS = {
    # One app process, so no shared cache is needed (REDIS_URL where a test wants one).
    "SINGLE_PROCESS": "true",
    "BOOKING_DATA_KEY": "dGVzdC1vbmx5LWJvb2tpbmctZGF0YS1rZXktMzJieXQ=",
    "BOOKING_LOOKUP_KEY": "test-only-lookup-key",
    "WAGTAILADMIN_BASE_URL": "https://www.example.gov.cn",
}


def run_with(env):
    """Import the production settings in a fresh process with `env` on top of
    this one's environment, minus any message settings it happens to have."""
    inherited = {key: value for key, value in os.environ.items() if key not in MESSAGE_SETTINGS}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            **BOOKING_KEYS,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


def facts_of(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def redis_available():
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def test_production_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings.production"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.skipif(
    not redis_available() and not os.environ.get("CI"),
    reason="Redis is not running on 127.0.0.1:6379",
)
def test_production_uses_the_shared_redis_cache_from_redis_url():
    facts = facts_of(
        run_with(
            {
                "SECRET_KEY": "x" * 50,
                "REDIS_URL": "redis://127.0.0.1:6379/15",
                "ALLOWED_HOSTS": "www.example.gov.cn",
                **DELIVERY,
            }
        )
    )
    assert facts["debug"] is False
    assert facts["backend"] == "portal.core.cache.TolerantRedisCache"
    assert facts["value"] == "共享缓存"  # written to and read back from Redis
    assert facts["hosts"] == ["www.example.gov.cn"]
    assert facts["ssl"] is True


def test_production_refuses_to_start_without_a_shared_cache():
    result = run_with({"SECRET_KEY": "x" * 50, **DELIVERY, "SINGLE_PROCESS": "", "REDIS_URL": ""})
    assert result.returncode != 0
    assert "Set REDIS_URL" in result.stderr


def test_production_refuses_to_start_without_a_mail_server():
    result = run_with({"SECRET_KEY": "x" * 50, **DELIVERY, "EMAIL_HOST": ""})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EMAIL_HOST" in result.stderr
    assert "ALLOW_CONSOLE_MESSAGES=true" in result.stderr


@pytest.mark.parametrize("console", ["", "portal.core.sms.ConsoleBackend"])
def test_production_refuses_to_start_with_sms_going_to_the_console(console):
    result = run_with({"SECRET_KEY": "x" * 50, **DELIVERY, "SMS_BACKEND": console})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SMS_BACKEND" in result.stderr


def test_production_sends_mail_by_smtp_and_sms_through_the_configured_backend():
    facts = facts_of(run_with({"SECRET_KEY": "x" * 50, **DELIVERY}))
    assert facts["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert facts["sms"] == "jinjialing_sms.ProviderBackend"


def test_staging_may_opt_in_to_console_messages():
    facts = facts_of(run_with({"SECRET_KEY": "x" * 50, "ALLOW_CONSOLE_MESSAGES": "true"}))
    assert facts["email"] == "django.core.mail.backends.console.EmailBackend"
    assert facts["sms"] == "portal.core.sms.ConsoleBackend"


@pytest.mark.parametrize("base_url", ["", "jinjialing.example"])
def test_production_refuses_to_start_without_the_sites_address(base_url):
    result = run_with({"SECRET_KEY": "x" * 50, **DELIVERY, "WAGTAILADMIN_BASE_URL": base_url})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "WAGTAILADMIN_BASE_URL" in result.stderr


def test_links_in_messages_use_the_sites_address():
    facts = facts_of(run_with({"SECRET_KEY": "x" * 50, **DELIVERY}))
    assert facts["base_url"] == "https://www.example.gov.cn"


def test_cookies_stay_secure_when_nginx_does_the_https_redirect():
    facts = facts_of(run_with({"SECRET_KEY": "x" * 50, **DELIVERY, "SECURE_SSL_REDIRECT": "false"}))
    assert facts["ssl"] is False
    assert facts["secure_cookies"] == [True, True]


def test_postgresql_gives_up_on_locks_and_slow_statements_before_gunicorn_does():
    settings = facts_of(
        run_with(
            {
                "SECRET_KEY": "x" * 50,
                "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
                **DELIVERY,
            }
        )
    )
    options = settings["database"]["OPTIONS"]["options"]
    limits = dict(re.findall(r"-c (\w+)=(\d+)", options))
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    gunicorn_timeout = int(
        re.search(r"gunicorn portal.wsgi:application.*?--timeout (\d+)", deploy, re.S).group(1)
    )
    assert 0 < int(limits["lock_timeout"]) <= 10_000
    assert 0 < int(limits["statement_timeout"]) < gunicorn_timeout * 1000
    assert settings["database"]["CONN_HEALTH_CHECKS"] is True
    # Workers restarted together by --max-requests stalled every request for
    # seconds (docs/performance.md): the deployment does not ask for it.
    assert "--max-requests" not in deploy.split("[Install]")[0]

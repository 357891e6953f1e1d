"""Security headers and the production deploy check.

Every public response, booking pages, search and error pages included, carries
the strict Content-Security-Policy (only the site's own files, no inline script
or style, no framing) together with Permissions-Policy, nosniff, Referrer-Policy
and X-Frame-Options; the Wagtail admin gets its own, looser policy. Cookies are
HttpOnly and SameSite=Lax. Templates hold no inline script, style or event
handler, so the strict policy never breaks a page."""

import os
import re
import secrets
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path

import html5lib
import pytest
from cryptography.fernet import Fernet
from django.core.cache import caches
from django.http import HttpResponse
from django.urls import include, path, reverse
from django.views.generic import TemplateView
from wagtail.models import PageViewRestriction

from portal.core.views import COOKIE
from portal.news.models import NewsIndexPage, NewsPage

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

STRICT_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def crash(request):
    raise RuntimeError("a fault in a view")


def nonce_page(request):
    return HttpResponse(f'<script nonce="{request.csp_nonce}">document.title = "x";</script>')


# The site's own URLs, plus a view that fails and one that uses the CSP nonce.
urlpatterns = [
    path("crash/", crash),
    path("uses-a-nonce/", nonce_page),
    path("plain/", TemplateView.as_view(template_name="robots.txt", content_type="text/html")),
    path("", include("portal.urls")),
]


def directives(response):
    policy = response["Content-Security-Policy"]
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )


def assert_strict_policy(response):
    found = directives(response)
    for name, value in STRICT_DIRECTIVES.items():
        assert found.get(name) == value, f"{name} is {found.get(name)!r} for {response.request}"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "nonce" not in response["Content-Security-Policy"]


def assert_other_headers(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


@pytest.fixture
def news(home):
    index = home.add_child(instance=NewsIndexPage(title="政策新闻", slug="news"))
    return index.add_child(
        instance=NewsPage(title="社区开展消防演练", slug="fire-drill", intro="演练在周六上午。")
    )


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("/", 200),
        ("/news/", 200),
        ("/news/fire-drill/", 200),
        ("/search/?q=消防", 200),
        ("/counseling/", 200),
        ("/yuyue/", 200),
        ("/no-such-page/", 404),
        ("/sitemap.xml", 200),
    ],
)
def test_public_and_booking_pages_get_the_strict_policy_and_headers(client, news, address, status):
    response = client.get(address)
    assert response.status_code == status
    assert_strict_policy(response)
    assert_other_headers(response)


@pytest.mark.urls(__name__)
def test_server_error_page_gets_the_strict_policy(client, home):
    client.raise_request_exception = False
    response = client.get("/crash/")
    assert response.status_code == 500
    assert "服务器暂时出错" in response.content.decode()
    assert_strict_policy(response)
    assert_other_headers(response)


def test_admin_gets_its_own_policy_that_allows_its_inline_code_and_previews(client, home):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    found = directives(response)
    assert found["script-src"] == "'self' 'unsafe-inline'"
    assert found["style-src"] == "'self' 'unsafe-inline'"
    # Page previews are shown in a frame of the admin itself.
    assert found["frame-ancestors"] == "'self'"
    assert found["object-src"] == "'none'"
    assert found["default-src"] == "'self'"


def test_cached_page_gets_the_strict_policy_on_every_serve(client, news, settings):
    settings.PAGE_CACHE_ENABLED = True
    first = client.get("/news/fire-drill/")
    second = client.get("/news/fire-drill/")
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    for response in (first, second):
        assert_strict_policy(response)
        assert_other_headers(response)
    # The HTML needs nothing the policy forbids: scripts and styles are files.
    document = html5lib.parse(second.content.decode(), namespaceHTMLElements=False)
    assert not [s for s in document.iter("script") if not s.get("src")]
    assert not list(document.iter("style"))
    assert not [e.tag for e in document.iter() if isinstance(e.tag, str) and "style" in e.attrib]


@pytest.mark.urls(__name__)
def test_a_page_that_used_a_nonce_is_never_served_from_the_cache(client, home, settings):
    settings.PAGE_CACHE_ENABLED = True
    nonces = []
    for _ in range(2):
        response = client.get("/uses-a-nonce/")
        assert "X-Page-Cache" not in response
        in_page = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
        assert f"'nonce-{in_page}'" in directives(response)["script-src"]
        nonces.append(in_page)
    assert nonces[0] != nonces[1]
    # A page without a nonce is still stored, with no nonce in either header.
    first, second = client.get("/plain/"), client.get("/plain/")
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert "nonce" not in second["Content-Security-Policy"]
    caches["default"].clear()


PUBLIC_TEMPLATES = [
    template
    for template in (ROOT / "templates").rglob("*.html")
    if "admin" not in template.relative_to(ROOT / "templates").parts
]
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>"  # a script without src
    r"|<style\b"  # a style block
    r"|\sstyle=[\"']"  # a style attribute
    r"|\son[a-z]+=[\"']"  # an event handler attribute
    r"|javascript:",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "template", PUBLIC_TEMPLATES, ids=lambda t: str(t.relative_to(ROOT / "templates"))
)
def test_public_templates_have_no_inline_script_style_or_handlers(template):
    assert not INLINE_CODE.findall(template.read_text(encoding="utf-8"))


def cookie_attributes(response, name):
    morsel = SimpleCookie(response.cookies[name].output(header="")).get(name)
    return {
        "httponly": bool(morsel["httponly"]),
        "samesite": morsel["samesite"],
        "secure": bool(morsel["secure"]),
    }


def test_elder_mode_cookie_is_httponly_lax_and_secure_under_https(client, home, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = client.get("/zhangbei/?next=/")
    assert cookie_attributes(response, COOKIE) == {
        "httponly": True,
        "samesite": "Lax",
        "secure": True,
    }


def test_session_and_csrf_cookies_are_httponly_and_lax(client, news):
    """A password-protected page: its form sets the CSRF cookie, and the right
    password opens a session."""
    restriction = PageViewRestriction.objects.create(
        page=news, restriction_type=PageViewRestriction.PASSWORD, password="xiaofang"
    )
    form_page = client.get("/news/fire-drill/")
    csrf = cookie_attributes(form_page, "csrftoken")
    assert (csrf["httponly"], csrf["samesite"]) == (True, "Lax")
    assert_strict_policy(form_page)
    response = client.post(
        reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, news.pk]),
        {"password": "xiaofang", "return_url": "/news/fire-drill/"},
    )
    assert response.status_code == 302
    session = cookie_attributes(response, "sessionid")
    assert (session["httponly"], session["samesite"]) == (True, "Lax")


def production_environment(**overrides):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "REDIS_URL", "DJANGO_"))
    }
    return {
        **environment,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "www.example.gov.cn",
        "CSRF_TRUSTED_ORIGINS": "https://www.example.gov.cn",
        "WAGTAILADMIN_BASE_URL": "https://www.example.gov.cn",
        # Production refuses to start without real message delivery and booking data keys.
        "EMAIL_HOST": "smtp.example.gov.cn",
        "SMS_BACKEND": "tests.provider_sms.ProviderBackend",
        "BOOKING_DATA_KEY": Fernet.generate_key().decode(),
        "BOOKING_LOOKUP_KEY": secrets.token_urlsafe(32),
        "SINGLE_PROCESS": "true",
        **overrides,
    }


def deploy_check(environment):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("preload", ["true", "false"])
def test_production_settings_pass_the_deploy_check_without_warnings(preload):
    result = deploy_check(production_environment(SECURE_HSTS_PRELOAD=preload))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def test_the_site_policy_is_built_once_and_follows_its_setting(client, home, settings):
    from csp.utils import build_policy

    from portal.core import security

    assert client.get("/")["Content-Security-Policy"] == build_policy()
    assert security.site_policy.cache_info().currsize >= 1
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "img-src": ["'none'"]}
    }
    assert directives(client.get("/"))["img-src"] == "'none'"
    assert "Content-Security-Policy-Report-Only" not in client.get("/")

"""长辈模式 (elder mode): large text, high contrast and one column, chosen per visitor.

Pages are the same HTML for everyone so they can be cached whole; the choice lives
in a cookie and only the small /zhangbei/style.css response depends on it."""

import functools
import hashlib
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_GET
from django.views.decorators.vary import vary_on_cookie

COOKIE = "elder"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60
STYLESHEET = Path(__file__).resolve().parent / "static" / "css" / "elder.css"


@functools.cache
def elder_css():
    """The elder stylesheet, read from disk once per process."""
    return STYLESHEET.read_text(encoding="utf-8")


def is_elder(request):
    return request.COOKIES.get(COOKIE) == "1"


def _stylesheet_for(request):
    return elder_css() if is_elder(request) else ""


def _etag(request):
    return hashlib.sha256(_stylesheet_for(request).encode()).hexdigest()[:16]


@require_GET
@cache_control(private=True, no_store=True)
def toggle(request):
    """Turn 长辈模式 on or off and go back to the page the switch was on.

    A plain link rather than a form, so it works without JavaScript; robots.txt and
    rel="nofollow" keep crawlers away from it."""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if is_elder(request):
        response.delete_cookie(COOKIE, samesite="Lax")
    else:
        response.set_cookie(
            COOKIE,
            "1",
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            # Only the server reads it, to choose the stylesheet.
            httponly=True,
        )
    return response


@require_GET
@vary_on_cookie
@cache_control(private=True, no_cache=True)
@condition(etag_func=_etag)
def stylesheet(request):
    """The elder styles for visitors who chose them, an empty stylesheet for everyone else.

    The browser revalidates it on every page (no-cache) and gets a 304 while the
    choice is unchanged, so switching takes effect on the very next page."""
    return HttpResponse(_stylesheet_for(request), content_type="text/css; charset=utf-8")

"""Request-level rules for staff: sessions that end on time, and a second factor
before any admin page."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import sessions, two_factor

TIMEOUT_MESSAGES = {
    sessions.IDLE: _("您已较长时间没有操作,为保护数据已自动退出登录,请重新登录。"),
    sessions.ABSOLUTE: _("您本次登录已超过 12 小时,为保护数据已自动退出登录,请重新登录。"),
}


def is_admin_path(path):
    return path.startswith(reverse("wagtailadmin_home"))


class StaffSessionTimeoutMiddleware:
    """Log a staff member out after STAFF_SESSION_IDLE_TIMEOUT without a request or
    STAFF_SESSION_ABSOLUTE_TIMEOUT after the login; the request then goes on as an
    anonymous one, so the admin and private pages ask for a new login.

    Visitors without a session cookie are not looked at, so public pages do not
    start varying on the cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            reason = sessions.expiry_reason(request.session)
            if reason:
                request.staff_session_end_reason = reason
                logout(request)
                if is_admin_path(request.path):
                    messages.warning(request, TIMEOUT_MESSAGES[reason])
            else:
                sessions.mark_seen(request.session)
        return self.get_response(request)


class AdminTwoFactorMiddleware:
    """With ADMIN_REQUIRE_2FA, a staff member signed in with a password alone is sent
    from any admin page to the code check (or, without an authenticator yet, to
    set one up). The login, logout, the two-factor pages themselves and the admin's
    script and icon files stay reachable, so nothing loops."""

    OPEN_VIEWS = {
        "wagtailadmin_login",
        "wagtailadmin_logout",
        "wagtailadmin_javascript_catalog",
        "wagtailadmin_sprite",
        two_factor.VERIFY_VIEW,
        two_factor.ENROL_VIEW,
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.ADMIN_REQUIRE_2FA or not is_admin_path(request.path):
            return None
        if request.resolver_match.view_name in self.OPEN_VIEWS:
            return None
        user = request.user
        if not two_factor.needs_verification(user):
            return None
        target = reverse(
            two_factor.VERIFY_VIEW if two_factor.device_of(user) else two_factor.ENROL_VIEW
        )
        if request.method == "GET":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        return HttpResponseRedirect(target)

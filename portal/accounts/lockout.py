"""django-axes' hooks: the visitor's address it counts failures by, and the page a
locked-out login gets."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from portal.core.clients import client_address, client_network

from .middleware import is_admin_path


def client_ip(request):
    """The address failures are counted by: the visitor's by the booking limits'
    rule (X-Real-IP only from a trusted proxy), an IPv6 visitor's /64 network, or
    None when there is no valid one (axes keeps addresses in an IP column, which
    PostgreSQL checks)."""
    return client_network(client_address(request))


def locked_out(request, original_response=None, credentials=None):
    """The lockout response (AXES_LOCKOUT_CALLABLE): a page in Chinese, in the
    admin's look for the admin login and the site's look for the staff login."""
    template = (
        "accounts/locked_out_admin.html"
        if is_admin_path(request.path)
        else "accounts/locked_out.html"
    )
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        template,
        {"cooloff_minutes": minutes, "page_title": _("登录已暂时锁定")},
        status=429,  # Too Many Requests, as django-axes answers by default
    )

"""Content-Security-Policy: one strict policy for the public site, a looser one for /admin/.

Public pages load nothing but the site's own files: no inline script or style,
no event handler attributes, so their policy needs neither 'unsafe-inline' nor a
nonce, and the page cache can hand the same HTML to every visitor. The Wagtail
admin (and page previews, which render under /admin/) writes inline scripts and
styles of its own, so it gets ADMIN_CONTENT_SECURITY_POLICY instead.
"""

import functools

from csp import middleware as csp_middleware
from csp.middleware import CSPMiddleware
from csp.utils import build_policy, default_config
from django.conf import settings
from django.core.signals import setting_changed

ADMIN_PREFIX = "/admin/"


@functools.cache
def site_policy(report_only):
    """The site's own policy as django-csp writes it, built from settings once
    per process rather than for every response (a tenth of the CPU of a page
    served from the page cache)."""
    return build_policy(report_only=report_only)


def _build_policy(config=None, update=None, replace=None, nonce=None, report_only=False):
    if config is None and update is None and replace is None and nonce is None:
        return site_policy(report_only)
    return build_policy(config, update, replace, nonce, report_only)


def _forget_site_policy(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        site_policy.cache_clear()


def build_the_site_policy_once():
    """Answer django-csp's policy for a response that changes nothing of it
    (no view decorator, no nonce, not the admin) from site_policy()."""
    csp_middleware.build_policy = _build_policy
    setting_changed.connect(_forget_site_policy, dispatch_uid="security-forget-site-policy")


def admin_policy():
    return default_config(settings.ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"])


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin policy for the Wagtail admin."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        # A view's own @csp decorator still wins over the admin policy.
        if not report_only and parts.config is None and request.path_info.startswith(ADMIN_PREFIX):
            parts.config = admin_policy()
        return parts

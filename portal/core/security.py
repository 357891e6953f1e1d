"""Content-Security-Policy: one strict policy for the public site, a looser one for /admin/.

Public pages load nothing but the site's own files: no inline script or style,
no event handler attributes, so their policy needs neither 'unsafe-inline' nor a
nonce, and the page cache can hand the same HTML to every visitor. The Wagtail
admin (and page previews, which render under /admin/) writes inline scripts and
styles of its own, so it gets ADMIN_CONTENT_SECURITY_POLICY instead.
"""

from csp.middleware import CSPMiddleware
from csp.utils import default_config
from django.conf import settings

ADMIN_PREFIX = "/admin/"


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

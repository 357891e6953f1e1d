from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Staff account security: login lockout, two-factor sign-in for the admin,
    session time limits and the audit log of sign-ins."""

    name = "portal.accounts"
    label = "accounts"
    verbose_name = _("员工账户")

    def ready(self):
        from . import signals  # noqa: F401  (connects the audit-log receivers)

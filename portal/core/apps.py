from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "portal.core"
    label = "core"
    verbose_name = _("站点公共部分")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import (  # noqa: F401 - checks register themselves; the code's SMS template
            checks,
            lookups,
            pagecache,
            security,
            verification,
            wagtail_compat,
        )
        from .permissions import name_permissions

        pagecache.connect_signals()
        lookups.connect_signals()
        wagtail_compat.apply()
        security.build_the_site_policy_once()
        post_migrate.connect(name_permissions, dispatch_uid="core.name_permissions")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceRequestsConfig(AppConfig):
    name = "portal.service_requests"
    label = "service_requests"
    verbose_name = _("居民诉求")

    def ready(self):
        from django.db.models.signals import post_save

        from . import notifications  # noqa: F401 - its SMS templates, for the start-up check
        from .answers import reindex_answers
        from .models import Category, Unit

        # Search finds published answers by their category's and place's names.
        post_save.connect(reindex_answers, sender=Category, dispatch_uid="reindex_answers_category")
        post_save.connect(reindex_answers, sender=Unit, dispatch_uid="reindex_answers_unit")

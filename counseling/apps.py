from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounselingConfig(AppConfig):
    name = "counseling"
    label = "counseling"
    verbose_name = _("心理咨询")

    def ready(self):
        from . import notifications, signals  # noqa: F401 - its SMS templates, for the start-up check

        signals.connect()

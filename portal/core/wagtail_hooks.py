"""Admin wiring for what every section shares: the statutory calendar that staff
own (节假日安排, under 设置), and the dashboard warning when something counts
days into a year the calendar does not know."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy

from . import workdays
from .models import HolidayArrangement

# Sections register a function under this hook that returns the furthest day they
# count to now (the booking horizon, a due date), or None.
LOOKAHEAD_HOOK = "register_workdays_lookahead"
# Warn this long before a horizon reaches an unknown year, so there is time to
# enter the State Council's notice (usually published in November).
WARNING_LEAD = datetime.timedelta(days=30)


class HolidayArrangementViewSet(ModelViewSet):
    model = HolidayArrangement
    icon = "date"
    menu_label = _("节假日安排")
    add_to_settings_menu = True
    copy_view_enabled = False
    list_display = ["year", "notice"]
    search_fields = None
    ordering = "-year"


@hooks.register("register_admin_viewset")
def register_holiday_arrangements():
    return HolidayArrangementViewSet("holiday_arrangements", url_prefix="holidays")


def furthest_counted_day(today):
    days = [day for fn in hooks.get_hooks(LOOKAHEAD_HOOK) if (day := fn(today))]
    return max(days, default=today)


class UnknownHolidaysPanel(Component):
    """A dashboard warning: these years' holidays have not been entered."""

    name = "unknown_holidays"
    order = 10
    template_name = "core/admin/unknown_holidays_panel.html"

    def __init__(self, years, reached):
        self.years = years
        self.reached = reached

    def get_context_data(self, parent_context):
        return {
            "years": self.years,
            "reached": self.reached,
            "statutory_days": [
                (year, sorted(workdays.statutory_days(year).items())) for year in self.years
            ],
        }


def unknown_years_ahead(today=None):
    """(years, reached): the years between today and the furthest counted day
    (plus the warning lead) that only the law's fallback covers, and whether a
    horizon already reaches into one of them."""
    today = today or timezone.localdate()
    furthest = furthest_counted_day(today)
    years = workdays.unknown_years(today, furthest + WARNING_LEAD)
    reached = any(year <= furthest.year for year in years)
    return years, reached


@hooks.register("construct_homepage_panels")
def warn_about_unknown_holidays(request, panels):
    policy = ModelPermissionPolicy(HolidayArrangement)
    if not policy.user_has_any_permission(request.user, ["add", "change"]):
        return
    years, reached = unknown_years_ahead()
    if years:
        panels.append(UnknownHolidaysPanel(years, reached))

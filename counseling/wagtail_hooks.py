"""The coordinators' admin under one menu, 心理咨询: rooms with their booking
rules, counsellors, opening hours and duty shifts (weekday boxes and time
pickers), closures, holiday openings, bookings, the week schedule, the
figures (心理咨询数据) and the read-only access log.

Booking data and the access log have their own permission policies (admin_views):
only coordinators and superusers see them. Bookings are a plain ModelViewSet, not a
snippet, so there is no chooser, and they are not indexed for search, so Wagtail's
global admin search never lists them."""

import datetime

from django.db.models import Max
from django.urls import path
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, TitleColumn
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from portal.core.admin_forms import CLOSED_DAYS_HOOK
from portal.core.lookups import cached
from portal.core.viewsets import ReadOnlyViewSetMixin
from portal.core.wagtail_hooks import LOOKAHEAD_HOOK
from portal.home.sections import HOME_SECTION_HOOK

from . import admin_views, figures_views
from .admin_forms import ClosureForm, WeeklyTimesForm, bookings_on_closed_days
from .bulk_actions import CancelBookingsBulkAction
from .models import (
    Booking,
    BookingAccessLog,
    Closure,
    Counsellor,
    DutyShift,
    HolidayOpening,
    OpeningHours,
    Room,
    WaitlistEntry,
)

# Registered before any viewset asks for a policy, as Wagtail requires.
register_permission_policy(Booking, admin_views.CoordinatorPermissionPolicy(Booking))
register_permission_policy(
    BookingAccessLog, admin_views.AccessLogPermissionPolicy(BookingAccessLog)
)
register_permission_policy(WaitlistEntry, admin_views.CoordinatorPermissionPolicy(WaitlistEntry))


class CounselingViewSet(ModelViewSet):
    """The schedule-setting viewsets: URLs under /admin/counseling/."""

    add_to_admin_menu = False
    copy_view_enabled = False

    @property
    def url_prefix(self):
        return f"counseling/{self.model_name}"

    @property
    def url_namespace(self):
        return f"counseling_{self.model_name}"

    @property
    def menu_name(self):
        return f"counseling-{self.model_name}"


class RoomViewSet(CounselingViewSet):
    model = Room
    icon = "home"
    menu_label = _("咨询室")
    list_display = [
        "name",
        "district",
        "address",
        "session_minutes",
        "buffer_minutes",
        "min_notice_hours",
        "horizon_days",
        "daily_cap",
        "is_active",
    ]
    list_filter = ["location", "is_active"]
    search_fields = ["name", "address"]


class CounsellorViewSet(CounselingViewSet):
    model = Counsellor
    icon = "user"
    menu_label = _("咨询师")
    form_fields = ["name", "title", "bio", "display_name", "shown_to_residents", "is_active"]
    list_display = ["name", "title", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "title"]
    search_backend_name = None


def weekly_times_panels(*first):
    return ObjectList(
        [
            *first,
            FieldPanel("weekdays"),
            FieldRowPanel([FieldPanel("start_time"), FieldPanel("end_time")]),
            MultiFieldPanel([FieldPanel("starts_on"), FieldPanel("ends_on")], heading=_("有效期")),
        ],
        base_form_class=WeeklyTimesForm,
    )


class OpeningHoursViewSet(CounselingViewSet):
    model = OpeningHours
    icon = "time"
    menu_label = _("开放时间")
    edit_handler = weekly_times_panels(FieldPanel("room"))
    list_display = ["room", "weekday_display", "start_time", "end_time", "starts_on", "ends_on"]
    list_filter = ["room"]


class DutyShiftViewSet(CounselingViewSet):
    model = DutyShift
    icon = "user"
    menu_label = _("值班安排")
    edit_handler = weekly_times_panels(FieldPanel("room"), FieldPanel("counsellor"))
    list_display = [
        "counsellor",
        "room",
        "weekday_display",
        "start_time",
        "end_time",
        "starts_on",
        "ends_on",
    ]
    list_filter = ["room", "counsellor"]


class ClosureViewSet(CounselingViewSet):
    model = Closure
    icon = "warning"
    menu_label = _("临时关闭")
    edit_handler = ObjectList(
        [
            FieldPanel("room"),
            FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
            FieldPanel("reason"),
            FieldPanel("affected_bookings"),
        ],
        base_form_class=ClosureForm,
    )
    list_display = ["reason", "room", "starts_at", "ends_at"]
    list_filter = ["room"]


class HolidayOpeningViewSet(CounselingViewSet):
    model = HolidayOpening
    icon = "date"
    menu_label = _("节假日开放")
    form_fields = ["room", "date", "note"]
    list_display = ["date", "room", "note"]
    list_filter = ["room"]


class ReadOnlyViewSet(ReadOnlyViewSetMixin, CounselingViewSet):
    pass


class BookingViewSet(ReadOnlyViewSet):
    model = Booking
    icon = "list-ul"
    menu_label = _("预约")
    index_view_class = admin_views.BookingIndexView
    inspect_view_class = admin_views.BookingInspectView
    inspect_view_enabled = True
    ordering = "starts_at"
    list_per_page = 50
    filterset_class = admin_views.BookingFilterSet
    # Found by reference or a whole mobile through the list's own search, sent by
    # POST (admin_views.BookingSearchView), never through Wagtail's ?q= search:
    # a mobile in a query string lands in access logs.
    search_fields = None
    search_backend_name = None
    list_display = [
        BulkActionsCheckboxColumn("bulk_actions", obj_type="booking"),
        TitleColumn(
            "reference",
            label=_("预约编号"),
            accessor="reference_display",
            sort_key="reference",
            url_name="counseling_booking:inspect",
            get_title_id=lambda booking: f"booking_{booking.pk}_title",
        ),
        Column("room", label=_("咨询室"), sort_key="room"),
        Column(
            "starts_at", label=_("时间"), accessor=admin_views.local_times, sort_key="starts_at"
        ),
        Column("status", label=_("状态"), accessor="get_status_display", sort_key="status"),
        Column("visit_type", label=_("咨询类型"), accessor="get_visit_type_display"),
        Column("name", label=_("称呼")),
    ]
    list_export = [
        "reference",
        "room",
        "starts_at",
        "ends_at",
        "counsellor",
        "get_status_display",
        "get_visit_type_display",
        "name",
    ]
    export_headings = {
        "reference": _("预约编号"),
        "room": _("咨询室"),
        "starts_at": _("开始时间"),
        "ends_at": _("结束时间"),
        "counsellor": _("咨询师"),
        "get_status_display": _("状态"),
        "get_visit_type_display": _("咨询类型"),
        "name": _("称呼"),
    }
    inspect_view_fields = [
        "reference_display",
        "room",
        "counsellor",
        "starts_at",
        "status",
        "visit_type",
        "name",
        "mobile",
        "email",
        "note",
        "created_at",
        "cancelled_at",
        "cancel_reason",
        "personal_data_erased_at",
    ]

    def get_action_view_kwargs(self):
        return {"inspect_url_name": self.get_url_name("inspect")}

    def get_urlpatterns(self):
        action_kwargs = self.get_action_view_kwargs()
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/", self.inspect_view, name="inspect"),
            path("search/", admin_views.BookingSearchView.as_view(), name="search"),
            path(
                "<int:pk>/cancel/",
                admin_views.CancelBookingView.as_view(**action_kwargs),
                name="cancel",
            ),
            path(
                "<int:pk>/follow-up/",
                admin_views.FollowUpView.as_view(**action_kwargs),
                name="follow_up",
            ),
            path(
                "<int:pk>/attended/",
                admin_views.BookingOutcomeView.as_view(
                    status=Booking.Status.ATTENDED, **action_kwargs
                ),
                name="attended",
            ),
            path(
                "<int:pk>/no-show/",
                admin_views.BookingOutcomeView.as_view(
                    status=Booking.Status.NO_SHOW, **action_kwargs
                ),
                name="no_show",
            ),
        ]


class BookingAccessLogViewSet(ReadOnlyViewSet):
    model = BookingAccessLog
    icon = "history"
    menu_label = _("访问记录")
    index_view_class = admin_views.AccessLogIndexView
    ordering = "-at"
    list_per_page = 50
    list_display = ["at", "username", "action", "booking_references", "detail"]
    list_filter = ["action", "username"]

    @property
    def url_prefix(self):
        return "counseling/access-log"


class CoordinatorMenuItem(MenuItem):
    def is_shown(self, request):
        return admin_views.can_see_bookings(request.user)


class WaitlistEntryViewSet(ReadOnlyViewSet):
    """Who waits for which room and days, and how it ended: without the mobile,
    which only the text about a freed time needs."""

    model = WaitlistEntry
    icon = "time"
    menu_label = _("候补")
    index_view_class = admin_views.WaitlistIndexView
    menu_item_class = CoordinatorMenuItem
    ordering = "created_at"
    list_per_page = 50
    list_display = ["room", "first_day", "last_day", "counsellor", "state", "created_at"]
    list_filter = ["room", "state"]

    @property
    def url_prefix(self):
        return "counseling/waitlist"


class ScheduleViewSet(ViewSet):
    """Each room's week: bands, duty, holidays, closures and bookings."""

    name = "counseling_schedule"
    url_prefix = "counseling/schedule"
    icon = "calendar"
    menu_label = _("日程")
    menu_name = "counseling-schedule"
    menu_item_class = CoordinatorMenuItem

    def get_urlpatterns(self):
        return [
            path("", admin_views.ScheduleRoomsView.as_view(), name="index"),
            path("<int:room_id>/", admin_views.ScheduleView.as_view(), name="room"),
        ]


class FiguresViewSet(ViewSet):
    """心理咨询数据: the coordinators' monthly figures (counts only)."""

    name = "counseling_figures"
    url_prefix = "counseling/figures"
    icon = "table"
    menu_label = _("心理咨询数据")
    menu_name = "counseling-figures"
    menu_item_class = CoordinatorMenuItem

    def get_urlpatterns(self):
        return [path("", figures_views.FiguresView.as_view(), name="index")]


class CounselingViewSetGroup(ViewSetGroup):
    menu_label = _("心理咨询")
    menu_name = "counseling"
    menu_icon = "group"
    menu_order = 300
    items = (
        BookingViewSet,
        WaitlistEntryViewSet,
        ScheduleViewSet,
        FiguresViewSet,
        RoomViewSet,
        CounsellorViewSet,
        OpeningHoursViewSet,
        DutyShiftViewSet,
        ClosureViewSet,
        HolidayOpeningViewSet,
        BookingAccessLogViewSet,
    )


@hooks.register("register_admin_viewset")
def register_counseling_viewsets():
    return CounselingViewSetGroup()


@hooks.register(LOOKAHEAD_HOOK)
def booking_horizon(today):
    """The furthest day residents can book now counts days in the statutory calendar."""
    longest = Room.objects.filter(is_active=True).aggregate(longest=Max("horizon_days"))
    return today + datetime.timedelta(days=longest["longest"]) if longest["longest"] else None


hooks.register("register_bulk_action", CancelBookingsBulkAction)
hooks.register(CLOSED_DAYS_HOOK, bookings_on_closed_days)


@hooks.register(HOME_SECTION_HOOK)
def rooms_on_the_home_page(home, request):
    """The rooms and the call to book, on the home page: read only if the
    fragment that shows them is drawn."""
    return {
        "template": "counseling/home_rooms.html",
        "rooms": SimpleLazyObject(
            lambda: cached("home-rooms", lambda: list(Room.objects.for_listing()))
        ),
    }


class UnreachedResidentsPanel(Component):
    """A dashboard warning for coordinators: residents with a booking ahead whom
    a text did not reach (a wrong number, a template the provider refused)."""

    name = "unreached_residents"
    order = 20
    template_name = "counseling/admin/unreached_panel.html"

    def __init__(self, count, today):
        self.count = count
        self.today = today

    def get_context_data(self, parent_context):
        return {"count": self.count, "today": self.today}


@hooks.register("construct_homepage_panels")
def warn_about_unreached_residents(request, panels):
    if not admin_views.can_see_bookings(request.user):
        return
    today = timezone.localdate()
    count = admin_views.unreached_bookings(today).count()
    if count:
        panels.append(UnreachedResidentsPanel(count, today))

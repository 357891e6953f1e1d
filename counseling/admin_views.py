"""Views and permission policies for the coordinators' side of the Wagtail admin.

Residents' booking data is shown only to superusers and members of the
心理咨询协调员 group, and every list, detail, schedule, export and status change
is written to the access log (counseling.audit). Status changes go through
counseling.booking, which holds the rules."""

import datetime
import re
import secrets
import unicodedata
from collections import defaultdict
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView
from django_filters import ChoiceFilter, DateFromToRangeFilter, ModelChoiceFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy

from portal.core.forms import MOBILE_PATTERN
from portal.core.groups import COORDINATORS
from portal.core.privacy import mask_mobile, mobile_digests, normalise_mobile
from portal.core.workdays import DayKind, days_between

from . import audit
from .admin_forms import CancelBookingForm
from .availability import ONE_DAY, Availability, makeup_stand_in
from .booking import (
    BookingRefused,
    book_follow_up,
    cancel_by_staff,
    follow_up_slots,
    record_outcome,
)
from .formatting import spreadsheet_time, staff_moment, staff_session, weekday
from .forms import SlotChoiceForm
from .models import LOCAL_TZ, Booking, Closure, Counsellor, Notification, Room


def is_coordinator(user):
    """Superusers and members of the coordinators group; cached on the user for
    the request, since the admin asks several times per page."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_counseling_coordinator"):
        user._counseling_coordinator = user.groups.filter(name=COORDINATORS).exists()
    return user._counseling_coordinator


class CoordinatorPermissionPolicy(ModelPermissionPolicy):
    """Model permissions, granted only to coordinators and superusers: a model
    permission given to another group by mistake still reveals no booking."""

    def user_has_permission(self, user, action):
        # The permission first: it is read from the user's cached permissions,
        # while group membership costs a query on every admin page's menu.
        return super().user_has_permission(user, action) and is_coordinator(user)

    def users_with_any_permission(self, actions):
        return (
            super()
            .users_with_any_permission(actions)
            .filter(Q(is_superuser=True) | Q(groups__name=COORDINATORS))
            .distinct()
        )


class AccessLogPermissionPolicy(CoordinatorPermissionPolicy):
    """The access log can be read, never added to, edited or deleted through the
    admin, not even by a superuser."""

    READ_ONLY = {"view"}

    def user_has_permission(self, user, action):
        return action in self.READ_ONLY and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission(set(actions) & self.READ_ONLY)


def can_see_bookings(user):
    return CoordinatorPermissionPolicy(Booking).user_has_any_permission(user, ["view", "change"])


def local_times(booking):
    """The booking's session as the admin's lists show it."""
    return staff_session(booking.starts_at, booking.ends_at)


def forbidden(request):
    return TemplateResponse(
        request,
        "counseling/admin/forbidden.html",
        {"page_title": _("没有权限")},
        status=403,
    )


class ForbiddenResponseMixin:
    """Answer 403 where booking data lives: Wagtail's admin otherwise turns a
    PermissionDenied into a redirect to the dashboard."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied:
            return forbidden(request)


class BookingFilterSet(WagtailFilterSet):
    room = ModelChoiceFilter(label=gettext_lazy("咨询室"), queryset=Room.objects.all())
    starts_at = DateFromToRangeFilter(label=gettext_lazy("日期"), widget=DateRangePickerWidget)
    status = ChoiceFilter(label=gettext_lazy("状态"), choices=Booking.Status.choices)
    texts = ChoiceFilter(
        label=gettext_lazy("短信"),
        choices=[("unreached", gettext_lazy("有短信没有送达"))],
        method="with_unreached",
    )

    class Meta:
        model = Booking
        fields = ["room", "starts_at", "status"]

    def with_unreached(self, queryset, name, value):
        return queryset.filter(pk__in=unreached_bookings().values("pk")) if value else queryset


def unreached_bookings(today=None):
    """Bookings from `today` on (all, without it) that a text about them did not
    reach, the gateway having given it up: confirmed ones, and those staff
    cancelled, whose resident might otherwise come to a closed room.
    Coordinators phone these residents. Offers from the waitlist are not among
    them: the time passes to the next resident by itself."""
    given_up = (
        Notification.objects.filter(
            channel=Notification.Channel.SMS, state=Notification.State.FAILED
        )
        .exclude(kind=Notification.Kind.OFFER)
        .values("booking")
    )
    bookings = Booking.objects.filter(
        status__in=(Booking.Status.CONFIRMED, Booking.Status.STAFF_CANCELLED),
        pk__in=given_up,
        personal_data_erased_at__isnull=True,
    )
    if today is not None:
        bookings = bookings.filter(
            starts_at__gte=datetime.datetime.combine(today, datetime.time.min, LOCAL_TZ)
        )
    return bookings


class CoordinatorOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not can_see_bookings(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


# Searches by mobile live in the staff member's session under a random token; the
# address of the list carries only the token, so the number never reaches an
# access log, a browser history or a Referer header.
MOBILE_SEARCHES = "counseling_booking_searches"
MOBILE_SEARCHES_KEPT = 20


def remember_mobile_search(session, mobile):
    """A token standing for a search by `mobile` in this session."""
    token = secrets.token_urlsafe(12)
    searches = session.get(MOBILE_SEARCHES, {})
    searches = dict(list(searches.items())[-(MOBILE_SEARCHES_KEPT - 1) :])
    searches[token] = {"hashes": mobile_digests(mobile), "masked": mask_mobile(mobile)}
    session[MOBILE_SEARCHES] = searches
    return token


def mobile_search(session, token):
    return session.get(MOBILE_SEARCHES, {}).get(token or "")


class BookingSearchForm(forms.Form):
    query = forms.CharField(
        label=gettext_lazy("预约编号或手机号码"),
        max_length=40,
        error_messages={
            "required": gettext_lazy("请输入预约编号(可以只输一部分)或完整的手机号码。")
        },
    )


class BookingSearchView(CoordinatorOnlyMixin, View):
    """The bookings list's search, sent by POST: a whole mobile becomes a token of
    this session, a reference stays in the address (it names no one)."""

    http_method_names = ["post"]

    def post(self, request):
        form = BookingSearchForm(request.POST)
        index = reverse("counseling_booking:index")
        if not form.is_valid():
            messages.error(request, form.errors["query"][0])
            return HttpResponseRedirect(index)
        typed = form.cleaned_data["query"]
        mobile = normalise_mobile(typed)
        if re.fullmatch(MOBILE_PATTERN, mobile):
            token = remember_mobile_search(request.session, mobile)
            return HttpResponseRedirect(f"{index}?{urlencode({'mobile': token})}")
        # Full-width digits (a Chinese input method's) are the same digits.
        digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", typed))
        if not digits or len(digits) > 8:
            messages.error(request, _("请输入预约编号(8 位数字,可以只输一部分)或 11 位手机号码。"))
            return HttpResponseRedirect(index)
        return HttpResponseRedirect(f"{index}?{urlencode({'reference': digits})}")


class BookingIndexView(ForbiddenResponseMixin, IndexView):
    """The bookings list and its CSV/XLSX export; both are logged. Searching is by
    POST (BookingSearchView): ?reference= narrows by reference, ?mobile= by a
    search token of this session."""

    template_name = "counseling/admin/booking_index.html"
    custom_field_preprocess = {
        field: {"csv": staff_moment, "xlsx": spreadsheet_time} for field in ("starts_at", "ends_at")
    }

    def get_base_queryset(self):
        queryset = super().get_base_queryset().select_related("room", "counsellor")
        reference = re.sub(r"\D", "", self.request.GET.get("reference", ""))[:8]
        if reference:
            queryset = queryset.filter(reference__contains=reference)
        if "mobile" in self.request.GET:
            search = self.mobile_search
            queryset = queryset.with_mobile_hashes(search["hashes"]) if search else queryset.none()
        return queryset

    @cached_property
    def mobile_search(self):
        return mobile_search(self.request.session, self.request.GET.get("mobile"))

    def get_filename(self):
        return f"bookings-{timezone.localdate():%Y%m%d}"

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(_("日程"), url=reverse("counseling_schedule:index"), icon_name="calendar")
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            search_form=BookingSearchForm(initial={"query": self.request.GET.get("reference", "")}),
            searched_mobile=(self.mobile_search or {}).get("masked", ""),
            searched_reference=self.request.GET.get("reference", ""),
            search_expired="mobile" in self.request.GET and not self.mobile_search,
        )
        return context

    def render_to_response(self, context, **response_kwargs):
        shown = list(context["object_list"])
        query = self.request.GET.copy()
        if self.mobile_search:
            query["mobile"] = self.mobile_search["masked"]
        query = query.urlencode(safe="*")
        if self.is_export:
            audit.record(
                self.request.user,
                audit.Action.EXPORT,
                shown,
                detail=f"{self.request.GET.get('export')} {query}",
            )
        else:
            audit.record(self.request.user, audit.Action.LIST, shown, detail=query)
        return super().render_to_response(context, **response_kwargs)


class BookingInspectView(ForbiddenResponseMixin, InspectView):
    """One booking with the resident's contact details, and the status actions."""

    template_name = "counseling/admin/booking_detail.html"
    page_title = gettext_lazy("预约详情")

    def get_object(self, queryset=None):
        return get_object_or_404(Booking.objects.select_related("room", "counsellor"), pk=self.pk)

    def get_page_subtitle(self):
        return self.object.reference_display

    def get_field_label(self, field_name, field):
        if field_name == "reference_display":
            return _("预约编号")
        return super().get_field_label(field_name, field)

    def get_field_display_value(self, field_name, field):
        value = super().get_field_display_value(field_name, field)
        return "—" if value is None or value == "" else value

    def get_reference_display_value(self):
        return self.object.reference_display

    def get_starts_at_display_value(self):
        return local_times(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        booking = self.object
        can_change = self.user_has_permission("change")
        context.update(
            booking=booking,
            can_cancel=can_change and booking.status == Booking.Status.CONFIRMED,
            can_record_outcome=can_change
            and booking.status
            in (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
            and booking.personal_data_erased_at is None
            and booking.has_begun(),
            outcome_from=None if booking.has_begun() else booking.starts_at,
            can_follow_up=can_change
            and booking.status == Booking.Status.ATTENDED
            and booking.counsellor_id is not None
            and booking.personal_data_erased_at is None,
            notifications=booking.notifications.order_by("created_at"),
        )
        audit.record(self.request.user, audit.Action.VIEW, [booking])
        return context


class AccessLogIndexView(ForbiddenResponseMixin, IndexView):
    """The read-only access log."""


class WaitlistIndexView(ForbiddenResponseMixin, IndexView):
    """Who waits for which room and days (no mobile shown)."""


class BreadcrumbsMixin:
    """Home › parents › this page, as Wagtail's own views show it."""

    def get_parent_breadcrumbs(self):
        return []

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            *self.get_parent_breadcrumbs(),
            {"url": "", "label": self.get_page_title(), "sublabel": self.get_page_subtitle()},
        ]


class BookingActionMixin:
    """Shared by the status actions: change permission on bookings, one booking."""

    model = Booking
    inspect_url_name = None

    def dispatch(self, request, *args, **kwargs):
        policy = CoordinatorPermissionPolicy(Booking)
        if not policy.user_has_permission(request.user, "change"):
            return forbidden(request)
        self.booking = get_object_or_404(Booking.objects.select_related("room"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def detail_url(self):
        return reverse(self.inspect_url_name, args=[self.booking.pk])


class BookingFormView(BookingActionMixin, BreadcrumbsMixin, WagtailAdminTemplateMixin, FormView):
    """An admin form about one booking, under 预约 › its reference."""

    def get_page_subtitle(self):
        return self.booking.reference_display

    def get_parent_breadcrumbs(self):
        return [
            {"url": reverse("counseling_booking:index"), "label": _("预约")},
            {"url": self.detail_url(), "label": self.booking.reference_display},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            booking=self.booking, when=local_times(self.booking), detail_url=self.detail_url()
        )
        return context


class CancelBookingView(BookingFormView):
    """Cancel with a reason; the booking service tells the resident."""

    form_class = CancelBookingForm
    template_name = "counseling/admin/booking_cancel.html"
    page_title = gettext_lazy("取消预约")
    header_icon = "cross"

    def form_valid(self, form):
        reason = form.cleaned_data["reason"]
        try:
            cancel_by_staff(self.booking, reason)
        except BookingRefused as refused:
            form.add_error(None, refused.message)
            return self.form_invalid(form)
        # The reason may name the resident: it stays, encrypted, on the booking only.
        audit.record(self.request.user, audit.Action.CHANGE, [self.booking], detail=_("取消"))
        messages.success(
            self.request,
            _("预约 %(reference)s 已取消,已通知居民。")
            % {"reference": self.booking.reference_display},
        )
        return HttpResponseRedirect(self.detail_url())


class FollowUpView(BookingFormView):
    """At the end of a session: book the resident's next one with the same
    counsellor, among that counsellor's free times in the room. The resident
    gets the usual confirmation text."""

    template_name = "counseling/admin/booking_follow_up.html"
    page_title = gettext_lazy("安排再次咨询")
    header_icon = "date"

    def dispatch(self, request, *args, **kwargs):
        booking = Booking.objects.filter(pk=kwargs["pk"]).first()
        if booking is not None and (
            booking.status != Booking.Status.ATTENDED
            or booking.counsellor_id is None
            or booking.personal_data_erased_at is not None
        ):
            messages.error(request, _("只有已到访、记录了咨询师的预约才能安排再次咨询。"))
            return HttpResponseRedirect(reverse(self.inspect_url_name, args=[booking.pk]))
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        return SlotChoiceForm(
            self.request.POST if self.request.method == "POST" else None,
            slots=follow_up_slots(Availability([self.booking.room]), self.booking),
            label=_("咨询师 %(name)s 的空闲时间") % {"name": self.booking.counsellor},
            with_day=True,
        )

    def form_valid(self, form):
        try:
            booking = book_follow_up(self.booking, form.cleaned_data["start"])
        except BookingRefused as refused:
            form.add_error(None, refused.message)
            return self.form_invalid(form)
        audit.record(
            self.request.user, audit.Action.CHANGE, [self.booking, booking], detail=_("再次咨询")
        )
        messages.success(
            self.request,
            _("已为居民约好再次咨询:%(when)s,预约编号 %(reference)s,已发短信通知。")
            % {"when": local_times(booking), "reference": booking.reference_display},
        )
        return HttpResponseRedirect(reverse(self.inspect_url_name, args=[booking.pk]))


class BookingOutcomeView(BookingActionMixin, View):
    """Mark a booking attended or no-show (POST only)."""

    http_method_names = ["post"]
    status = None

    def post(self, request, pk):
        try:
            record_outcome(self.booking, self.status)
        except BookingRefused as refused:
            messages.error(request, refused.message)
        else:
            audit.record(
                request.user,
                audit.Action.CHANGE,
                [self.booking],
                detail=str(Booking.Status(self.status).label),
            )
            messages.success(
                request,
                _("预约 %(reference)s 已标记为“%(status)s”。")
                % {
                    "reference": self.booking.reference_display,
                    "status": Booking.Status(self.status).label,
                },
            )
        return HttpResponseRedirect(self.detail_url())


class ScheduleRoomsView(
    CoordinatorOnlyMixin, BreadcrumbsMixin, WagtailAdminTemplateMixin, TemplateView
):
    """Pick a room to see its week."""

    template_name = "counseling/admin/schedule_rooms.html"
    page_title = gettext_lazy("日程")
    header_icon = "calendar"

    def get_context_data(self, **kwargs):
        return super().get_context_data(rooms=Room.objects.order_by("sort_order", "pk"), **kwargs)


# How far from today the schedule can be paged: far enough for any planning,
# and clear of the calendar's ends (year 1 and 9999 have no week around them).
SCHEDULE_REACH = datetime.timedelta(days=366 * 10)


def parse_day(value, default):
    """The day asked for, or `default` when it is no date or out of reach."""
    try:
        day = parse_date(value or "") if value else None
    except ValueError:  # well-formed but impossible, such as 2025-02-30
        day = None
    if day is None or abs(day - default) > SCHEDULE_REACH:
        return default
    return day


class ScheduleView(CoordinatorOnlyMixin, BreadcrumbsMixin, WagtailAdminTemplateMixin, TemplateView):
    """One room's week (?week=YYYY-MM-DD, any day of that week) or one day
    (?day=YYYY-MM-DD): opening bands, duty shifts, holidays and make-up
    workdays, closures and bookings."""

    template_name = "counseling/admin/schedule.html"
    page_title = gettext_lazy("日程")
    header_icon = "calendar"

    @cached_property
    def room(self):
        return get_object_or_404(Room, pk=self.kwargs["room_id"])

    def get_page_title(self):
        return _("%(room)s 日程") % {"room": self.room}

    def get_parent_breadcrumbs(self):
        return [{"url": reverse("counseling_schedule:index"), "label": _("日程")}]

    def get_days(self):
        today = timezone.localdate()
        if "day" in self.request.GET:
            return [parse_day(self.request.GET["day"], today)]
        week_of = parse_day(self.request.GET.get("week"), today)
        monday = week_of - datetime.timedelta(days=week_of.weekday())
        return days_between(monday, monday + datetime.timedelta(days=6))

    def get_context_data(self, **kwargs):
        days = self.get_days()
        schedule = room_schedule(self.room, days)
        bookings = [booking for day in schedule for booking in day["bookings"]]
        audit.record(
            self.request.user,
            audit.Action.SCHEDULE,
            bookings,
            detail=f"{self.room} {days[0]:%Y-%m-%d}–{days[-1]:%Y-%m-%d}",
        )
        monday = days[0] - datetime.timedelta(days=days[0].weekday())
        return super().get_context_data(
            room=self.room,
            rooms=Room.objects.order_by("sort_order", "pk"),
            days=schedule,
            single_day=len(days) == 1,
            week_start=monday,
            previous_week=monday - datetime.timedelta(days=7),
            next_week=monday + datetime.timedelta(days=7),
            today=timezone.localdate(),
            **kwargs,
        )


def _window(first, last):
    """Local midnight before `first` to midnight after `last`."""
    return (
        datetime.datetime.combine(first, datetime.time(), LOCAL_TZ),
        datetime.datetime.combine(last + ONE_DAY, datetime.time(), LOCAL_TZ),
    )


def room_schedule(room, days):
    """What a room's days look like: the bands residents are offered (after
    holidays and make-up workdays, from the same Availability that offers them),
    closures and bookings. Returns one dict per day."""
    first, last = days[0], days[-1]
    availability = Availability([room], between=(first, last))
    calendar = availability.calendar
    opened_days = availability.inputs[room.pk].opened_days
    timetables = {day: availability.timetable(room, day) for day in days}
    counsellors = Counsellor.objects.in_bulk(
        {shift.tag for _opening, duty in timetables.values() for shift in duty}
    )

    window_start, window_end = _window(first, last)
    closures = list(Closure.objects.affecting([room], window_start, window_end))
    bookings = defaultdict(list)
    for booking in (
        room.bookings.filter(starts_at__gte=window_start, starts_at__lt=window_end)
        .select_related("counsellor")
        .order_by("starts_at")
    ):
        bookings[timezone.localtime(booking.starts_at, LOCAL_TZ).date()].append(booking)

    schedule = []
    for day in days:
        day_start, day_end = _window(day, day)
        kind = calendar.kind(day)
        opening, duty = timetables[day]
        schedule.append(
            {
                "date": day,
                "is_holiday": kind is DayKind.HOLIDAY,
                "holiday_name": calendar.day(day).name,
                "is_makeup": kind is DayKind.MAKEUP_WORKDAY,
                "stand_in": weekday(makeup_stand_in(day)) if kind is DayKind.MAKEUP_WORKDAY else "",
                "holiday_opened": day in opened_days,
                "opening": sorted(opening),
                "duty": [(shift, counsellors.get(shift.tag)) for shift in sorted(duty)],
                "closures": [
                    closure
                    for closure in closures
                    if closure.starts_at < day_end and closure.ends_at > day_start
                ],
                "bookings": bookings[day],
            }
        )
    return schedule

"""The work-order queue in the Wagtail admin: the list of requests a member of
staff may see (their unit's subtree), one request with its whole trail and the
actions their post allows, the trail's export, and the access log.

Only staff with a post (service_requests.StaffPost) and superusers reach any of
it; editors, reviewers and counselling coordinators see none. Every list,
detail, export and action is written to the access log (audit.py). Changes go
through handling.py, which holds the rules."""

import csv
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from django_filters import (
    BooleanFilter,
    ChoiceFilter,
    DateFromToRangeFilter,
    ModelChoiceFilter,
    MultipleChoiceFilter,
)
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.permission_policies import ModelPermissionPolicy

from . import answers, audit, handling
from .admin_forms import AssignForm, MergeForm, PublishForm, TextForm
from .handling import Action, RequestRefused
from .models import (
    Category,
    RequestEvent,
    ServiceRequest,
    StaffPost,
    Unit,
    next_month,
    post_of,
    visible_path,
)


def may_use_queue(user):
    """Superusers and staff with a post; the post decides which requests."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or post_of(user) is not None


class RequestPermissionPolicy(ModelPermissionPolicy):
    """Viewing for staff with a post; nothing else through the generic admin
    views (requests change only through the actions below)."""

    def user_has_permission(self, user, action):
        return action == "view" and may_use_queue(user)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True)
        if "view" not in actions:
            return users.none()
        return users.filter(Q(is_superuser=True) | Q(staff_post__isnull=False))


class SupervisorPermissionPolicy(ModelPermissionPolicy):
    """Reading the access log: the 街道's supervisors and superusers."""

    def user_has_permission(self, user, action):
        return action == "view" and user.is_active and handling.is_supervisor(user)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True)
        if "view" not in actions:
            return users.none()
        return users.filter(Q(is_superuser=True) | Q(staff_post__role=StaffPost.Role.SUPERVISOR))


def forbidden(request):
    return TemplateResponse(
        request,
        "service_requests/admin/forbidden.html",
        {"page_title": _("没有权限")},
        status=403,
    )


class QueueAccessMixin:
    """403 for staff without a post: Wagtail's admin would otherwise send a
    PermissionDenied back to the dashboard without a word. Checked before the
    view looks anything up, so they learn nothing of which requests exist."""

    def setup(self, request, *args, **kwargs):
        if may_use_queue(request.user):
            super().setup(request, *args, **kwargs)
        else:
            View.setup(self, request, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        if not may_use_queue(request.user):
            return forbidden(request)
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied:
            return forbidden(request)


def local_day(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


class RequestFilterSet(WagtailFilterSet):
    state = MultipleChoiceFilter(label=gettext_lazy("状态"), choices=ServiceRequest.State.choices)
    category = ModelChoiceFilter(label=gettext_lazy("类别"), queryset=Category.objects.all())
    unit = ChoiceFilter(label=gettext_lazy("承办单位(含下级)"), choices=[], method="filter_unit")
    place = ChoiceFilter(label=gettext_lazy("发生地管区"), choices=[], method="filter_place")
    overdue = BooleanFilter(label=gettext_lazy("只看逾期"), method="filter_overdue")
    received_at = DateFromToRangeFilter(
        label=gettext_lazy("受理日期"), widget=DateRangePickerWidget
    )

    class Meta:
        model = ServiceRequest
        fields = ["state", "category", "unit", "place", "overdue", "received_at"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # One query gives the units the user may pick (their subtree, in tree
        # order) and the full names the list shows.
        self.directory = Unit.directory()
        within = visible_path(request.user)
        self.filters["unit"].extra["choices"] = [
            (pk, f"{name}({Unit.Level(len(path) // Unit.steplen).label})")
            for pk, (path, name) in sorted(self.directory.items(), key=lambda item: item[1][0])
            if within is not None and path.startswith(within)
        ]
        self.filters["place"].extra["choices"] = [
            (pk, name)
            for pk, (path, name) in sorted(self.directory.items(), key=lambda item: item[1][0])
            if len(path) == Unit.steplen * Unit.Level.DISTRICT
        ]

    def filter_place(self, queryset, name, unit_id):
        path, _name = self.directory[int(unit_id)]
        return queryset.filter(place__path__startswith=path)

    def filter_unit(self, queryset, name, unit_id):
        path, _name = self.directory[int(unit_id)]
        return queryset.filter(unit__path__startswith=path)

    def filter_overdue(self, queryset, name, overdue):
        if overdue:
            return queryset.overdue(timezone.localdate())
        return queryset


class RequestIndexView(QueueAccessMixin, IndexView):
    """The requests of the user's subtree, newest first, overdue ones marked.
    The list shows no resident's details; opening one is logged."""

    default_ordering = "-received_at"

    def get_base_queryset(self):
        return (
            ServiceRequest.objects.visible_to(self.request.user)
            .select_related("category")
            .defer(*PERSONAL_FIELDS)
        )

    @cached_property
    def full_names(self):
        directory = self.filters.directory if self.filters else Unit.directory()
        return {pk: name for pk, (_path, name) in directory.items()}

    @cached_property
    def today(self):
        return timezone.localdate()

    @property
    def columns(self):
        return [
            TitleColumn(
                "reference",
                label=_("诉求编号"),
                accessor="reference_display",
                sort_key="reference",
                url_name=self.inspect_url_name,
            ),
            Column("category", label=_("类别")),
            Column("unit", label=_("承办单位"), accessor=lambda r: self.full_names[r.unit_id]),
            Column("state", label=_("状态"), accessor="get_state_display", sort_key="state"),
            Column(
                "received_at",
                label=_("受理时间"),
                accessor=lambda r: local_day(r.received_at),
                sort_key="received_at",
            ),
            Column(
                "resolution_due_on",
                label=_("办结期限"),
                accessor=self.due_text,
                sort_key="resolution_due_on",
            ),
        ]

    def due_text(self, request):
        text = request.resolution_due_on.isoformat()
        if request.is_overdue(self.today):
            return _("%(date)s(已逾期)") % {"date": text}
        return text

    def render_to_response(self, context, **response_kwargs):
        shown = list(context["object_list"])
        action = audit.Action.EXPORT if self.is_export else audit.Action.LIST
        audit.record(self.request.user, action, shown, detail=self.request.GET.urlencode())
        return super().render_to_response(context, **response_kwargs)


PERSONAL_FIELDS = ("description", "address", "name", "mobile", "email", "rating_comment", "reply")


def actor_label(event):
    if event.actor_name:
        return event.actor_name
    if event.kind in (RequestEvent.Kind.RECEIVED, RequestEvent.Kind.RATED):
        return _("居民")
    return _("系统")


ACTION_FORMS = {
    Action.ASSIGN: (gettext_lazy("派单"), None),
    Action.ESCALATE: (gettext_lazy("上报的理由"), gettext_lazy("上级单位据此办理。")),
    Action.NOTE: (gettext_lazy("内部备注"), gettext_lazy("只有工作人员能看到。")),
    Action.REPLY: (
        gettext_lazy("给居民的答复"),
        gettext_lazy("居民通过短信和查询页看到这段话。请写明做了什么、结果如何。"),
    ),
    Action.RETURN: (gettext_lazy("退回的理由"), gettext_lazy("承办单位据此修改答复。")),
    Action.REJECT: (
        gettext_lazy("不予受理的理由"),
        gettext_lazy("居民会看到这段话,请写明应向哪里反映。"),
    ),
    Action.MERGE: (gettext_lazy("合并"), None),
    Action.UNPUBLISH: (
        gettext_lazy("撤下的理由"),
        gettext_lazy("记入办理记录,例如“居民要求撤下”。"),
    ),
}

ACTION_LABELS = {
    Action.ACCEPT: gettext_lazy("签收办理"),
    Action.ASSIGN: gettext_lazy("派单"),
    Action.ESCALATE: gettext_lazy("上报上级"),
    Action.NOTE: gettext_lazy("添加备注"),
    Action.REPLY: gettext_lazy("答复居民"),
    Action.APPROVE: gettext_lazy("审核通过并发出答复"),
    Action.RETURN: gettext_lazy("退回修改"),
    Action.MERGE: gettext_lazy("合并为重复诉求"),
    Action.REJECT: gettext_lazy("不予受理"),
    Action.PUBLISH: gettext_lazy("在“回应公开”中公开"),
    Action.UNPUBLISH: gettext_lazy("从“回应公开”撤下"),
}

# The order the actions are offered in: taking the request on and answering first.
ACTION_ORDER = [
    Action.ACCEPT,
    Action.REPLY,
    Action.APPROVE,
    Action.RETURN,
    Action.ASSIGN,
    Action.ESCALATE,
    Action.NOTE,
    Action.MERGE,
    Action.REJECT,
    Action.PUBLISH,
    Action.UNPUBLISH,
]


def action_form(action, user, request, full_names, data=None):
    """The form an action takes, prefixed with its name: the request's page
    shows several at once."""
    common = {"prefix": str(action), "label_suffix": ""}
    if action == Action.ASSIGN:
        return AssignForm(data, user=user, request=request, full_names=full_names, **common)
    if action == Action.MERGE:
        return MergeForm(data, user=user, **common)
    if action == Action.PUBLISH:
        return PublishForm(data, request=request, **common)
    if action in ACTION_FORMS:
        label, help_text = ACTION_FORMS[action]
        return TextForm(data, label=label, help_text=help_text or "", **common)
    return None


class RequestInspectView(QueueAccessMixin, InspectView):
    """One request: what the resident reported, how to reach them, its trail,
    and the actions the user's post allows now."""

    template_name = "service_requests/admin/request_detail.html"
    page_title = gettext_lazy("诉求详情")
    fields = []

    def get_object(self, queryset=None):
        return get_object_or_404(
            ServiceRequest.objects.visible_to(self.request.user).select_related(
                "category", "unit", "place", "duplicate_of", "published_answer"
            ),
            pk=self.pk,
        )

    def get_page_subtitle(self):
        return self.object.reference_display

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, user = self.object, self.request.user
        full_names = Unit.full_names()
        allowed = handling.allowed_actions(user, request)
        context.update(
            service_request=request,
            full_names=full_names,
            unit_name=full_names[request.unit_id],
            place_name=full_names[request.place_id],
            overdue=request.is_overdue(timezone.localdate()),
            events=[
                (event, actor_label(event), full_names.get(event.to_unit_id, ""))
                for event in request.events.all()
            ],
            actions=[
                (
                    action,
                    ACTION_LABELS[action],
                    action_form(action, user, request, full_names),
                    reverse(f"{self.url_namespace}:act", args=[request.pk, action]),
                )
                for action in ACTION_ORDER
                if action in allowed
            ],
            export_url=reverse(f"{self.url_namespace}:trail", args=[request.pk]),
            photos=[
                (photo, reverse(f"{self.url_namespace}:photo", args=[request.pk, photo.pk]))
                for photo in request.photos.all()
            ],
            messages_to_resident=request.messages.order_by("created_at"),
            published=answers.published_on_page(request),
        )
        audit.record(user, audit.Action.VIEW, [request])
        return context

    @property
    def url_namespace(self):
        return self.index_url_name.rsplit(":", 1)[0]


HANDLERS = {
    Action.ACCEPT: lambda r, user, data: handling.accept(r, user),
    Action.ASSIGN: lambda r, user, data: handling.assign(r, user, data["unit"], data["text"]),
    Action.ESCALATE: lambda r, user, data: handling.escalate(r, user, data["text"]),
    Action.NOTE: lambda r, user, data: handling.add_note(r, user, data["text"]),
    Action.REPLY: lambda r, user, data: handling.reply(r, user, data["text"]),
    Action.APPROVE: lambda r, user, data: handling.approve_reply(r, user),
    Action.RETURN: lambda r, user, data: handling.return_reply(r, user, data["text"]),
    Action.REJECT: lambda r, user, data: handling.reject(r, user, data["text"]),
    Action.MERGE: lambda r, user, data: handling.merge(r, user, data["reference"]),
    Action.PUBLISH: lambda r, user, data: handling.publish(r, user, data["summary"], data["reply"]),
    Action.UNPUBLISH: lambda r, user, data: handling.unpublish(r, user, data["text"]),
}


class RequestActionView(QueueAccessMixin, View):
    """One action on one request (POST), then back to the request."""

    http_method_names = ["post"]
    url_namespace = None

    def post(self, request, pk, action):
        try:
            action = Action(action)
        except ValueError:
            return forbidden(request)
        service_request = get_object_or_404(
            ServiceRequest.objects.visible_to(request.user).select_related("unit"), pk=pk
        )
        detail = reverse(f"{self.url_namespace}:inspect", args=[pk])
        form = action_form(
            action, request.user, service_request, Unit.full_names(), data=request.POST
        )
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(detail)
        try:
            changed = HANDLERS[action](
                service_request, request.user, form.cleaned_data if form else {}
            )
        except RequestRefused as refused:
            messages.error(request, refused.message)
            return HttpResponseRedirect(detail)
        audit.record(request.user, audit.Action.CHANGE, [changed], detail=str(action))
        messages.success(
            request,
            _("诉求 %(reference)s:%(action)s,现在的状态是“%(state)s”。")
            % {
                "reference": changed.reference_display,
                "action": ACTION_LABELS[action],
                "state": changed.get_state_display(),
            },
        )
        if not handling.may_see(request.user, changed):
            return HttpResponseRedirect(reverse(f"{self.url_namespace}:index"))
        return HttpResponseRedirect(detail)


TRAIL_HEADINGS = [
    gettext_lazy("时间"),
    gettext_lazy("事项"),
    gettext_lazy("原状态"),
    gettext_lazy("新状态"),
    gettext_lazy("承办单位"),
    gettext_lazy("转至单位"),
    gettext_lazy("经办人"),
    gettext_lazy("内容或理由"),
]


class RequestTrailExportView(QueueAccessMixin, View):
    """The request's whole trail as a CSV file (UTF-8 with BOM, so Excel reads
    the Chinese), for the supervisor's audit (追溯核查)."""

    def get(self, request, pk):
        service_request = get_object_or_404(ServiceRequest.objects.visible_to(request.user), pk=pk)
        full_names = Unit.full_names()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="request-{service_request.reference}-trail.csv"'
        )
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow([str(heading) for heading in TRAIL_HEADINGS])
        for event in service_request.events.all():
            writer.writerow(
                [
                    local_day(event.at),
                    event.get_kind_display(),
                    event.get_from_state_display() if event.from_state else "",
                    event.get_to_state_display() if event.to_state else "",
                    full_names[event.unit_id],
                    full_names.get(event.to_unit_id, ""),
                    actor_label(event),
                    spreadsheet_safe(event.text),
                ]
            )
        audit.record(request.user, audit.Action.EXPORT, [service_request], detail="trail")
        return response


class RequestPhotoView(QueueAccessMixin, View):
    """A photo the resident sent, for staff who may see the request: decrypted
    from the private store, never cached, and logged like every view of a
    request."""

    def get(self, request, pk, photo_pk):
        service_request = get_object_or_404(ServiceRequest.objects.visible_to(request.user), pk=pk)
        photo = get_object_or_404(service_request.photos, pk=photo_pk)
        response = HttpResponse(photo.read(), content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        response["Content-Disposition"] = (
            f'inline; filename="request-{service_request.reference}-{photo.pk}.jpg"'
        )
        audit.record(request.user, audit.Action.PHOTO, [service_request], detail=str(photo.pk))
        return response


def spreadsheet_safe(text):
    """Text a spreadsheet will not run as a formula (=, +, -, @ at the start)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class AccessLogIndexView(QueueAccessMixin, IndexView):
    """The read-only access log, for supervisors."""

    def dispatch(self, request, *args, **kwargs):
        if not handling.is_supervisor(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


class FiguresView(QueueAccessMixin, TemplateView):
    """办理数据: the public figures with each row linked to the orders behind it
    (the queue filtered by month, and by 管区 or category). Counts only: the
    orders the link opens are those the user's post may see, and opening them
    is logged like every list."""

    template_name = "service_requests/admin/figures.html"
    queue_url_name = "requests:index"
    figures_url_name = "request_figures:index"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queue = reverse(self.queue_url_name)

        def link(month, district=None, category=None):
            query = {
                "received_at_after": month.isoformat(),
                "received_at_before": (next_month(month) - datetime.timedelta(days=1)).isoformat(),
            }
            if district is not None:
                query["place"] = district.pk
            if category is not None:
                query["category"] = category.pk
            return f"{queue}?{urlencode(query)}"

        base = reverse(self.figures_url_name)
        context.update(
            answers.figures_context(
                timezone.localdate(),
                answers.FiguresGroup(self.request.GET),
                link=link,
                group_url=lambda **chosen: answers.figures_url(base, **chosen),
            ),
            page_title=_("办理数据"),
            header_icon="table",
            breadcrumbs_items=[{"url": "", "label": _("办理数据")}],
        )
        return context

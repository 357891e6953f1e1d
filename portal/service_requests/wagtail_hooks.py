"""The organisation tree in the Wagtail admin, under 居民诉求: the 街道, its
管区, their 社区 and 网格, listed in tree order. Adding and moving go through
UnitForm; a unit with units under it is not deleted (treebeard would delete
them all with it), nor one where staff still work. Staff posts (who works in
which unit, as what) have their own list beside it, and so do the categories
residents choose from, with their time limits."""

from django.shortcuts import redirect
from django.urls import path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permissions import register_permission_policy

from portal.core.lookups import cached
from portal.core.viewsets import ReadOnlyViewSetMixin
from portal.home.sections import HOME_SECTION_HOOK

from . import admin_views
from .forms import StaffPostForm, UnitForm
from .models import (
    ApiPartner,
    Category,
    ReportPage,
    RequestAccessLog,
    ServiceRequest,
    StaffPost,
    Unit,
)


class UnitIndexView(generic.IndexView):
    """The whole tree on one page, in tree order, each unit named with the units
    above it, so the hierarchy is in the text and not only in the layout."""

    default_ordering = "path"
    paginate_by = 500

    @cached_property
    def full_names(self):
        return Unit.full_names()

    @property
    def columns(self):
        return [
            TitleColumn(
                "name",
                label=_("名称"),
                accessor=lambda unit: self.full_names[unit.pk],
                url_name=self.edit_url_name,
            ),
            Column("level", label=_("层级"), accessor=lambda unit: unit.level.label),
            Column("numchild", label=_("下级单位数")),
        ]


class UnitCreateView(generic.CreateView):
    def save_instance(self):
        unit = self.form.save_unit()
        log(instance=unit, action="wagtail.create", user=self.request.user)
        return unit


class UnitEditView(generic.EditView):
    def save_instance(self):
        old_parent = self.form.current_parent
        unit = self.form.save_unit()
        log(instance=unit, action="wagtail.edit", user=self.request.user)
        new_parent = unit.get_parent()
        if old_parent is not None and new_parent.pk != old_parent.pk:
            log(
                instance=unit,
                action="wagtail.move",
                user=self.request.user,
                data={
                    "source": {"id": old_parent.pk, "title": str(old_parent)},
                    "destination": {"id": new_parent.pk, "title": str(new_parent)},
                },
            )
        return unit


class UnitDeleteView(generic.DeleteView):
    def refusal(self):
        unit = self.object
        if not unit.is_leaf():
            reason = _("“%(name)s”下面还有单位,请先删除或移走它们。")
        elif unit.staff_posts.exists():
            reason = _("还有工作人员在“%(name)s”任职,请先调整他们的岗位。")
        else:
            return None
        messages.error(self.request, reason % {"name": unit.name})
        return redirect(self.edit_url_name, unit.pk)

    def get(self, request, *args, **kwargs):
        return self.refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self.refusal() or super().post(request, *args, **kwargs)


class UnitViewSet(ModelViewSet):
    model = Unit
    name = "units"
    url_prefix = "service_requests/units"
    icon = "group"
    menu_label = _("组织架构")
    copy_view_enabled = False
    index_view_class = UnitIndexView
    add_view_class = UnitCreateView
    edit_view_class = UnitEditView
    delete_view_class = UnitDeleteView

    def get_form_class(self, for_update=False):
        return UnitForm


class StaffPostIndexView(generic.IndexView):
    @cached_property
    def full_names(self):
        return Unit.full_names()

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user")

    @property
    def columns(self):
        return [
            TitleColumn("user", label=_("工作人员"), url_name=self.edit_url_name),
            Column(
                "unit", label=_("所属单位"), accessor=lambda post: self.full_names[post.unit_id]
            ),
            Column("role", label=_("岗位"), accessor="get_role_display"),
        ]


class StaffPostViewSet(ModelViewSet):
    model = StaffPost
    name = "staff_posts"
    url_prefix = "service_requests/staff-posts"
    icon = "user"
    copy_view_enabled = False
    index_view_class = StaffPostIndexView
    list_filter = ["role"]

    def get_form_class(self, for_update=False):
        return StaffPostForm


def yes_or_no(field_name):
    def accessor(category):
        return _("是") if getattr(category, field_name) else _("否")

    return accessor


class CategoryViewSet(ModelViewSet):
    model = Category
    name = "request_categories"
    url_prefix = "service_requests/categories"
    icon = "tag"
    copy_view_enabled = False
    sort_order_field = "sort_order"
    list_display = [
        "name",
        Column("code", label=_("代码")),
        Column("response_days", label=_("响应时限(工作日)")),
        Column("resolution_days", label=_("办结时限(工作日)")),
        # Words, not Wagtail's tick icons, whose hidden text reads “True” in English.
        Column(
            "reply_needs_approval",
            label=_("答复须督办审核"),
            accessor=yes_or_no("reply_needs_approval"),
        ),
        Column("is_active", label=_("居民可选"), accessor=yes_or_no("is_active")),
    ]
    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("code")]),
        FieldPanel("description"),
        FieldRowPanel([FieldPanel("response_days"), FieldPanel("resolution_days")]),
        FieldPanel("reply_needs_approval"),
        FieldPanel("is_active"),
    ]


register_permission_policy(ServiceRequest, admin_views.RequestPermissionPolicy(ServiceRequest))
register_permission_policy(
    RequestAccessLog, admin_views.SupervisorPermissionPolicy(RequestAccessLog)
)


class ReadOnlyViewSet(ReadOnlyViewSetMixin, ModelViewSet):
    pass


class ServiceRequestViewSet(ReadOnlyViewSet):
    """The work-order queue (工单): each unit's requests, one request with its
    trail and actions, the trail's export."""

    model = ServiceRequest
    name = "requests"
    url_prefix = "service_requests/requests"
    icon = "tasks"
    menu_label = _("诉求工单")
    menu_order = 0
    index_view_class = admin_views.RequestIndexView
    inspect_view_class = admin_views.RequestInspectView
    inspect_view_enabled = True
    filterset_class = admin_views.RequestFilterSet
    list_per_page = 50
    search_fields = None
    search_backend_name = None
    list_export = [
        "reference",
        "category",
        "unit",
        "get_state_display",
        "received_at",
        "response_due_on",
        "resolution_due_on",
        "closed_at",
    ]
    export_headings = {
        "reference": _("诉求编号"),
        "category": _("类别"),
        "unit": _("承办单位"),
        "get_state_display": _("状态"),
        "received_at": _("受理时间"),
        "response_due_on": _("响应期限"),
        "resolution_due_on": _("办结期限"),
        "closed_at": _("办结时间"),
    }

    def get_urlpatterns(self):
        namespace = {"url_namespace": self.name}
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/", self.inspect_view, name="inspect"),
            path(
                "<int:pk>/act/<str:action>/",
                admin_views.RequestActionView.as_view(**namespace),
                name="act",
            ),
            path(
                "<int:pk>/trail.csv",
                admin_views.RequestTrailExportView.as_view(),
                name="trail",
            ),
            path(
                "<int:pk>/photos/<int:photo_pk>/",
                admin_views.RequestPhotoView.as_view(),
                name="photo",
            ),
        ]


class RequestAccessLogViewSet(ReadOnlyViewSet):
    model = RequestAccessLog
    name = "request_access_log"
    url_prefix = "service_requests/access-log"
    icon = "history"
    menu_label = _("访问记录")
    index_view_class = admin_views.AccessLogIndexView
    ordering = "-at"
    list_per_page = 50
    list_display = ["at", "username", "action", "references", "detail"]
    list_filter = ["action", "username"]


class FiguresViewSet(ViewSet):
    """办理数据: the monthly figures, for everyone who handles requests."""

    name = "request_figures"
    url_prefix = "service_requests/figures"
    icon = "table"
    menu_label = _("办理数据")

    def get_urlpatterns(self):
        return [path("", admin_views.FiguresView.as_view(), name="index")]

    @property
    def menu_item_class(self):
        class FiguresMenuItem(MenuItem):
            def is_shown(self, request):
                return admin_views.may_use_queue(request.user)

        return FiguresMenuItem


class ApiPartnerViewSet(ModelViewSet):
    """The platforms that post requests through the Open311 API: superusers see
    when each last called and switch its key off. Keys are issued only by
    `manage.py open311_partner`, which shows one once; no screen shows or sets
    a key, and a partner is switched off rather than deleted, since its
    requests point to it."""

    model = ApiPartner
    name = "api_partners"
    url_prefix = "service_requests/api-partners"
    icon = "key"
    menu_label = _("开放接口合作平台")
    copy_view_enabled = False
    form_fields = ["name", "is_active"]
    list_display = [
        "name",
        Column("is_active", label=_("启用"), accessor=yes_or_no("is_active")),
        "last_used_at",
    ]

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(add_url_name=None, delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        return [
            pattern
            for pattern in super().get_urlpatterns()
            if pattern.name not in ("add", "delete")
        ]


class ServiceRequestsGroup(ViewSetGroup):
    menu_label = _("居民诉求")
    menu_icon = "mail"
    items = (
        ServiceRequestViewSet,
        FiguresViewSet,
        CategoryViewSet,
        UnitViewSet,
        StaffPostViewSet,
        RequestAccessLogViewSet,
        ApiPartnerViewSet,
    )


@hooks.register("register_admin_viewset")
def register_viewsets():
    return ServiceRequestsGroup()


@hooks.register(HOME_SECTION_HOOK)
def report_on_the_home_page(home, request):
    """我要反映 and the lookup, on the home page, once the page is published."""
    page = cached("home-report-page", lambda: ReportPage.objects.live().first())
    if page is None:
        return None
    return {"template": "service_requests/home_report.html", "report_page": page}

"""Coordinators' bulk action on the bookings list: cancel a batch of bookings
they judge fake or mistaken, with one reason, through the booking service (each
resident is told, as for a single cancellation). Wagtail's bulk-action
framework supplies the checkboxes, the confirmation page and the URL."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.views.bulk_action import BulkAction

from . import audit
from .admin_forms import CancelBookingForm
from .admin_views import CoordinatorPermissionPolicy, can_see_bookings, forbidden, local_times
from .booking import BookingRefused, cancel_by_staff
from .models import Booking


class CancelBookingsForm(CancelBookingForm):
    tell_residents = forms.BooleanField(
        label=_("通知居民"),
        required=False,
        initial=True,
        help_text=_("每位居民会收到取消短信(和邮件),写明上面的原因。"),
    )


class CancelBookingsBulkAction(BulkAction):
    display_name = _("批量取消")
    action_type = "cancel"
    aria_label = _("取消选中的预约")
    template_name = "counseling/admin/bulk_cancel.html"
    action_priority = 20
    classes = {"serious"}
    form_class = CancelBookingsForm
    models = [Booking]

    def dispatch(self, request, *args, **kwargs):
        """Only coordinators reach the page at all: it lists bookings."""
        if not can_see_bookings(request.user):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def get_all_objects_in_listing_query(self, parent_id):
        """ "Select all in the listing" is not offered (the list's filters and
        search are not known here): a batch is what is ticked on the page."""
        return Booking.objects.none().values_list("pk", flat=True)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shown = [item["item"] for item in context["items"]] + list(context["items_with_no_access"])
        audit.record(self.request.user, audit.Action.LIST, shown, detail=str(_("批量取消确认")))
        return context

    def check_perm(self, booking):
        policy = CoordinatorPermissionPolicy(Booking)
        return (
            policy.user_has_permission(self.request.user, "change")
            and booking.status == Booking.Status.CONFIRMED
        )

    @classmethod
    def get_queryset(cls, model, object_ids):
        ids = [int(pk) for pk in object_ids if str(pk).isdigit() and len(str(pk)) < 19]
        return list(model.objects.filter(pk__in=ids).select_related("room"))

    def object_context(self, booking):
        return {"item": booking, "when": local_times(booking)}

    def get_execution_context(self):
        return {
            "user": self.request.user,
            "reason": self.cleaned_form.cleaned_data["reason"],
            "tell_residents": self.cleaned_form.cleaned_data["tell_residents"],
        }

    @classmethod
    def execute_action(cls, objects, user=None, reason="", tell_residents=True, **kwargs):
        cancelled = []
        for booking in objects:
            try:
                cancelled.append(cancel_by_staff(booking, reason, tell_resident=tell_residents))
            except BookingRefused:
                continue  # cancelled or finished meanwhile
        audit.record(user, audit.Action.CHANGE, cancelled, detail=str(_("批量取消")))
        return len(cancelled), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "已取消 %(count)d 个预约。",
            "已取消 %(count)d 个预约。",
            num_parent_objects,
        ) % {"count": num_parent_objects}

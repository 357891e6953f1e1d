"""Forms for the coordinators' admin: weekly times picked with weekday boxes and
time pickers (nobody types recurrence rules), the staff cancellation, and
closures and holidays that ask what becomes of the bookings they cover."""

from django import forms
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from portal.core.admin_forms import DaysImpact, ListedConsent

from .booking import BookingRefused, cancel_by_staff
from .formatting import full_moment
from .models import LOCAL_TZ, WEEKDAY_CODES, WEEKDAYS, Booking, HolidayOpening


class WeeklyTimesForm(WagtailAdminModelForm):
    """Shows the model's comma-separated `weekdays` as 周一..周日 checkboxes; the
    model's save turns the band into a django-scheduler event."""

    weekdays = forms.MultipleChoiceField(
        label=_("星期"),
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # the model's clean() says "请至少选择一天"
        help_text=_("勾选这个时段每周重复的日子。午休或一天多个班次,请分别添加多个时段。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["weekdays"] = self.instance.weekday_codes

    def clean_weekdays(self):
        chosen = set(self.cleaned_data["weekdays"])
        return ",".join(code for code in WEEKDAY_CODES if code in chosen)


class CancelBookingForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"),
        max_length=200,
        help_text=_("会通过短信或邮件告诉居民,请写清楚,例如:咨询师临时生病,请改约其他时间。"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ClosureForm(ListedConsent, WagtailAdminModelForm):
    """A closure over times that already hold confirmed bookings says so before
    it is saved and asks what becomes of them: cancelled, each resident told the
    reason by SMS, or kept (the room can still receive them). Nothing is saved
    until the coordinator has chosen."""

    affected_bookings = forms.ChoiceField(
        label=_("这段时间里已有的预约"),
        choices=[
            (ListedConsent.CANCEL, _("取消这些预约,并用短信把关闭原因告诉每位居民")),
            (ListedConsent.KEEP, _("保留这些预约(例如只关闭部分设施,仍能接待已预约的居民)")),
        ],
        widget=forms.RadioSelect,
        required=False,
        help_text=_("只有这段时间里有已确认的预约时才需要选择。"),
    )
    listed = forms.CharField(widget=forms.HiddenInput, required=False)

    def affected(self):
        """Confirmed bookings still to come that the closure overlaps."""
        starts, ends = self.cleaned_data.get("starts_at"), self.cleaned_data.get("ends_at")
        if not starts or not ends or ends <= starts:
            return []
        bookings = Booking.objects.confirmed_during(max(starts, timezone.now()), ends)
        if room := self.cleaned_data.get("room"):
            bookings = bookings.filter(room=room)
        return list(bookings.select_related("room").order_by("starts_at"))

    def clean(self):
        cleaned = super().clean()
        self.bookings_to_cancel = []
        bookings = self.affected()
        if bookings:
            token = listed_token(bookings)
            choice = self.consented_choice("affected_bookings", token)
            if choice is None:
                self.ask("affected_bookings", self.affected_message(bookings), token)
            elif choice == self.CANCEL:
                self.bookings_to_cancel = bookings
        return cleaned

    def affected_message(self, bookings):
        return _(
            "这段时间里有 %(count)d 个已确认的预约:%(list)s。"
            "请选择取消这些预约并通知居民,还是保留它们;选择之前不会保存。"
        ) % {"count": len(bookings), "list": listed(bookings)}

    def save(self, commit=True):
        closure = super().save(commit=commit)
        reason = _("咨询室临时关闭(%(reason)s),请改约其他时间。") % {"reason": closure.reason}
        cancel_each(self.bookings_to_cancel, lambda booking: reason)
        return closure


LISTED = 20


def listed(bookings):
    """The first bookings by time, room and reference (never a resident's name),
    and how many more."""
    shown = [
        _("%(when)s %(room)s(编号 %(reference)s)")
        % {"when": full_moment(b.starts_at), "room": b.room.name, "reference": b.reference_display}
        for b in bookings[:LISTED]
    ]
    more = len(bookings) - len(shown)
    return ";".join(shown) + (_(",另有 %(more)d 个") % {"more": more} if more else "")


def listed_token(bookings):
    """Names exactly these bookings, for ListedConsent."""
    return ",".join(str(booking.pk) for booking in bookings)


def cancel_each(bookings, reason_for):
    """Cancel each booking, the resident told `reason_for(booking)`."""
    for booking in bookings:
        try:
            cancel_by_staff(booking, reason=reason_for(booking))
        except BookingRefused:
            continue  # cancelled or moved by the resident meanwhile


def bookings_on_closed_days(days):
    """For a holiday arrangement about to close `days` ({date: holiday name}):
    the confirmed bookings still to come on them, unless their room was opened
    on that day after all."""
    if not days:
        return None
    opened = set(HolidayOpening.objects.filter(date__in=list(days)).values_list("room_id", "date"))
    bookings = [
        booking
        for booking in Booking.objects.annotate(day=TruncDate("starts_at", tzinfo=LOCAL_TZ))
        .filter(status=Booking.Status.CONFIRMED, starts_at__gte=timezone.now(), day__in=list(days))
        .select_related("room")
        .order_by("starts_at")
        if (booking.room_id, booking.day) not in opened
    ]
    if not bookings:
        return None
    message = _(
        "新定为放假的日子里有 %(count)d 个已确认的预约:%(list)s。"
        "请选择取消这些预约并通知居民,还是保留它们;选择之前不会保存。"
    ) % {"count": len(bookings), "list": listed(bookings)}

    def reason_for(booking):
        name = days[booking.day]
        return _("%(name)s放假,咨询室不开放,请改约其他时间。") % {"name": name}

    return DaysImpact(
        message=message,
        token=listed_token(bookings),
        cancel=lambda: cancel_each(bookings, reason_for),
    )

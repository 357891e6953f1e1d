"""Admin forms of what every section shares."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm

from .workdays import DayKind, day_kind, days_between

# Sections register a function under this hook. Given the days a holiday
# arrangement is about to close ({date: the holiday's name}), it returns what
# already stands on them as a DaysImpact, or None when nothing does.
CLOSED_DAYS_HOOK = "register_holiday_closed_days_check"


@dataclass
class DaysImpact:
    """What stands on days an arrangement closes: a message for the coordinator,
    a token naming exactly what the message lists, and how to cancel it all,
    telling those concerned why."""

    message: str
    token: str
    cancel: Callable[[], None]


class ListedConsent:
    """For a form that lists what saving would cancel and asks what to do: the
    list is signed into the form (a hidden `listed` field the form declares), and
    a choice counts only when what would be cancelled now is what was listed.
    A coordinator who stretched the dates, or bookings made meanwhile, get the
    new list and the question again; nothing unseen is cancelled."""

    SALT = "portal.core.admin_forms.listed"
    CANCEL, KEEP = "cancel", "keep"

    def consented_choice(self, field, token):
        """The choice in `field`, if the coordinator answered it for `token`'s list."""
        try:
            seen = signing.loads(self.data.get(self.add_prefix("listed"), ""), salt=self.SALT)
        except signing.BadSignature:
            return None
        return (self.cleaned_data.get(field) or None) if seen == token else None

    def ask(self, field, message, token):
        """Show `message` on `field` and sign `token`'s list into the form."""
        self.add_error(field, message)
        self.data = self.data.copy()
        self.data[self.add_prefix("listed")] = signing.dumps(token, salt=self.SALT)


class HolidayArrangementForm(ListedConsent, WagtailAdminModelForm):
    """A year's arrangement: each period must belong in that year's notice. A
    holiday over days that already hold bookings says so before it is saved and
    asks what becomes of them, as a closure does."""

    on_closed_days = forms.ChoiceField(
        label=gettext_lazy("放假日里已有的预约"),
        choices=[
            (ListedConsent.CANCEL, gettext_lazy("取消这些预约,并用短信把放假安排告诉每位居民")),
            (ListedConsent.KEEP, gettext_lazy("保留这些预约(放假当天仍安排人员接待已预约的居民)")),
        ],
        widget=forms.RadioSelect,
        required=False,
        help_text=gettext_lazy("只有新定为放假的日子里已有预约时才需要选择。"),
    )
    listed = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        from .models import notice_reaches

        cleaned = super().clean()
        self.impacts_to_cancel = []
        year = cleaned.get("year")
        if not year:
            return cleaned
        for form in self.valid_periods():
            first, last = form.cleaned_data["starts_on"], form.cleaned_data["ends_on"]
            if not notice_reaches(year, first, last):
                form.add_error(
                    "starts_on",
                    _("日期要在 %(year)d 年内(跨年的元旦假期可以从上一年 12 月开始)。")
                    % {"year": year},
                )
        days = self.closed_days()
        impacts = [impact for fn in hooks.get_hooks(CLOSED_DAYS_HOOK) if (impact := fn(days))]
        if impacts:
            token = "|".join(impact.token for impact in impacts)
            choice = self.consented_choice("on_closed_days", token)
            if choice is None:
                self.ask("on_closed_days", " ".join(i.message for i in impacts), token)
            elif choice == self.CANCEL:
                self.impacts_to_cancel = impacts
        return cleaned

    def valid_periods(self):
        for form in self.formsets["periods"].forms:
            if not form.is_valid():
                continue
            data = form.cleaned_data
            if not data.get("DELETE") and data.get("starts_on") and data.get("ends_on"):
                yield form

    def closed_days(self):
        """{day: holiday name} of the days from today on that this arrangement
        makes holidays and that are not holidays now (saved arrangement or
        chinesecalendar). A make-up workday taken away is not counted: a room
        open on that weekday keeps its own hours, and those bookings stand."""
        from .models import HolidayPeriod

        today = timezone.localdate()
        closed = {}
        for form in self.valid_periods():
            data = form.cleaned_data
            if data["kind"] != HolidayPeriod.Kind.HOLIDAY:
                continue
            for day in days_between(max(data["starts_on"], today), data["ends_on"]):
                if day_kind(day) is not DayKind.HOLIDAY:
                    closed[day] = data["name"]
        return closed

    def save(self, commit=True):
        arrangement = super().save(commit=commit)
        for impact in self.impacts_to_cancel:
            impact.cancel()
        return arrangement

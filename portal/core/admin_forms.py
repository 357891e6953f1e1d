"""Admin forms of what every section shares."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm

from .workdays import days_between

# Sections register a function under this hook. Given the days a holiday
# arrangement is about to close ({date: the holiday's name}), it returns what
# already stands on them as a DaysImpact, or None when nothing does.
CLOSED_DAYS_HOOK = "register_holiday_closed_days_check"


@dataclass
class DaysImpact:
    """What stands on days an arrangement closes: a message for the coordinator,
    and how to cancel it all, telling those concerned why."""

    message: str
    cancel: Callable[[], None]


class HolidayArrangementForm(WagtailAdminModelForm):
    """A year's arrangement: each period must belong in that year's notice. A
    holiday over days that already hold bookings says so before it is saved and
    asks what becomes of them, as a closure does."""

    CANCEL, KEEP = "cancel", "keep"

    on_closed_days = forms.ChoiceField(
        label=gettext_lazy("放假日里已有的预约"),
        choices=[
            (CANCEL, gettext_lazy("取消这些预约,并用短信把放假安排告诉每位居民")),
            (KEEP, gettext_lazy("保留这些预约(放假当天仍安排人员接待已预约的居民)")),
        ],
        widget=forms.RadioSelect,
        required=False,
        help_text=gettext_lazy("只有新定为放假的日子里已有预约时才需要选择。"),
    )

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
        choice = cleaned.get("on_closed_days")
        if impacts and not choice:
            self.add_error("on_closed_days", " ".join(impact.message for impact in impacts))
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
        makes days off: its holidays, and the make-up workdays it no longer has."""
        from .models import HolidayPeriod

        holidays, makeup_days = {}, set()
        for form in self.valid_periods():
            data = form.cleaned_data
            days = days_between(data["starts_on"], data["ends_on"])
            if data["kind"] == HolidayPeriod.Kind.HOLIDAY:
                holidays.update(dict.fromkeys(days, data["name"]))
            else:
                makeup_days.update(days)
        closed = {}
        if self.instance.pk:
            saved_makeups = HolidayPeriod.objects.filter(
                arrangement_id=self.instance.pk, kind=HolidayPeriod.Kind.MAKEUP_WORKDAY
            )
            for period in saved_makeups:
                for day in days_between(period.starts_on, period.ends_on):
                    if day not in makeup_days:
                        closed[day] = period.name
        closed.update(holidays)
        today = timezone.localdate()
        return {day: name for day, name in closed.items() if day >= today}

    def save(self, commit=True):
        arrangement = super().save(commit=commit)
        for impact in self.impacts_to_cancel:
            impact.cancel()
        return arrangement

"""Forms for the coordinators' admin: weekly times picked with weekday boxes and
time pickers (nobody types recurrence rules), and the staff cancellation."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from .models import WEEKDAY_CODES, WEEKDAYS


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

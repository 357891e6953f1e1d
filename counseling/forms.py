"""The resident's forms: a booking, a lookup by reference and mobile, a new slot.
They check the shape of what was typed; whether a time can be booked is for
counseling.booking to say."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.forms import HoneypotWidget, MobileField

from .formatting import session, time_range
from .models import Booking

ONE_YEAR = datetime.timedelta(days=366)


class BookingForm(forms.Form):
    name = forms.CharField(
        label=_("称呼"),
        max_length=20,
        help_text=_("姓名或化名都可以,最多 20 个字。"),
        error_messages={
            "required": _("请填写称呼,姓名或化名都可以。"),
            "max_length": _("称呼最多 20 个字。"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    mobile = MobileField(help_text=_("用于确认预约和查找预约,不会公开。"))
    email = forms.EmailField(
        label=_("电子邮箱(选填)"),
        required=False,
        max_length=254,
        error_messages={
            "invalid": _("电子邮箱格式不对,例如 name@example.com;也可以不填。"),
            "max_length": _("电子邮箱太长了,请检查;也可以不填。"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    visit_type = forms.ChoiceField(
        label=_("这是您第几次来咨询?"),
        choices=Booking.VisitType.choices,
        initial=Booking.VisitType.FIRST,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择首次咨询或再次咨询。")},
    )
    note = forms.CharField(
        label=_("想谈的困扰(选填)"),
        required=False,
        max_length=300,
        help_text=_("可以不填。如果填写,请同时勾选下面的同意框,最多 300 字。"),
        error_messages={"max_length": _("困扰简述最多 300 字。")},
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    note_consent = forms.BooleanField(
        label=_("我同意咨询室保存上面的困扰简述,仅供咨询师准备使用,到期后删除。"),
        required=False,
    )
    website = forms.CharField(label=_("请勿填写此项"), required=False, widget=HoneypotWidget())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note_consent"].label_suffix = ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("note", "").strip() and not cleaned.get("note_consent"):
            self.add_error(
                "note_consent",
                _("您填写了困扰简述,请勾选同意框;如不想保存简述,请把简述清空。"),
            )
        return cleaned

    @property
    def is_robot(self):
        return bool(self.data.get(self.add_prefix("website")))

    def typed_data(self):
        """What the booking service takes, from a valid form; plain values, so it
        can wait in the session while the SMS code is on its way."""
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "mobile": data["mobile"],
            "email": data["email"],
            "visit_type": data["visit_type"],
            "note": data["note"].strip(),
            "note_consent": data["note_consent"],
        }

    @classmethod
    def from_typed(cls, typed):
        """The form bound again to what typed_data() returned."""
        return cls(data={**typed, "note_consent": "on" if typed["note_consent"] else ""})


class LookupForm(forms.Form):
    mobile = MobileField(help_text=_("预约时填写的手机号码。我们会发一条验证码短信到这个号码。"))


class SlotChoiceForm(forms.Form):
    """Pick one of a day's free slots (to move a booking). Any well-formed time is
    accepted here: the booking service says whether it is still free."""

    start = forms.CharField(
        label=_("新的时段"),
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择一个时段。")},
    )

    def __init__(self, *args, slots, label=None, with_day=False, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["start"].label = label
        written = session if with_day else time_range
        self.fields["start"].widget.choices = [
            (slot.start.isoformat(), written(slot.start, slot.end)) for slot in slots
        ]

    def clean_start(self):
        """A time with its zone within a year of now; whether it is free is the
        booking service's question (it may have been taken since the page loaded)."""
        try:
            start = datetime.datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            start = None
        if start is None or start.tzinfo is None or abs(start - timezone.now()) > ONE_YEAR:
            raise forms.ValidationError(_("请选择页面上列出的可预约时段。"))
        return start


class DayInput(forms.DateInput):
    """<input type="date">: a typed value that is not a date is shown empty,
    since the element may only hold one (HTML's date format)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")

    def format_value(self, value):
        if isinstance(value, str):
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                return None
        return super().format_value(value)


class WaitlistForm(forms.Form):
    """Join a room's waitlist: the days the resident could come, and the
    mobile the text about a freed time goes to. Whether the days can be waited
    for is counseling.booking's to say."""

    first_day = forms.DateField(
        label=_("最早哪天可以来"),
        error_messages={
            "required": _("请选择最早哪天可以来。"),
            "invalid": _("日期格式不对,请按 2026-12-08 的样子填写。"),
        },
        widget=DayInput(),
    )
    last_day = forms.DateField(
        label=_("最晚哪天可以来"),
        error_messages={
            "required": _("请选择最晚哪天可以来。"),
            "invalid": _("日期格式不对,请按 2026-12-08 的样子填写。"),
        },
        widget=DayInput(),
    )
    mobile = MobileField(help_text=_("有空位时发短信到这个号码,不会公开。"))
    website = forms.CharField(label=_("请勿填写此项"), required=False, widget=HoneypotWidget())

    def __init__(self, *args, first=None, last=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("first_day", "last_day"):
            attrs = self.fields[name].widget.attrs
            if first:
                attrs["min"] = first.isoformat()
            if last:
                attrs["max"] = last.isoformat()

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("最晚的日期不能早于最早的日期。"))
        return cleaned

    @property
    def is_robot(self):
        return bool(self.data.get(self.add_prefix("website")))

    def typed_data(self):
        data = self.cleaned_data
        return {
            "first_day": data["first_day"].isoformat(),
            "last_day": data["last_day"].isoformat(),
            "mobile": data["mobile"],
        }


class HoldForm(BookingForm):
    """Confirm a time the waitlist held: the booking form without the mobile,
    which the resident has just proven."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["mobile"]

    def typed_data(self):
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "email": data["email"],
            "visit_type": data["visit_type"],
            "note": data["note"].strip(),
            "note_consent": data["note_consent"],
        }

"""Form pieces every section shares."""

import unicodedata

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .privacy import normalise_mobile


class OneTimeCodeField(forms.CharField):
    """A six-digit one-time code (an SMS code, an authenticator's code). Phones
    offer to fill it in; full-width digits and spaces, as some phone keyboards
    type them, are accepted. `invalid` is the message for anything else."""

    def __init__(self, *, invalid, widget_class="", **kwargs):
        self.invalid_message = invalid
        kwargs.setdefault("max_length", 20)
        attrs = {
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autocapitalize": "none",
            "spellcheck": "false",
        }
        if widget_class:
            attrs["class"] = widget_class
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)

    def clean(self, value):
        code = "".join(unicodedata.normalize("NFKC", super().clean(value)).split())
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(self.invalid_message, code="format")
        return code


class SmsCodeForm(forms.Form):
    """The six-digit code from the SMS: one large field."""

    code = OneTimeCodeField(
        label=_("短信验证码"),
        help_text=_("短信中的 6 位数字。"),
        invalid=_("验证码是 6 位数字,请核对短信。"),
        widget_class="code-input",
        error_messages={"required": _("请输入短信中的 6 位数字验证码。")},
    )


MOBILE_PATTERN = r"^1[3-9][0-9]{9}$"
mobile_validator = RegexValidator(
    MOBILE_PATTERN, _("请输入 11 位中国大陆手机号码,以 1 开头,例如 13912345678。")
)


class MobileField(forms.CharField):
    default_validators = [mobile_validator]

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("手机号码"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "error_messages",
            {"required": _("请填写手机号码。"), "max_length": _("手机号码太长了。")},
        )
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "numeric", "autocomplete": "tel-national"})
        attrs.pop("maxlength", None)
        return attrs

    def to_python(self, value):
        return normalise_mobile(super().to_python(value))


class HoneypotWidget(forms.TextInput):
    """A field people never see or reach; only form-filling robots fill it."""

    def __init__(self):
        super().__init__(attrs={"tabindex": "-1", "autocomplete": "off"})


class HoneypotField(forms.CharField):
    """The hidden field only robots fill: it takes anything (control characters
    included) and is never in error, so a filled trap is told apart from a
    person's mistake by the view, not refused as one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("请勿填写此项"))
        super().__init__(required=False, widget=HoneypotWidget(), **kwargs)
        self.validators = []

    def to_python(self, value):
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        return str(value or "").strip()


def error_summary(form, *extra):
    """(anchor, message) pairs for the summary at the top of a form page."""
    items = [(None, message) for message in extra if message]
    if form is not None:
        items += [(None, error) for error in form.non_field_errors()]
        for field in form:
            # Radio groups have no single label target: link to the first choice.
            anchor = field.id_for_label or f"{field.auto_id}_0"
            items += [(anchor, error) for error in field.errors]
    return items

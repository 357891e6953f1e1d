import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """The six-digit code from the authenticator app. Full-width digits and spaces,
    as some phone keyboards type them, are accepted."""

    code = forms.CharField(
        label=_("验证码"),
        help_text=_("打开手机上的验证器应用,输入“金家岭街道门户”当前显示的 6 位数字。"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
        error_messages={"required": _("请输入 6 位数字验证码。")},
    )

    def clean_code(self):
        code = unicodedata.normalize("NFKC", self.cleaned_data["code"])
        code = "".join(code.split())
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(_("请输入 6 位数字验证码。"), code="format")
        return code

"""Form pieces every section shares."""

import unicodedata

from django import forms


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

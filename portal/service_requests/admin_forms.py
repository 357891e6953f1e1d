"""The forms behind the actions on a request in the admin. They check what
was typed; whether the action is allowed is handling.py's question."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.core.references import normalise_reference

from .forms import UnitChoiceField
from .handling import assignable_units
from .models import ServiceRequest, Unit

TEXT_LIMIT = 2000


class TextForm(forms.Form):
    """One piece of text: a reason, a note or the reply."""

    text = forms.CharField(
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写内容。")},
    )

    def __init__(self, *args, label, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].label = label
        self.fields["text"].help_text = help_text


class AssignForm(forms.Form):
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=_("派给"),
        error_messages={"required": _("请选择承办单位。")},
    )
    text = forms.CharField(
        label=_("派单说明(可不填)"),
        max_length=TEXT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, request, full_names, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = assignable_units(user).exclude(pk=request.unit_id).order_by("path")
        field._full_names = full_names


class MergeForm(forms.Form):
    reference = forms.CharField(
        label=_("合并到诉求编号"),
        max_length=20,
        help_text=_("先收到的那条诉求的 8 位编号。"),
        error_messages={"required": _("请填写要合并到的诉求编号。")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_reference(self):
        reference = normalise_reference(self.cleaned_data["reference"])
        original = ServiceRequest.objects.visible_to(self.user).filter(reference=reference).first()
        if original is None:
            raise forms.ValidationError(
                _("没有找到您能查看的、编号为 %(reference)s 的诉求。")
                % {"reference": reference or "—"}
            )
        return original


class PublishForm(forms.Form):
    """What 回应公开 shows of a closed request: a summary in staff's words and
    the reply, both checked for anything that identifies the resident."""

    summary = forms.CharField(
        label=_("问题摘要(可不填)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("用自己的话概括居民反映的问题,不写姓名、电话、门牌号等能认出居民的内容。"),
    )
    reply = forms.CharField(
        label=_("公开的答复"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("已填入发给居民的答复。请删去称呼、门牌号等能认出居民的内容。"),
        error_messages={"required": _("请填写公开的答复。")},
    )

    checked = forms.BooleanField(
        label=_("我已核对:公开的内容中没有能认出居民或其他人的信息"),
        error_messages={"required": _("请先核对公开的内容,再勾选确认。")},
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, initial={"reply": request.reply}, **kwargs)

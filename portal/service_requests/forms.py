from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core.forms import HoneypotField, MobileField
from portal.core.groups import GRID_WORKERS, REQUEST_HANDLERS
from portal.core.references import DIGITS as REFERENCE_DIGITS
from portal.core.references import normalise_reference

from .models import ServiceRequest, StaffPost, Unit


class UnitChoiceField(forms.ModelChoiceField):
    """Units in tree order, each named with the units above it and its level."""

    def label_from_instance(self, unit):
        if not hasattr(self, "_full_names"):
            self._full_names = Unit.full_names()
        return f"{self._full_names.get(unit.pk, unit.name)}({unit.level.label})"


class UnitForm(forms.ModelForm):
    """A unit and where it sits. The first unit is the 街道 itself; every later
    one goes under a unit one level up. A unit moves only to a new parent of the
    same level as its old one, so a 社区 stays a 社区 and a 网格 a 网格; what is
    under it and the staff posted there move with it."""

    parent = UnitChoiceField(
        label=_("上级单位"),
        queryset=Unit.objects.none(),
        help_text=_("管区在街道之下,社区在管区之下,网格在社区之下。"),
    )

    class Meta:
        model = Unit
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        unit = self.instance
        self.current_parent = unit.get_parent() if unit.pk is not None else None
        if unit.pk is None and Unit.objects.exists():
            parents = Unit.objects.filter(depth__lt=max(Unit.Level))
        elif self.current_parent is not None:
            parents = Unit.objects.filter(depth=self.current_parent.depth)
            self.initial["parent"] = self.current_parent.pk
        else:
            del self.fields["parent"]  # the 街道: the first unit, and the only one without a parent
            return
        self.fields["parent"].queryset = parents.order_by("path")

    def clean(self):
        cleaned_data = super().clean()
        name = cleaned_data.get("name")
        if "parent" in self.fields:
            parent = cleaned_data.get("parent")
            if parent is None:
                return cleaned_data
            siblings = parent.get_children()
        else:
            siblings = Unit.get_root_nodes()
        if name and siblings.filter(name=name).exclude(pk=self.instance.pk).exists():
            self.add_error("name", _("同一上级单位下已有名为“%(name)s”的单位。") % {"name": name})
        return cleaned_data

    def save_unit(self):
        """Create the unit in its place or save it and move it under a new parent;
        the unit as stored."""
        unit = self.save(commit=False)
        parent = self.cleaned_data.get("parent")
        if unit.pk is None:
            return parent.add_child(instance=unit) if parent else Unit.add_root(instance=unit)
        unit.save(update_fields=["name"])
        if parent is not None and parent.pk != self.current_parent.pk:
            unit.move(parent, pos="last-child")  # treebeard reloads the moved unit
        return unit


class StaffPostForm(forms.ModelForm):
    """A member of staff's unit and role: each active user holds at most one post."""

    class Meta:
        model = StaffPost
        fields = ["user", "unit", "role"]
        field_classes = {"unit": UnitChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.order_by("path")
        # Active users without a post, and the post's own user even if inactive.
        users = get_user_model().objects.filter(
            Q(staff_post=None, is_active=True) | Q(pk=self.instance.user_id)
        )
        self.fields["user"].queryset = users.order_by("username")

    def clean(self):
        cleaned_data = super().clean()
        user, role = cleaned_data.get("user"), cleaned_data.get("role")
        # The group is what lets them into the admin (and grid workers to the
        # grid workers' talks); the post decides which requests they see.
        group = GRID_WORKERS if role == StaffPost.Role.GRID_WORKER else REQUEST_HANDLERS
        if role and user is not None and not user.groups.filter(name=group).exists():
            self.add_error(
                "user",
                _("请先在“设置 → 用户”里把 %(user)s 加入“%(group)s”分组。")
                % {"user": user.get_username(), "group": group},
            )
        return cleaned_data


class LookupForm(forms.Form):
    """The resident's reference code and the mobile they gave with it."""

    reference = forms.CharField(
        label=_("诉求编号"),
        max_length=20,
        help_text=_("提交后页面和短信里的 8 位数字。"),
        error_messages={
            "required": _("请填写诉求编号。"),
            "max_length": _("诉求编号是 8 位数字。"),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    mobile = MobileField(help_text=_("提交诉求时填写的手机号码。"))

    def clean_reference(self):
        reference = normalise_reference(self.cleaned_data["reference"])
        if len(reference) != REFERENCE_DIGITS:
            raise forms.ValidationError(_("诉求编号是 8 位数字,请核对短信或提交后的页面。"))
        return reference


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("您对这次答复满意吗?"),
        choices=ServiceRequest.Rating.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择满意、基本满意或不满意。"),
            "invalid_choice": _("请选择满意、基本满意或不满意。"),
        },
    )
    comment = forms.CharField(
        label=_("意见(可不填)"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("最多 200 个字。选“不满意”时,写明哪里还没解决,重新办理时会据此处理。"),
        error_messages={"max_length": _("意见最多 200 个字。")},
    )
    website = HoneypotField()

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core.forms import HoneypotField, MobileField
from portal.core.groups import GRID_WORKERS, REQUEST_HANDLERS
from portal.core.references import DIGITS as REFERENCE_DIGITS
from portal.core.references import normalise_reference

from . import photos
from .models import Category, ServiceRequest, StaffPost, Unit


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


class PhotosInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS photos from one file input; cleaned to the prepared
    photos (portal.service_requests.photos.prepare), each error naming its file."""

    widget = PhotosInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)
        self.widget.attrs.update({"accept": "image/jpeg,image/png,image/webp", "multiple": True})

    def clean(self, data, initial=None):
        files = (
            [upload for upload in (data or []) if upload]
            if isinstance(data, list | tuple)
            else ([data] if data else [])
        )
        if len(files) > photos.MAX_PHOTOS:
            raise forms.ValidationError(photos.TOO_MANY % {"count": photos.MAX_PHOTOS})
        prepared, errors = [], []
        for upload in files:
            try:
                prepared.append(photos.prepare(upload))
            except forms.ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise forms.ValidationError(errors)
        return prepared


class PlaceField(forms.TypedChoiceField):
    """Where the problem is: a 社区, or a 管区 when the resident does not know
    which 社区; one list grouped by 管区, which works without JavaScript."""

    def __init__(self, **kwargs):
        super().__init__(coerce=int, empty_value=None, **kwargs)

    def load(self):
        units = Unit.objects.filter(depth__in=(Unit.Level.DISTRICT, Unit.Level.COMMUNITY)).order_by(
            "path"
        )
        groups, current = [], None
        for unit in units:
            if unit.depth == Unit.Level.DISTRICT:
                current = (
                    unit.name,
                    [(unit.pk, _("%(district)s(不清楚属于哪个社区)") % {"district": unit.name})],
                )
                groups.append(current)
            elif current is not None:
                current[1].append((unit.pk, unit.name))
        self.units = {unit.pk: unit for unit in units}
        self.choices = [("", _("请选择")), *groups]

    def clean(self, value):
        pk = super().clean(value)
        return self.units[pk]


class ReportForm(forms.Form):
    """我要反映: what happened, where, and the mobile the reply goes to."""

    category = forms.ModelChoiceField(
        label=_("问题类别"),
        queryset=Category.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择问题类别;拿不准就选“其他”。"),
            "invalid_choice": _("请从列表中选择问题类别。"),
        },
    )
    place = PlaceField(
        label=_("问题发生在哪个社区"),
        help_text=_("不清楚属于哪个社区时,选所在管区下的“不清楚属于哪个社区”。"),
        error_messages={
            "required": _("请选择问题发生的社区或管区。"),
            "invalid_choice": _("请从列表中选择社区或管区。"),
        },
    )
    address = forms.CharField(
        label=_("详细地点"),
        max_length=100,
        help_text=_("例如:某某路 12 号 3 号楼,或附近的明显标志。"),
        error_messages={
            "required": _("请填写问题发生的详细地点,方便工作人员找到。"),
            "max_length": _("详细地点最多 100 个字。"),
        },
    )
    description = forms.CharField(
        label=_("发生了什么"),
        min_length=10,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("10 到 1000 个字:什么问题、从什么时候开始、希望怎样解决。"),
        error_messages={
            "required": _("请写下您要反映的问题。"),
            "min_length": _("请多写几句(至少 10 个字),说清楚是什么问题。"),
            "max_length": _("最多 1000 个字,请精简一些。"),
        },
    )
    photos = PhotosField(
        label=_("照片(可不传,最多 3 张)"),
        help_text=_("照片只给办理的工作人员看;照片里的拍摄位置等信息会先去掉再保存。"),
    )
    name = forms.CharField(
        label=_("怎么称呼您(可不填)"),
        max_length=20,
        required=False,
        help_text=_("例如“王阿姨”“李先生”。"),
        error_messages={"max_length": _("称呼最多 20 个字。")},
    )
    mobile = MobileField(help_text=_("办理结果用短信告诉您;提交前会发验证码确认是您的号码。"))
    email = forms.EmailField(
        label=_("电子邮箱(可不填)"),
        required=False,
        max_length=254,
        help_text=_("填了邮箱,答复也会发一份到邮箱。"),
        error_messages={"invalid": _("电子邮箱格式不对,例如 name@example.com;也可以不填。")},
    )
    publish_consent = forms.BooleanField(
        label=_("同意在网站上匿名公开这条诉求的办理情况和答复"),
        required=False,
        help_text=_("不公开您的称呼、电话、地址和照片。不勾选不影响办理。"),
    )
    website = HoneypotField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True).order_by(
            "sort_order", "name"
        )
        self.fields["place"].load()

    def clean_address(self):
        return " ".join(self.cleaned_data["address"].split())

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

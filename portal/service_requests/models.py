"""Residents' requests (诉求) and the organisation that handles them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class Unit(MP_Node):
    """One unit of the sub-district's four-level organisation: the 街道 at the
    root, its 管区, their 社区 and each 社区's 网格. A unit's level is its depth
    in the tree, so a unit moves only to another parent of the same level."""

    class Level(models.IntegerChoices):
        SUBDISTRICT = 1, _("街道")
        DISTRICT = 2, _("管区")
        COMMUNITY = 3, _("社区")
        GRID = 4, _("网格")

    name = models.CharField(
        _("名称"),
        max_length=60,
        help_text=_("居民和工作人员看到的名称,例如“第一管区”“石岭路社区”“第 3 网格”。"),
    )

    # Children in the order they were added, which is the order people know
    # them by (第一管区, 第二管区 …); sorting Chinese names by code point would not be.
    node_order_by = []

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        constraints = [
            models.UniqueConstraint(
                fields=["depth"], condition=models.Q(depth=1), name="one_subdistrict"
            ),
            models.CheckConstraint(condition=models.Q(depth__lte=4), name="four_levels"),
        ]

    def __str__(self):
        if self.pk is None or self.depth <= 2:
            return self.name
        above = self.get_ancestors().filter(depth__gt=1).values_list("name", flat=True)
        return " › ".join([*above, self.name])

    @classmethod
    def full_names(cls):
        """Each unit's name below the 街道 with those of the units above it
        (“第一管区 › 石岭路社区 › 第1网格”), by id, from one query: the demo alone
        has ten grids called 第1网格."""
        units = cls.objects.values_list("pk", "path", "name")
        names = {path: name for _pk, path, name in units}
        step = cls.steplen
        return {
            pk: " › ".join(names[path[:end]] for end in range(2 * step, len(path) + 1, step))
            or names[path]
            for pk, path, _name in units
        }

    def move(self, target, pos=None):
        """Move under ``target`` (or beside it, for a sibling ``pos``) only where
        the unit keeps its level: what is a 社区 stays a 社区."""
        child_position = pos is not None and pos.endswith("-child")
        new_depth = target.depth + 1 if child_position else target.depth
        if new_depth != self.depth or (not child_position and target.is_root()):
            raise ValueError("A unit moves only to another parent of its own parent's level.")
        return super().move(target, pos)

    def delete(self, *args, **kwargs):
        """Delete a unit with nothing under it: treebeard would delete the whole
        subtree with it."""
        if not self.is_leaf():
            raise ValueError("Delete or move the units under this one first.")
        return super().delete(*args, **kwargs)

    @property
    def level(self):
        return self.Level(self.depth)

    @property
    def may_have_children(self):
        return self.depth < max(self.Level)


class StaffPost(models.Model):
    """Where a member of staff works: one unit each, and the part they play
    there. Requests are seen and handled through the unit (later: a unit sees
    the requests of its subtree)."""

    class Role(models.TextChoices):
        GRID_WORKER = "grid_worker", _("网格员")
        HANDLER = "handler", _("承办人")
        HEAD = "head", _("负责人")
        SUPERVISOR = "supervisor", _("街道督办")

    # A grid worker works in a grid and a supervisor for the whole 街道; handlers
    # and heads may sit at any level.
    ROLE_LEVELS = {
        Role.GRID_WORKER: Unit.Level.GRID,
        Role.SUPERVISOR: Unit.Level.SUBDISTRICT,
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_post",
        verbose_name=_("工作人员"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="staff_posts", verbose_name=_("所属单位")
    )
    role = models.CharField(_("岗位"), max_length=20, choices=Role.choices)

    # Who works where is not shown on public pages: saving it leaves them cached.
    shown_on_pages = False

    class Meta:
        verbose_name = _("工作人员岗位")
        verbose_name_plural = _("工作人员岗位")

    def __str__(self):
        return f"{self.user.get_username()}({self.unit} · {self.get_role_display()})"

    def clean(self):
        level = self.ROLE_LEVELS.get(self.role)
        if level is not None and self.unit_id is not None and self.unit.level != level:
            raise ValidationError(
                {
                    "unit": _("%(role)s只能在%(level)s任职。")
                    % {"role": self.get_role_display(), "level": level.label}
                }
            )


class Category(models.Model):
    """What a request is about (噪音扰民, 群租房 …), chosen by the resident, with
    the time the sub-district gives itself to answer and to resolve it. ``code``
    names the category to the outside world (Open311's service_code)."""

    name = models.CharField(_("名称"), max_length=30, unique=True)
    code = models.SlugField(
        _("代码"),
        max_length=30,
        unique=True,
        help_text=_(
            "英文小写字母、数字和连字符,例如 noise;对外公开的数据用它标识类别,定下后不要再改。"
        ),
    )
    description = models.CharField(
        _("说明"),
        max_length=120,
        blank=True,
        help_text=_("显示在居民的选择旁,帮他们选对类别,例如“夜间施工、商铺外放”。"),
    )
    response_days = models.PositiveSmallIntegerField(
        _("响应时限(工作日)"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("收到后几个工作日内要首次响应居民。节假日和调休按后台“节假日安排”计算。"),
    )
    resolution_days = models.PositiveSmallIntegerField(
        _("办结时限(工作日)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("收到后几个工作日内要办结。"),
    )
    reply_needs_approval = models.BooleanField(
        _("答复须督办审核"),
        default=False,
        help_text=_("勾选后,这一类诉求的答复经街道督办审核后才发给居民。"),
    )
    is_active = models.BooleanField(
        _("居民可选"), default=True, help_text=_("取消勾选后,居民不能再选这一类;已有诉求照常办理。")
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["sort_order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(response_days__gte=1),
                name="answered_within_a_working_day_or_more",
            ),
            models.CheckConstraint(
                condition=models.Q(resolution_days__gte=models.F("response_days")),
                name="resolved_no_sooner_than_answered",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if (
            self.response_days is not None
            and self.resolution_days is not None
            and self.resolution_days < self.response_days
        ):
            raise ValidationError({"resolution_days": _("办结时限不能短于响应时限。")})

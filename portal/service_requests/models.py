"""Residents' requests (诉求) and the organisation that handles them."""

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
        return self.name

    @property
    def level(self):
        return self.Level(self.depth)

    @property
    def may_have_children(self):
        return self.depth < max(self.Level)

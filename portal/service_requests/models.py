"""Residents' requests (诉求) and the organisation that handles them."""

import datetime
import hashlib
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from treebeard.mp_tree import MP_Node
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.search import index

from portal.core.blocks import BodyBlock, stream_text
from portal.core.fields import EncryptedTextField
from portal.core.models import BasePage
from portal.core.outbox import Message
from portal.core.privacy import data_cipher, mobile_digest, mobile_digests
from portal.core.references import reference_display
from portal.core.segmentation import segment_for_index
from portal.core.storage import private_storage


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
    def directory(cls):
        """{id: (path, full name)} for every unit, from one query: the full name
        is the unit's name below the 街道 with those of the units above it
        (“第一管区 › 石岭路社区 › 第1网格”); the demo alone has ten grids called
        第1网格."""
        units = cls.objects.values_list("pk", "path", "name")
        names = {path: name for _pk, path, name in units}
        step = cls.steplen
        return {
            pk: (
                path,
                " › ".join(names[path[:end]] for end in range(2 * step, len(path) + 1, step))
                or names[path],
            )
            for pk, path, _name in units
        }

    @classmethod
    def district_path(cls, path):
        """The path of the 管区 the unit at `path` lies in (its own, for a
        管区): figures and 回应公开 group units by it."""
        return path[: cls.steplen * cls.Level.DISTRICT]

    @classmethod
    def full_names(cls):
        """{id: full name} for every unit, from one query (see directory)."""
        return {pk: name for pk, (_path, name) in cls.directory().items()}

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


class ServiceRequestQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The requests `user` may see: those handled in their unit's subtree (a
        grid worker's grid, a 社区 with its grids, the whole 街道 for a
        supervisor); none for staff without a post."""
        path = visible_path(user)
        return self.none() if path is None else self.filter(unit__path__startswith=path)

    def overdue(self, today):
        """Requests not yet answered that are past a due date: no first
        response by its day, or no reply (办结) by its day."""
        return self.filter(next_due_on__lt=today)

    def due_on(self, day):
        """Requests not yet answered whose next due date is `day`."""
        return self.filter(next_due_on=day)

    def for_mobile(self, mobile):
        return self.filter(mobile_hash__in=mobile_digests(mobile))


def post_of(user):
    """The user's StaffPost, or None. A signed-in user comes with it and its
    unit already loaded (portal.accounts.backends.StaffBackend)."""
    if not user.is_authenticated:
        return None
    try:
        return user.staff_post
    except StaffPost.DoesNotExist:
        return None


def visible_path(user):
    """The path every unit `user` sees requests of starts with: their post's
    unit ("" for superusers, the whole tree), or None for staff without a post."""
    if user.is_superuser:
        return ""
    post = post_of(user)
    return post.unit.path if post else None


class ServiceRequest(ConcurrentTransitionMixin, models.Model):
    """A resident's request (诉求) as a work order. Its state changes only
    through the transitions below, and only portal.service_requests.handling
    calls them: inside a transaction on the locked row, with the change written
    to the request's trail (RequestEvent). The fields here are the order as it
    stands; the trail is how it got there."""

    shown_on_pages = False  # portal.core.pagecache: public pages never show one

    class State(models.TextChoices):
        RECEIVED = "received", _("待签收")
        ASSIGNED = "assigned", _("已派单")
        IN_PROGRESS = "in_progress", _("办理中")
        ESCALATED = "escalated", _("已上报")
        AWAITING_APPROVAL = "awaiting_approval", _("答复待审核")
        REPLIED = "replied", _("已答复")
        REOPENED = "reopened", _("重办")
        CLOSED = "closed", _("已办结")
        MERGED = "merged", _("已合并")
        REJECTED = "rejected", _("不予受理")

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
        DISSATISFIED = "dissatisfied", _("不满意")

    # Waiting for a unit to take the request on (签收).
    WAITING_STATES = (State.RECEIVED, State.ASSIGNED, State.ESCALATED, State.REOPENED)
    # Still to be answered: a unit may pass it on, merge or reject it.
    UNANSWERED_STATES = (*WAITING_STATES, State.IN_PROGRESS)
    # Not yet answered to the resident: its due dates still run.
    PENDING_STATES = (*UNANSWERED_STATES, State.AWAITING_APPROVAL)
    FINAL_STATES = (State.CLOSED, State.MERGED, State.REJECTED)
    # A second 不满意 closes the request: it is counted and the supervisor told,
    # but it does not go round again.
    ROUNDS = 2

    reference = models.CharField(_("诉求编号"), max_length=8, unique=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="requests", verbose_name=_("类别")
    )
    place = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("发生地"),
        help_text=_("居民选的管区或社区。"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="requests", verbose_name=_("承办单位")
    )
    state = FSMField(
        _("状态"),
        max_length=20,
        choices=State.choices,
        default=State.RECEIVED,
        protected=True,
        db_index=True,
    )
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)

    # What the resident told us: encrypted at rest (portal.core.privacy).
    description = EncryptedTextField(_("诉求内容"))
    address = EncryptedTextField(_("详细地址"))
    name = EncryptedTextField(_("称呼"), blank=True)
    mobile = EncryptedTextField(_("手机号码"))
    mobile_hash = models.CharField(
        _("手机号码查找码"), max_length=64, blank=True, db_index=True, editable=False
    )
    email = EncryptedTextField(_("电子邮箱"), blank=True)
    publish_consent_at = models.DateTimeField(_("同意匿名公开的时间"), null=True, blank=True)
    # Keyed hash of mobile, category and text: the same report posted twice
    # within minutes makes one request.
    submission_hash = models.CharField(max_length=64, db_index=True, editable=False)
    partner = models.ForeignKey(
        "ApiPartner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提交平台"),
        help_text=_("通过开放接口(Open311)代居民提交的合作平台;居民在网站上提交的为空。"),
    )

    received_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    response_due_on = models.DateField(_("响应期限"))
    resolution_due_on = models.DateField(_("办结期限"))
    # The date the request is next due by while it waits for an answer: the
    # first response's until someone takes it on, then the reply's; empty once
    # answered. Kept by save(), so “overdue” is one indexed comparison.
    next_due_on = models.DateField(
        _("下一个期限"), null=True, blank=True, db_index=True, editable=False
    )
    responded_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    reply = EncryptedTextField(_("答复"), blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    rejection_reason = EncryptedTextField(_("不予受理的理由"), blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("合并到"),
    )
    rating = models.CharField(_("评价"), max_length=20, choices=Rating.choices, blank=True)
    rating_comment = EncryptedTextField(_("评价意见"), blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    personal_data_erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求工单")
        verbose_name_plural = _("诉求工单")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolution_due_on__gte=models.F("response_due_on")),
                name="request_resolved_no_sooner_than_answered",
            ),
            models.CheckConstraint(
                condition=models.Q(round__gte=1, round__lte=2), name="request_two_rounds_at_most"
            ),
        ]

    def __str__(self):
        return f"{self.reference_display} {self.category}"

    def save(self, *args, **kwargs):
        self.mobile_hash = mobile_digest(self.mobile) if self.mobile else ""
        self.next_due_on = self.next_due()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "next_due_on"} | (
                {"mobile_hash"} if "mobile" in update_fields else set()
            )
        super().save(*args, **kwargs)

    def next_due(self):
        if self.state not in self.PENDING_STATES:
            return None
        return self.response_due_on if self.responded_at is None else self.resolution_due_on

    @property
    def reference_display(self):
        return reference_display(self.reference)

    def is_overdue(self, today):
        next_due = self.next_due()
        return next_due is not None and next_due < today

    def has_unit_above(self):
        return self.unit.depth > 1

    # The transitions. Each changes this row only; handling.py locks the row,
    # checks who may act, saves and writes the trail.

    @transition(field=state, source=UNANSWERED_STATES, target=State.ASSIGNED)
    def assign(self, unit):
        self.unit = unit

    @transition(field=state, source=WAITING_STATES, target=State.IN_PROGRESS)
    def accept(self, now):
        self.responded_at = self.responded_at or now

    @transition(
        field=state,
        source=UNANSWERED_STATES,
        target=State.ESCALATED,
        conditions=[has_unit_above],
    )
    def escalate(self):
        self.unit = self.unit.get_parent()

    @transition(
        field=state,
        source=State.IN_PROGRESS,
        target=RETURN_VALUE(State.AWAITING_APPROVAL, State.REPLIED),
    )
    def submit_reply(self, text, now):
        self.reply = text
        if self.category.reply_needs_approval:
            return self.State.AWAITING_APPROVAL
        self.replied_at = now
        return self.State.REPLIED

    @transition(field=state, source=State.AWAITING_APPROVAL, target=State.REPLIED)
    def approve_reply(self, now):
        self.replied_at = now

    @transition(field=state, source=State.AWAITING_APPROVAL, target=State.IN_PROGRESS)
    def return_reply(self):
        pass

    @transition(
        field=state, source=State.REPLIED, target=RETURN_VALUE(State.CLOSED, State.REOPENED)
    )
    def rate(self, rating, comment, now):
        self.rating, self.rating_comment, self.rated_at = rating, comment, now
        if rating == self.Rating.DISSATISFIED and self.round < self.ROUNDS:
            self.round += 1
            self.replied_at = None
            return self.State.REOPENED
        self.closed_at = now
        return self.State.CLOSED

    @transition(field=state, source=State.REPLIED, target=State.CLOSED)
    def close_unrated(self, now):
        self.closed_at = now

    @transition(field=state, source=UNANSWERED_STATES, target=State.MERGED)
    def merge_into(self, original, now):
        self.duplicate_of = original
        self.closed_at = now

    @transition(field=state, source=UNANSWERED_STATES, target=State.REJECTED)
    def reject(self, reason, now):
        self.rejection_reason = reason
        self.responded_at = self.responded_at or now
        self.closed_at = now


class RequestEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("A request's trail is append-only.")

    def erase_text(self):
        """Empty the text of these lines: the one change the trail allows,
        for the retention command (handling.erase_personal_data), since notes,
        reasons and replies may quote the resident. Who did what and when stays."""
        return super().update(text="")

    def encrypt_under_first_key(self):
        """Write each line's text again under the first data key, after a new
        key was put first (handling.rotate_keys): the same words, a new token.
        The other change the trail allows. Returns the number of lines."""
        rewritten = 0
        for pk, text in self.exclude(text="").values_list("pk", "text").iterator():
            rewritten += models.QuerySet.update(self.model.objects.filter(pk=pk), text=text)
        return rewritten

    def delete(self):
        raise TypeError("A request's trail is append-only.")


class RequestEvent(models.Model):
    """One line of a request's trail (追溯核查): a transition, an assignment, an
    internal note or a reply, with who, when and why. Rows are only ever added:
    saving an existing row, updating or deleting raises."""

    shown_on_pages = False  # portal.core.pagecache: public pages never show one

    class Kind(models.TextChoices):
        RECEIVED = "received", _("收到诉求")
        ASSIGNED = "assigned", _("派单")
        ACCEPTED = "accepted", _("签收办理")
        ESCALATED = "escalated", _("上报上级")
        NOTE = "note", _("内部备注")
        REPLY_SUBMITTED = "reply_submitted", _("答复送审")
        REPLY_RETURNED = "reply_returned", _("答复退回修改")
        REPLIED = "replied", _("答复居民")
        RATED = "rated", _("居民评价")
        CLOSED = "closed", _("办结")
        MERGED = "merged", _("合并为重复诉求")
        REJECTED = "rejected", _("不予受理")
        PUBLISHED = "published", _("回应公开")
        UNPUBLISHED = "unpublished", _("撤下公开")

    # What the resident's timeline shows; notes, escalation reasons and the
    # approval round are internal.
    PUBLIC_KINDS = (
        Kind.RECEIVED,
        Kind.ASSIGNED,
        Kind.ACCEPTED,
        Kind.ESCALATED,
        Kind.REPLIED,
        Kind.RATED,
        Kind.CLOSED,
        Kind.MERGED,
        Kind.REJECTED,
    )

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.PROTECT, related_name="events", verbose_name=_("诉求")
    )
    kind = models.CharField(_("事项"), max_length=20, choices=Kind.choices)
    from_state = models.CharField(
        _("原状态"), max_length=20, choices=ServiceRequest.State.choices, blank=True
    )
    to_state = models.CharField(
        _("新状态"), max_length=20, choices=ServiceRequest.State.choices, blank=True
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("承办单位"),
        help_text=_("事项发生时承办的单位。"),
    )
    to_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("转至单位"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("经办人"),
    )
    # Kept as written at the time: the trail still says who acted after the
    # account is renamed or removed. Empty for the resident and the system.
    actor_name = models.CharField(_("经办人账号"), max_length=150, blank=True)
    text = EncryptedTextField(_("内容或理由"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    objects = RequestEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("A request's trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("A request's trail is append-only.")


class PublishedAnswerQuerySet(models.QuerySet):
    def in_month(self, month):
        """Answers to requests received in `month` (a date on its first day),
        by the local calendar."""
        start = timezone.make_aware(datetime.datetime.combine(month, datetime.time()))
        end = timezone.make_aware(datetime.datetime.combine(next_month(month), datetime.time()))
        return self.filter(request__received_at__gte=start, request__received_at__lt=end)

    def in_district(self, district):
        return self.filter(request__place__path__startswith=district.path)


def next_month(month):
    return (month.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


class PublishedAnswer(index.Indexed, models.Model):
    """A closed request shown on 回应公开, with the resident's consent: what a
    supervisor chose to publish, in words they checked hold nothing that
    identifies anyone. The resident's own text, name, number, address and
    photos never appear; the page shows the category, the place's 社区 or
    管区, the dates and these two texts. Deleting the row takes the request off
    the page; unlike the request's personal data it is not erased after the
    retention time, since it is written to be public."""

    request = models.OneToOneField(
        ServiceRequest,
        on_delete=models.PROTECT,
        related_name="published_answer",
        verbose_name=_("诉求"),
    )
    summary = models.TextField(
        _("问题摘要"),
        max_length=300,
        blank=True,
        help_text=_(
            "用自己的话概括居民反映的问题,不写姓名、电话、门牌号等能认出居民的内容;可不填。"
        ),
    )
    reply = models.TextField(
        _("公开的答复"),
        max_length=2000,
        help_text=_("公开显示的答复。已填入发给居民的答复,请删去称呼、门牌号等能认出居民的内容。"),
    )
    published_at = models.DateTimeField(_("公开时间"), default=timezone.now, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("公开人"),
    )

    objects = PublishedAnswerQuerySet.as_manager()

    # Site search finds answers by their category, place and the two texts,
    # segmented like pages' text (portal.core.segmentation).
    search_fields = [
        index.SearchField("search_segmented"),
        index.FilterField("published_at"),
        index.FilterField("id"),
    ]

    class Meta:
        verbose_name = _("公开的答复")
        verbose_name_plural = _("公开的答复")
        ordering = ["-published_at", "-pk"]

    def __str__(self):
        return f"{self.request.category} {self.published_at:%Y-%m-%d}"

    @property
    def search_segmented(self):
        request = self.request
        return segment_for_index(
            request.category.name, str(request.place), self.summary, self.reply
        )


class RequestAccessLog(models.Model):
    """Who looked at, exported or acted on residents' requests, and when: written
    by the admin views for every list, detail, export and action; nobody can
    edit it."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    class Action(models.TextChoices):
        LIST = "list", _("查看列表")
        VIEW = "view", _("查看详情")
        EXPORT = "export", _("导出")
        CHANGE = "change", _("办理操作")
        PHOTO = "photo", _("查看照片")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("用户名"), max_length=150)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    references = models.TextField(_("涉及的诉求"), blank=True)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("诉求数据访问记录")
        verbose_name_plural = _("诉求数据访问记录")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.username} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


def photo_path(photo, filename):
    """A random name: the resident's file name may say who they are."""
    return f"requests/{timezone.localdate():%Y/%m}/{secrets.token_hex(16)}.jpg.enc"


class RequestPhoto(models.Model):
    """A photo a resident sent with a request: re-encoded without its metadata
    (EXIF, GPS above all), encrypted with the booking data keys and kept outside
    the public media (PRIVATE_MEDIA_ROOT). Until the mobile is proven the photo
    waits, with no request, under the session's `pending_token`."""

    shown_on_pages = False  # portal.core.pagecache: public pages never show one

    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("诉求"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="photos",
    )
    pending_token = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    file = models.FileField(_("文件"), upload_to=photo_path, storage=private_storage)
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("诉求照片")
        verbose_name_plural = _("诉求照片")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.width}×{self.height}"

    def read(self):
        """The JPEG as sent to staff: decrypted from the private store."""
        with self.file.open("rb") as stored:
            return data_cipher().decrypt(stored.read())

    def reencrypt(self):
        """Store the photo again under the first data key (key rotation): the
        new file is written beside the old one and renamed over it, so a crash
        or a full disk leaves the old one whole."""
        path = Path(self.file.path)
        token = data_cipher().rotate(path.read_bytes())
        fresh = path.with_name(path.name + ".rotating")
        fresh.write_bytes(token)
        os.replace(fresh, path)


class RequestMessage(Message):
    """A message to the resident about their request (the reference on arrival,
    the reply, the reason it is not taken on), kept until it is delivered
    (portal.service_requests.notifications)."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("受理回执")
        REPLY = "reply", _("答复")
        REJECTED = "rejected", _("不予受理告知")

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)

    class Meta(Message.Meta):
        verbose_name = _("诉求消息")
        verbose_name_plural = _("诉求消息")

    task_path = "portal.service_requests.notifications.deliver"
    about_field = "request"

    def superseded(self):
        """A reply from a round the resident has since reopened: the answer
        they are waiting for is the next one."""
        if self.kind == self.Kind.REPLY and self.round != self.request.round:
            return "superseded by a later round"
        return ""


class ReportPage(RoutablePageMixin, BasePage):
    """我要反映: the page residents report a problem on. Editors introduce it in
    their own words; the form, the SMS code step and the confirmation are its
    routes (portal.service_requests.reporting)."""

    intro = models.TextField(
        _("导语"),
        blank=True,
        help_text=_("显示在表单上方:这里能反映哪些问题、多久答复。"),
    )
    body = StreamField(
        BodyBlock(),
        verbose_name=_("说明"),
        blank=True,
        help_text=_("显示在表单下方,例如办理流程和其他反映渠道。"),
    )

    content_panels = BasePage.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    summary_field = "intro"
    shown_in_footer = True  # when directly under the home page (navigation_tags.footer_pages)

    parent_page_types = ["home.HomePage", "core.StandardPage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = _("我要反映页面")
        verbose_name_plural = _("我要反映页面")

    def search_text_parts(self):
        return super().search_text_parts() + [stream_text(self.body)]

    @path("")
    def report(self, request):
        from .reporting import report

        return report(request, self)

    @path("yanzheng/")
    def verify(self, request):
        from .reporting import verify

        return verify(request, self)

    @path("wancheng/")
    def done(self, request):
        from .reporting import done

        return done(request, self)


class AnswersPage(RoutablePageMixin, BasePage):
    """回应公开: the requests residents agreed to show, as answered, and the
    sub-district's monthly figures (响应率, 办结率, 满意率). Its routes are the
    listing, one answer, the RSS feed and the figures
    (portal.service_requests.answers and .figures)."""

    intro = models.TextField(
        _("导语"),
        blank=True,
        help_text=_("显示在列表上方:这里公开哪些诉求、怎样选出来的。"),
    )
    body = StreamField(
        BodyBlock(),
        verbose_name=_("说明"),
        blank=True,
        help_text=_("显示在列表下方,例如各项比率怎样计算、其他反映渠道。"),
    )

    content_panels = BasePage.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    summary_field = "intro"
    shown_in_footer = True

    parent_page_types = ["home.HomePage", "core.StandardPage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = _("回应公开页面")
        verbose_name_plural = _("回应公开页面")

    def search_text_parts(self):
        return super().search_text_parts() + [stream_text(self.body)]

    def feed_url(self, request=None):
        return self.get_url(request) + self.reverse_subpage("feed")

    def answer_url(self, answer, request=None):
        return self.get_url(request) + self.reverse_subpage("answer", args=[answer.pk])

    @path("")
    def listing(self, request):
        from .answers import listing

        return listing(request, self)

    @path("<int:pk>/")
    def answer(self, request, pk):
        from .answers import detail

        return detail(request, self, pk)

    @path("feed/")
    def feed(self, request):
        from .answers import AnswersFeed

        return AnswersFeed(self)(request)

    @path("shuju/")
    def figures(self, request):
        from .answers import figures_page

        return figures_page(request, self)


class ApiPartner(models.Model):
    """A platform trusted to post residents' requests through the Open311 API
    (portal.service_requests.open311): the city's 12345 hotline platform, a
    WeChat mini-program. It shows the key the sub-district issued to it
    (`manage.py open311_partner`). Only the key's SHA-256 is kept, so a copy of
    the database lets nobody post; the key is 256 random bits, so a plain hash
    is as strong as a keyed one and outlives a change of the lookup keys."""

    shown_on_pages = False  # portal.core.pagecache: no page shows one

    name = models.CharField(
        _("名称"), max_length=60, unique=True, help_text=_("例如“12345 政务服务便民热线平台”。")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(
        _("启用"),
        default=True,
        help_text=_("取消勾选后这个平台的密钥立即失效;它已提交的诉求照常办理。"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("开放接口合作平台")
        verbose_name_plural = _("开放接口合作平台")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @staticmethod
    def key_digest(key):
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, name):
        """A new partner and its key. The key is returned this once and kept nowhere."""
        key = secrets.token_urlsafe(32)
        return cls.objects.create(name=name, key_hash=cls.key_digest(key)), key

    @classmethod
    def holding(cls, key):
        """The active partner whose key is `key`, or None."""
        if not key:
            return None
        return cls.objects.filter(key_hash=cls.key_digest(key), is_active=True).first()

"""The only code that creates residents' requests or changes one. Each change
takes the request's row lock inside a transaction (SQLite's IMMEDIATE
transactions serialise writers the same way), checks that the state still
allows it and that the member of staff may do it, makes the transition and
writes it to the request's trail, all or nothing. django-fsm's optimistic
check on the state column is a second guard: a save from a stale copy raises
instead of overwriting what someone else did.

Who may do what (三级办理):

- everyone with a post sees and acts on the requests of their unit's subtree:
  a grid worker their grid, a 社区 its grids, a 管区 its 社区 and grids, the
  街道 everything;
- anyone who sees a waiting request may take it on (签收), add internal notes,
  answer it once it is theirs, and pass it one level up with a reason (上报);
- handlers and heads may also pass a request down to a unit of their subtree,
  merge a duplicate into an earlier request and reject what is out of scope
  with a reason the resident reads; grid workers settle or pass up;
- the 街道's supervisors (and superusers) may send a request to any unit and
  approve the replies of the categories that ask for approval.
"""

import datetime
import logging
import re
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from portal.core.locks import hold_until_commit
from portal.core.privacy import keyed_hash, normalise_mobile
from portal.core.references import new_reference
from portal.core.workdays import add_working_days

from . import notifications
from .models import (
    PublishedAnswer,
    RequestEvent,
    RequestMessage,
    RequestPhoto,
    ServiceRequest,
    StaffPost,
    Unit,
    post_of,
    visible_path,
)

logger = logging.getLogger(__name__)

State = ServiceRequest.State
Kind = RequestEvent.Kind

# The same report (mobile, category and text) posted again within this time
# is the first one: a resident pressing 提交 twice makes one request.
DUPLICATE_WINDOW = datetime.timedelta(minutes=30)
# A reply the resident has not rated within this time closes on its own.
RATING_WINDOW = datetime.timedelta(days=7)
ERASED_NAME = "已删除"
# States the resident is told of when a request enters them, and with what.
TOLD = {
    ServiceRequest.State.REPLIED: RequestMessage.Kind.REPLY,
    ServiceRequest.State.REJECTED: RequestMessage.Kind.REJECTED,
}


class Action(StrEnum):
    ACCEPT = "accept"
    ASSIGN = "assign"
    ESCALATE = "escalate"
    NOTE = "note"
    REPLY = "reply"
    APPROVE = "approve"
    RETURN = "return"
    MERGE = "merge"
    REJECT = "reject"
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"


class RequestRefused(Exception):
    """A change that cannot be made; `message` is for the person who tried."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def fingerprint(mobile, category_id, description):
    """A keyed hash of who reported what, to recognise the same report twice."""
    text = " ".join(description.split())
    return keyed_hash(f"{normalise_mobile(mobile)}|{category_id}|{text}")


def receive(
    *,
    category,
    place,
    description,
    address,
    mobile,
    name="",
    email="",
    publish_consent=False,
    partner=None,
    now=None,
):
    """Record a resident's request at the unit they chose (a 社区, or a 管区 when
    they did not know which 社区), with its due dates counted in working days
    from the day it arrived, and the `partner` platform that posted it for them
    through the Open311 API, if one did. Returns (request, created): the same
    report posted again within DUPLICATE_WINDOW gives back the first one."""
    now = now or timezone.now()
    submission = fingerprint(mobile, category.pk, description)
    with transaction.atomic():
        # Two identical posts at once: the second waits, then finds the first.
        hold_until_commit(submission)
        # Per channel: a partner is given back only a request it posted itself.
        earlier = ServiceRequest.objects.filter(
            submission_hash=submission,
            received_at__gte=now - DUPLICATE_WINDOW,
            partner=partner,
        ).first()
        if earlier is not None:
            return earlier, False
        received_on = timezone.localdate(now)
        request = ServiceRequest.objects.create(
            reference=new_reference(ServiceRequest.objects),
            category=category,
            place=place,
            unit=place,
            description=description,
            address=address,
            name=name,
            mobile=mobile,
            email=email,
            publish_consent_at=now if publish_consent else None,
            submission_hash=submission,
            partner=partner,
            received_at=now,
            response_due_on=add_working_days(received_on, category.response_days),
            resolution_due_on=add_working_days(received_on, category.resolution_days),
        )
        _record(request, Kind.RECEIVED, None, from_state="", to_state=request.state, now=now)
        notifications.tell(request, RequestMessage.Kind.RECEIVED)
    return request, True


# Who may do what.


def is_supervisor(user):
    if user.is_superuser:
        return True
    post = post_of(user)
    return post is not None and post.role == StaffPost.Role.SUPERVISOR


def may_see(user, request):
    path = visible_path(user)
    return path is not None and request.unit.path.startswith(path)


def _assignable_path(user):
    """The path of the units `user` may send requests to: anywhere for a
    supervisor, their own subtree for a handler or head, nowhere (None) for a
    grid worker or staff without a post."""
    if is_supervisor(user):
        return ""
    post = post_of(user)
    if post is None or post.role == StaffPost.Role.GRID_WORKER:
        return None
    return post.unit.path


def may_assign_to(user, unit):
    path = _assignable_path(user)
    return path is not None and unit.path.startswith(path)


def assignable_units(user):
    """The units `user` may send requests to (may_assign_to, as a queryset)."""
    path = _assignable_path(user)
    return Unit.objects.none() if path is None else Unit.objects.filter(path__startswith=path)


def allowed_actions(user, request):
    """The actions `user` may take on `request` as it stands, for the admin to
    offer; each action checks again under the row lock."""
    if not may_see(user, request):
        return set()
    supervisor = is_supervisor(user)
    post = post_of(user)
    grid_worker = not supervisor and post.role == StaffPost.Role.GRID_WORKER
    checks = {
        Action.NOTE: True,
        Action.ACCEPT: can_proceed(request.accept),
        Action.ESCALATE: can_proceed(request.escalate),
        Action.REPLY: can_proceed(request.submit_reply),
        Action.ASSIGN: not grid_worker and can_proceed(request.assign),
        Action.MERGE: not grid_worker and can_proceed(request.merge_into),
        Action.REJECT: not grid_worker and can_proceed(request.reject),
        Action.APPROVE: supervisor and can_proceed(request.approve_reply),
        Action.RETURN: supervisor and can_proceed(request.return_reply),
        Action.PUBLISH: supervisor and may_publish(request) and not is_published(request),
        Action.UNPUBLISH: supervisor and is_published(request),
    }
    return {action for action, allowed in checks.items() if allowed}


def may_publish(request):
    """Whether `request` may go on 回应公开: closed after an answer (not
    rejected or merged), with the resident's consent."""
    return request.state == State.CLOSED and request.publish_consent_at is not None


def is_published(request):
    try:
        return request.published_answer is not None
    except PublishedAnswer.DoesNotExist:
        return False


# Changing a request.


def _record(request, kind, user, *, from_state, to_state, unit=None, to_unit=None, text="", now):
    """One line of the trail; `user` is None for the resident and the system."""
    return RequestEvent.objects.create(
        request=request,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        unit=unit or request.unit,
        to_unit=to_unit,
        actor=user,
        actor_name=user.get_username() if user else "",
        text=text,
        at=now,
    )


def _stale(request):
    return RequestRefused(
        "stale",
        _("这条诉求现在的状态是“%(state)s”,刚才的操作没有执行。请看最新的办理情况后再操作。")
        % {"state": request.get_state_display()},
    )


def _not_allowed():
    return RequestRefused("forbidden", _("您的岗位不能对这条诉求做这项操作。"))


def _locked(pk):
    """The request's row, locked until the transaction ends. Alone: with a join,
    PostgreSQL re-checks the join against the row another transaction just
    changed, and a request moved to another unit would not be found at all."""
    return ServiceRequest.objects.select_for_update().get(pk=pk)


class _Step:
    """The locked request a change works on, the time of the change, and the
    kind of trail entry it makes (which the change may refine)."""

    def __init__(self, request, kind, now):
        self.request = request
        self.kind = kind
        self.now = now


@contextmanager
def _change(request, user, action, kind, *, text="", now=None):
    """Lock the request, check its state still allows `action` and that `user`
    may take it, let the caller make the transition on the locked copy, then
    save it and write the trail, in one transaction."""
    with transaction.atomic():
        locked = _locked(request.pk)
        if not may_see(user, locked):
            raise _not_allowed()
        if not _state_allows(locked, action):
            raise _stale(locked)
        if action not in allowed_actions(user, locked):
            raise _not_allowed()
        before_state, before_unit = locked.state, locked.unit
        step = _Step(locked, kind, now or timezone.now())
        yield step
        locked.save()
        changed = locked.state != before_state
        _record(
            locked,
            step.kind,
            user,
            from_state=before_state if changed else "",
            to_state=locked.state if changed else "",
            unit=before_unit,
            to_unit=locked.unit if locked.unit_id != before_unit.pk else None,
            text=text,
            now=step.now,
        )
        if changed and locked.state in TOLD:
            notifications.tell(locked, TOLD[locked.state])


def _state_allows(request, action):
    transition = {
        Action.NOTE: None,
        Action.ACCEPT: request.accept,
        Action.ESCALATE: request.escalate,
        Action.REPLY: request.submit_reply,
        Action.ASSIGN: request.assign,
        Action.MERGE: request.merge_into,
        Action.REJECT: request.reject,
        Action.APPROVE: request.approve_reply,
        Action.RETURN: request.return_reply,
        Action.PUBLISH: None,
        Action.UNPUBLISH: None,
    }[action]
    return transition is None or can_proceed(transition)


def _required(text, message):
    text = (text or "").strip()
    if not text:
        raise RequestRefused("reason_required", message)
    return text


def accept(request, user, now=None):
    """Take the request on (签收): the unit now handles it, and the resident's
    first response is counted from here."""
    with _change(request, user, Action.ACCEPT, Kind.ACCEPTED, now=now) as step:
        step.request.accept(step.now)
    return step.request


def assign(request, user, unit, reason="", now=None):
    """Send the request to `unit` (派单): down the tree, or anywhere for a
    supervisor."""
    if not may_assign_to(user, unit):
        raise RequestRefused("forbidden", _("您不能把诉求派给“%(unit)s”。") % {"unit": unit})
    with _change(request, user, Action.ASSIGN, Kind.ASSIGNED, text=reason.strip(), now=now) as step:
        if unit.pk == step.request.unit_id:
            raise RequestRefused("same_unit", _("这条诉求已经由“%(unit)s”承办。") % {"unit": unit})
        step.request.assign(unit)
    return step.request


def escalate(request, user, reason, now=None):
    """Pass the request one level up (上报), with the reason the unit could not
    settle it."""
    reason = _required(reason, _("请写明上报的理由,上级单位据此办理。"))
    if request.unit.depth <= 1:
        raise RequestRefused("top", _("街道已是最高一级,不能再上报。"))
    with _change(request, user, Action.ESCALATE, Kind.ESCALATED, text=reason, now=now) as step:
        step.request.escalate()
    return step.request


def add_note(request, user, text, now=None):
    """An internal note on the trail; the resident never sees it."""
    text = _required(text, _("备注不能为空。"))
    with _change(request, user, Action.NOTE, Kind.NOTE, text=text, now=now) as step:
        pass
    return step.request


def reply(request, user, text, now=None):
    """Answer the resident. Where the category asks for it, the reply waits for
    a supervisor's approval before it goes out."""
    text = _required(text, _("请填写给居民的答复。"))
    with _change(request, user, Action.REPLY, Kind.REPLIED, text=text, now=now) as step:
        if step.request.submit_reply(text, step.now) == State.AWAITING_APPROVAL:
            step.kind = Kind.REPLY_SUBMITTED
    return step.request


def approve_reply(request, user, now=None):
    with _change(request, user, Action.APPROVE, Kind.REPLIED, now=now) as step:
        step.request.approve_reply(step.now)
    return step.request


def return_reply(request, user, reason, now=None):
    """Send a reply back to the unit to be rewritten, with what to change."""
    reason = _required(reason, _("请写明退回的理由,承办单位据此修改答复。"))
    with _change(request, user, Action.RETURN, Kind.REPLY_RETURNED, text=reason, now=now) as step:
        step.request.return_reply()
    return step.request


def reject(request, user, reason, now=None):
    """Decline a request that is not the sub-district's to handle, with the
    reason (and where to turn instead) that the resident reads."""
    reason = _required(reason, _("请写明不予受理的理由,居民会看到这段话。"))
    with _change(request, user, Action.REJECT, Kind.REJECTED, text=reason, now=now) as step:
        step.request.reject(reason, step.now)
    return step.request


def merge(request, user, original, now=None):
    """Close `request` as a duplicate of `original`, which carries on."""
    if original.pk == request.pk or original.duplicate_of_id == request.pk:
        raise RequestRefused("same_request", _("不能把诉求合并到它自己。"))
    if not may_see(user, original) or original.state == State.MERGED:
        raise RequestRefused("bad_original", _("只能合并到您看得到、尚未被合并的另一条诉求。"))
    text = _("与诉求 %(reference)s 合并办理。") % {"reference": original.reference_display}
    with _change(request, user, Action.MERGE, Kind.MERGED, text=text, now=now) as step:
        step.request.merge_into(original, step.now)
    return step.request


def publish(request, user, summary, reply, now=None):
    """Show the closed request on 回应公开 with the summary and reply a
    supervisor checked: the resident consented when reporting. Text that holds
    what the resident gave (their name, number, address, reference, a run of
    their own words) or any mobile number is refused. The trail keeps what was
    published, so an audit can see it after it is taken down."""
    summary, reply = summary.strip(), _required(reply, _("请填写公开的答复。"))
    text = _("问题摘要:%(summary)s\n公开的答复:%(reply)s") % {
        "summary": summary or "—",
        "reply": reply,
    }
    with _change(request, user, Action.PUBLISH, Kind.PUBLISHED, text=text, now=now) as step:
        if found := identifying_text(step.request, f"{summary}\n{reply}"):
            raise RequestRefused(
                "identifying",
                _("公开的内容里有能认出居民的信息(%(found)s),请删去后再公开。") % {"found": found},
            )
        PublishedAnswer.objects.create(
            request=step.request,
            summary=summary,
            reply=reply,
            published_at=step.now,
            published_by=user,
        )
    return step.request


# Any mainland mobile number, however spaced, and a door or room number.
MOBILE_IN_TEXT = re.compile(r"1[3-9](?:[\s-]?\d){9}")
DOOR_IN_TEXT = re.compile(r"\d+\s*(?:号楼|单元|室|户)")
# A run of the resident's own words this long is quoting them.
QUOTED_RUN = 8


def identifying_text(request, text):
    """What in `text` could identify the resident of `request`, named for the
    supervisor (“称呼”, “手机号码” …), or ""."""
    flat = "".join(text.split())
    found = []
    if request.name and len(request.name) >= 2 and request.name in flat:
        found.append(_("称呼"))
    if MOBILE_IN_TEXT.search(text):
        found.append(_("手机号码"))
    address = "".join(request.address.split())
    if (address and address in flat) or DOOR_IN_TEXT.search(text):
        found.append(_("门牌号或地址"))
    if request.reference in flat or request.reference_display in text:
        found.append(_("诉求编号"))
    description = "".join(request.description.split())
    if any(
        description[start : start + QUOTED_RUN] in flat
        for start in range(0, max(len(description) - QUOTED_RUN + 1, 0))
    ):
        found.append(_("居民自己写的原话"))
    return "、".join(str(item) for item in found)


def unpublish(request, user, reason, now=None):
    """Take the request off 回应公开 (a resident asked, or something in it
    identifies someone)."""
    reason = _required(reason, _("请写明撤下的理由。"))
    with _change(request, user, Action.UNPUBLISH, Kind.UNPUBLISHED, text=reason, now=now) as step:
        PublishedAnswer.objects.filter(request=step.request).delete()
    return step.request


def rate(request, rating, comment="", now=None):
    """The resident's rating of the reply. 不满意 in the first round reopens the
    request for a second handling (重办) with a new resolution due date; any
    other rating, or a second 不满意, closes it."""
    now = now or timezone.now()
    if rating not in ServiceRequest.Rating.values:
        raise RequestRefused("bad_rating", _("请选择满意、基本满意或不满意。"))
    with transaction.atomic():
        locked = _locked(request.pk)
        if not can_proceed(locked.rate):
            raise RequestRefused(
                "not_replied", _("这条诉求现在不能评价:答复之后才能评价,每次答复评价一次。")
            )
        before = locked.state
        locked.rate(rating, comment.strip(), now)
        if locked.state == State.REOPENED:
            locked.resolution_due_on = add_working_days(
                timezone.localdate(now), locked.category.resolution_days
            )
        locked.save()
        label = ServiceRequest.Rating(rating).label
        _record(
            locked,
            Kind.RATED,
            None,
            from_state=before,
            to_state=locked.state,
            text=f"{label}:{comment.strip()}" if comment.strip() else str(label),
            now=now,
        )
    return locked


def close_unrated(now=None):
    """Close the replied requests whose residents have not rated within
    RATING_WINDOW. Returns how many."""
    now = now or timezone.now()
    closed = 0
    due = ServiceRequest.objects.filter(state=State.REPLIED, replied_at__lt=now - RATING_WINDOW)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            locked = _locked(pk)
            if locked.state != State.REPLIED:
                continue
            locked.close_unrated(now)
            locked.save()
            _record(
                locked,
                Kind.CLOSED,
                None,
                from_state=State.REPLIED,
                to_state=State.CLOSED,
                text=_("居民在 %(days)d 天内没有评价,自动办结。") % {"days": RATING_WINDOW.days},
                now=now,
            )
            closed += 1
    return closed


def retention_days():
    """Days after a request closes before its personal data is erased: the
    SERVICE_REQUESTS_RETENTION_DAYS setting, a year by default, long enough
    for the year's review of complaints and for a resident's follow-up."""
    return getattr(settings, "SERVICE_REQUESTS_RETENTION_DAYS", 365)


def erase_personal_data(before, now=None):
    """Erase what residents wrote and who they are from requests closed before
    `before`: name, mobile, email, address, description, the rating comment,
    the reply, the rejection reason and the text of every line of their trail.
    Category, units, dates, states, rounds and ratings stay, so the figures
    (响应率, 办结率, 满意率) are still counted. Returns the number of requests."""
    now = now or timezone.now()
    with transaction.atomic():
        due = ServiceRequest.objects.filter(
            closed_at__lt=before, personal_data_erased_at__isnull=True
        )
        ids = list(due.values_list("pk", flat=True))
        RequestEvent.objects.filter(request_id__in=ids).erase_text()
        forget_photos(RequestPhoto.objects.filter(request_id__in=ids))
        erased = ServiceRequest.objects.filter(pk__in=ids).update(
            name=ERASED_NAME,
            mobile="",
            mobile_hash="",
            email="",
            address="",
            description="",
            rating_comment="",
            reply="",
            rejection_reason="",
            submission_hash="",
            personal_data_erased_at=now,
            updated_at=now,
        )
    return erased


PERSONAL_FIELDS = (
    "name",
    "mobile",
    "email",
    "address",
    "description",
    "rating_comment",
    "reply",
    "rejection_reason",
)


def forget_photos(photos):
    """Delete photos; their files go once the deletion commits, so a rollback
    never leaves a row without its file. Returns how many."""
    names = list(photos.values_list("file", flat=True))
    photos.delete()
    transaction.on_commit(lambda: _delete_files(names))
    return len(names)


def _delete_files(names):
    """Delete each file on its own: one that cannot go is left for
    forget_stray_photo_files, and the rest still go."""
    storage = RequestPhoto._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Photo file %s could not be deleted; the next purge tries again.", name)


def forget_unsent_photos(before):
    """Delete photos of forms whose SMS code was never typed, stored before `before`."""
    with transaction.atomic():
        return forget_photos(RequestPhoto.objects.filter(request=None, created_at__lt=before))


def forget_stray_photo_files(before):
    """Delete photo files that no photo refers to, written before `before`: left
    by a crash between writing a file and its row, a file that could not be
    deleted, or a restore of an older backup. Returns how many."""
    storage = RequestPhoto._meta.get_field("file").storage
    root = Path(storage.location) / "requests"
    if not root.is_dir():
        return 0
    known = set(RequestPhoto.objects.values_list("file", flat=True))
    stray = [
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.relative_to(storage.location).as_posix() not in known
        and path.stat().st_mtime < before.timestamp()
    ]
    _delete_files([path.relative_to(storage.location).as_posix() for path in stray])
    return len(stray)


def rotate_keys():
    """Re-encrypt every request's details and its trail's text under the first
    data key and re-hash its mobile and fingerprint under the first lookup key,
    after new keys were put first; the old keys can go once this has run.
    Returns (requests, trail lines)."""
    requests = 0
    with transaction.atomic():
        for request in ServiceRequest.objects.select_for_update().order_by("pk").iterator():
            if request.personal_data_erased_at is None:
                request.submission_hash = fingerprint(
                    request.mobile, request.category_id, request.description
                )
            request.save(update_fields=[*PERSONAL_FIELDS, "submission_hash"])
            requests += 1
        lines = RequestEvent.objects.all().encrypt_under_first_key()
        for photo in RequestPhoto.objects.iterator():
            photo.reencrypt()
    return requests, lines

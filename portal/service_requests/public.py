"""How a request looks to the resident who made it: its state in plain words
and the timeline of what was done, from the public lines of its trail only.
Internal notes, the reasons for passing it on, the approval round and other
residents' references never appear."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import RequestEvent, ServiceRequest, Unit

State = ServiceRequest.State
Kind = RequestEvent.Kind

# The approval round is internal: to the resident the request is still being
# handled.
PUBLIC_STATES = {
    State.RECEIVED: _("已受理,等待处理"),
    State.ASSIGNED: _("办理中"),
    State.ESCALATED: _("办理中"),
    State.IN_PROGRESS: _("办理中"),
    State.AWAITING_APPROVAL: _("办理中"),
    State.REOPENED: _("重新办理中"),
    State.REPLIED: _("已答复,请您评价"),
    State.CLOSED: _("已办结"),
    State.MERGED: _("已与同一问题合并办理"),
    State.REJECTED: _("不予受理"),
}


@dataclass(frozen=True)
class Step:
    at: object
    title: str
    text: str = ""


def public_state(request):
    return PUBLIC_STATES[State(request.state)]


def _title(event, names):
    to_unit = names.get(event.to_unit_id, "")
    unit = names.get(event.unit_id, "")
    if event.kind == Kind.RECEIVED:
        return _("收到您的诉求")
    if event.kind == Kind.ASSIGNED:
        return _("转交%(unit)s办理") % {"unit": to_unit}
    if event.kind == Kind.ACCEPTED:
        return _("%(unit)s开始办理") % {"unit": unit}
    if event.kind == Kind.ESCALATED:
        return _("上报%(unit)s协调办理") % {"unit": to_unit}
    if event.kind == Kind.REPLIED:
        return _("答复您")
    if event.kind == Kind.RATED:
        return _("您的评价")
    if event.kind == Kind.CLOSED:
        return _("办结")
    if event.kind == Kind.MERGED:
        return _("与其他居民反映的同一问题合并办理")
    return _("不予受理")


# Whose words the resident may read again: the reply, the reason for not
# taking the request on, their own rating and the automatic closing.
SHOWN_TEXT = (Kind.REPLIED, Kind.REJECTED, Kind.RATED, Kind.CLOSED)


def timeline(request):
    """The resident's view of the trail, oldest first."""
    names = Unit.full_names()
    events = request.events.filter(kind__in=RequestEvent.PUBLIC_KINDS).order_by("at", "pk")
    return [
        Step(
            at=timezone.localtime(event.at),
            title=str(_title(event, names)),
            text=event.text if event.kind in SHOWN_TEXT else "",
        )
        for event in events
    ]

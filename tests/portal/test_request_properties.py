"""Generated sequences of staff and resident actions on residents' requests:
whatever is tried, in whatever order and by whoever, a refusal is a
RequestRefused with a message in Chinese, the request is never left half
changed, and its trail tells exactly how it got where it stands."""

import datetime
import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from portal.service_requests import handling
from portal.service_requests.handling import RequestRefused
from portal.service_requests.models import RequestEvent, ServiceRequest
from tests.factories import make_organisation
from tests.strategies import PROPERTY_SETTINGS

pytestmark = pytest.mark.django_db

State = ServiceRequest.State
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
START = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)
STAFF = (
    "supervisor",
    "first_head",
    "shiling_handler",
    "grid_worker",
    "other_grid_worker",
    "haian_handler",
)
UNITS = ("subdistrict", "first", "shiling", "grid", "other_grid", "second", "haian")
TEXTS = st.sampled_from(["已上门核实。", "请写明期限", "<b>x</b>", "很" * 500, "\x00", "", "   "])
Rating = ServiceRequest.Rating
RATINGS_SEEN = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED, "excellent")
RATINGS = st.sampled_from([*Rating.values, "", "excellent"])

ACTORS = st.sampled_from(STAFF)
accept = st.tuples(st.just("accept"), ACTORS)
reply = st.tuples(st.just("reply"), ACTORS, TEXTS)
approve = st.tuples(st.just("approve_reply"), ACTORS)
rate = st.tuples(st.just("rate"), RATINGS, TEXTS)
# Weighted towards the steps that move a request on, so that sequences reach
# replies, ratings, reopening and closing, not only early refusals.
steps = st.one_of(
    accept,
    accept,
    reply,
    reply,
    reply,
    approve,
    approve,
    rate,
    rate,
    st.tuples(st.just("assign"), ACTORS, st.sampled_from(UNITS), TEXTS),
    st.tuples(st.just("escalate"), ACTORS, TEXTS),
    st.tuples(st.just("add_note"), ACTORS, TEXTS),
    st.tuples(st.just("return_reply"), ACTORS, TEXTS),
    st.tuples(st.just("close_unrated")),
    st.tuples(st.just("reject"), ACTORS, TEXTS),
    st.tuples(st.just("merge"), ACTORS),
)


@pytest.fixture
def org(db):
    org = make_organisation()
    org.noise.reply_needs_approval = True
    org.noise.save()
    return org


def perform(org, request, original, step, now):
    name, *args = step
    if name == "close_unrated":
        handling.close_unrated(now=now)
        return
    if name == "rate":
        rating, comment = args
        handling.rate(request, rating, comment, now=now)
        return
    user = getattr(org, args[0])
    if name == "accept" or name == "approve_reply":
        getattr(handling, name)(request, user, now=now)
    elif name == "assign":
        handling.assign(request, user, getattr(org, args[1]), args[2], now=now)
    elif name == "merge":
        handling.merge(request, user, original, now=now)
    else:
        getattr(handling, name)(request, user, args[1], now=now)


def assert_consistent(request, before_events):
    stored = ServiceRequest.objects.get(pk=request.pk)
    events = list(RequestEvent.objects.filter(request=request))
    assert events[: len(before_events)] == before_events  # nothing rewritten
    assert len(events) - len(before_events) <= 1  # one step, one line at most
    transitions = [e for e in events if e.to_state]
    for before, after in zip(transitions, transitions[1:], strict=False):
        assert after.from_state == before.to_state
    assert stored.state == transitions[-1].to_state
    moves = [e for e in events if e.to_unit_id]
    assert stored.unit_id == (moves[-1].to_unit_id if moves else stored.place_id)
    assert 1 <= stored.round <= ServiceRequest.ROUNDS
    assert (stored.closed_at is not None) == (stored.state in ServiceRequest.FINAL_STATES)
    if stored.state in (State.IN_PROGRESS, State.AWAITING_APPROVAL, State.REPLIED):
        assert stored.responded_at is not None
    if stored.state in (State.AWAITING_APPROVAL, State.REPLIED):
        assert stored.reply.strip()
        assert (stored.replied_at is not None) == (stored.state == State.REPLIED)
    assert (stored.state == State.REOPENED) <= (stored.round == 2)
    assert (stored.state == State.REJECTED) == bool(stored.rejection_reason)
    assert (stored.state == State.MERGED) == (stored.duplicate_of_id is not None)
    assert bool(stored.rating) == (stored.rated_at is not None)
    # The stored next due date is the one the dates and the state give.
    if stored.state not in ServiceRequest.PENDING_STATES:
        assert stored.next_due_on is None
    elif stored.responded_at is None:
        assert stored.next_due_on == stored.response_due_on
    else:
        assert stored.next_due_on == stored.resolution_due_on
    event(stored.state)
    return events


FORWARD = (handling.Action.ACCEPT, handling.Action.REPLY, handling.Action.APPROVE)


def allowed_step(data, org, request):
    """A step someone may take now, so that sequences reach replies, approval,
    ratings, reopening and closing rather than stopping at the first refusal."""
    stored = ServiceRequest.objects.get(pk=request.pk)
    if stored.state == State.REPLIED:
        if not data.draw(st.integers(0, 4)):
            return ("close_unrated",)
        # 不满意 half the time, so that second rounds and their end are reached.
        rating = data.draw(st.sampled_from([Rating.DISSATISFIED] * 3 + list(RATINGS_SEEN)))
        return ("rate", rating, data.draw(TEXTS))
    options = [
        (name, action)
        for name in STAFF
        for action in sorted(handling.allowed_actions(getattr(org, name), stored))
        if action != handling.Action.NOTE
    ]
    if not options:
        return data.draw(steps)
    forward = [option for option in options if option[1] in FORWARD]
    if forward and data.draw(st.integers(0, 3)):
        options = forward
    name, action = data.draw(st.sampled_from(options))
    if action == handling.Action.ASSIGN:
        return ("assign", name, data.draw(st.sampled_from(UNITS)), "")
    if action == handling.Action.MERGE:
        return ("merge", name)
    function = {
        handling.Action.APPROVE: "approve_reply",
        handling.Action.RETURN: "return_reply",
        handling.Action.REPLY: "reply",
    }.get(action, str(action))
    if function in ("accept", "approve_reply"):
        return (function, name)
    return (function, name, data.draw(TEXTS))


@PROPERTY_SETTINGS
@given(st.data())
def test_any_sequence_of_actions_leaves_a_consistent_request_and_trail(org, data):
    request, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description=f"生成的诉求 {ServiceRequest.objects.count()}",
        address="石岭路 8 号",
        mobile="13912345678",
        now=START,
    )
    original, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description=f"更早的诉求 {ServiceRequest.objects.count()}",
        address="石岭路 8 号",
        mobile="13900000000",
        now=START,
    )
    events = list(RequestEvent.objects.filter(request=request))
    for number in range(data.draw(st.integers(0, 20))):
        # Mostly steps someone may take, to get far; the rest anything at all.
        allowed = data.draw(st.integers(0, 3))
        step = allowed_step(data, org, request) if allowed else data.draw(steps)
        now = START + datetime.timedelta(days=2 * number + 1)
        try:
            perform(org, request, original, step, now)
        except RequestRefused as refused:
            assert re.search(r"[\u4e00-\u9fff]", refused.message)
        events = assert_consistent(request, events)

"""Two members of staff acting on one request at the same moment: one change
wins, whole; the others are told the request has moved on; the trail records
exactly what happened. On PostgreSQL the contenders run on their own
connections at once; everywhere, a save from a stale copy is refused."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django_fsm import ConcurrentTransition

from portal.service_requests import handling
from portal.service_requests.handling import RequestRefused
from portal.service_requests.models import RequestEvent, ServiceRequest
from tests.factories import make_organisation
from tests.outages import postgres_only

State = ServiceRequest.State
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)
ROUNDS = 5


def new_request(org, number):
    request, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description=f"第 {number} 件:夜间噪音",
        address="石岭路 8 号",
        mobile="13912345678",
        now=NOW,
    )
    return request


def everyone_accepting(org):
    """Everyone who sees the request takes it on at once: only one can."""
    return [
        lambda r, user=user: handling.accept(r, user)
        for user in (org.shiling_handler, org.first_head, org.supervisor)
        for _twice in range(3)
    ]


def everyone_doing_something(org):
    """Different people doing different things to one waiting request: some
    of them can follow one another, none may be lost or half done."""
    return [
        lambda r: handling.accept(r, org.shiling_handler),
        lambda r: handling.accept(r, org.first_head),
        lambda r: handling.escalate(r, org.shiling_handler, "需管区协调"),
        lambda r: handling.assign(r, org.first_head, org.grid),
        lambda r: handling.assign(r, org.supervisor, org.haian),
        lambda r: handling.reject(r, org.supervisor, "不属本街道职责"),
        lambda r: handling.add_note(r, org.first_head, "已电话联系居民"),
        lambda r: handling.merge(r, org.shiling_handler, r.original),
    ]


def race(request, actions):
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def act(number):
        try:
            barrier.wait()
            outcomes[number] = actions[number](request)
        except Exception as error:  # noqa: BLE001 - every outcome is inspected below
            outcomes[number] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(n,)) for n in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def outcomes_of(org, actions, round_):
    request = new_request(org, 2 * round_)
    request.original = new_request(org, 2 * round_ + 1)
    outcomes = race(request, actions)
    winners = [o for o in outcomes if isinstance(o, ServiceRequest)]
    refusals = [o for o in outcomes if isinstance(o, RequestRefused)]
    assert [o for o in outcomes if o not in winners + refusals] == []
    return request, winners, refusals


def assert_the_trail_tells_what_happened(request, changes):
    """Every change is on the trail once, each starting where the one before
    ended, and the request stands where the last one left it."""
    stored = ServiceRequest.objects.get(pk=request.pk)
    events = list(RequestEvent.objects.filter(request=request))
    assert len(events) == 1 + changes
    transitions = [e for e in events if e.to_state]
    for before, after in zip(transitions, transitions[1:], strict=False):
        assert after.from_state == before.to_state
    assert stored.state == transitions[-1].to_state
    moves = [e for e in events if e.to_unit_id]
    assert stored.unit_id == (moves[-1].to_unit_id if moves else request.place_id)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_handlers_taking_on_one_request_take_it_once_on_postgresql():
    org = make_organisation()
    for round_ in range(ROUNDS):
        request, winners, refusals = outcomes_of(org, everyone_accepting(org), round_)
        assert len(winners) == 1
        assert {refusal.code for refusal in refusals} == {"stale"}
        assert all("办理中" in refusal.message for refusal in refusals)
        assert_the_trail_tells_what_happened(request, 1)
        assert ServiceRequest.objects.get(pk=request.pk).state == State.IN_PROGRESS


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_different_actions_on_one_request_each_happen_whole_or_not_at_all():
    org = make_organisation()
    for round_ in range(ROUNDS):
        request, winners, refusals = outcomes_of(org, everyone_doing_something(org), round_)
        assert winners
        assert {refusal.code for refusal in refusals} <= {"stale", "forbidden", "same_unit"}
        assert_the_trail_tells_what_happened(request, len(winners))


@pytest.mark.django_db
def test_a_save_from_a_copy_loaded_before_another_change_is_refused():
    org = make_organisation()
    request = new_request(org, 1)
    stale = ServiceRequest.objects.get(pk=request.pk)
    handling.accept(request, org.shiling_handler)
    stale.reject("过期的页面", NOW)
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert ServiceRequest.objects.get(pk=request.pk).state == State.IN_PROGRESS


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_report_posted_at_once_from_two_taps_makes_one_request_on_postgresql():
    org = make_organisation()
    submit = [lambda _request: new_request(org, 7)] * 6
    outcomes = race(None, submit)
    assert all(isinstance(outcome, ServiceRequest) for outcome in outcomes)
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert ServiceRequest.objects.count() == 1

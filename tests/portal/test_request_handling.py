"""Residents' requests as work orders (portal/service_requests/handling.py): how
a request arrives, travels through the organisation (三级办理), is answered,
rated and reopened, who may do what, and the trail every change leaves."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from portal.service_requests import handling
from portal.service_requests.handling import RequestRefused
from portal.service_requests.models import (
    Category,
    ReportPage,
    RequestEvent,
    RequestMessage,
    ServiceRequest,
)
from tests.factories import make_organisation

pytestmark = pytest.mark.django_db

State = ServiceRequest.State
Kind = RequestEvent.Kind
Rating = ServiceRequest.Rating
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
# A Friday afternoon in Qingdao.
FRIDAY = datetime.datetime(2026, 12, 4, 15, 0, tzinfo=SHANGHAI)
MOBILE = "13912345678"


@pytest.fixture
def org(db):
    return make_organisation()


def report(
    org,
    *,
    category=None,
    place=None,
    description="楼上每晚十一点后还在装修,电钻声很大。",
    now=FRIDAY,
    **extra,
):
    details = {"address": "石岭路 8 号 3 单元", "mobile": MOBILE, "name": "王阿姨", **extra}
    request, _created = handling.receive(
        category=category or org.noise,
        place=place or org.shiling,
        description=description,
        now=now,
        **details,
    )
    return request


def trail(request):
    return list(
        RequestEvent.objects.filter(request=request).values_list(
            "kind", "from_state", "to_state", "actor_name"
        )
    )


def later(hours):
    return FRIDAY + datetime.timedelta(hours=hours)


# Arrival.


def test_a_request_arrives_at_the_community_the_resident_chose_with_working_day_due_dates(org):
    request = report(org)
    assert (request.state, request.unit, request.place) == (
        State.RECEIVED,
        org.shiling,
        org.shiling,
    )
    # Received on a Friday: one working day to respond is Monday, five to resolve the next Friday.
    assert request.response_due_on == datetime.date(2026, 12, 7)
    assert request.resolution_due_on == datetime.date(2026, 12, 11)
    assert len(request.reference) == 8 and request.reference[0] != "0"
    assert trail(request) == [(Kind.RECEIVED, "", State.RECEIVED, "")]


def test_due_dates_skip_the_national_day_holidays_and_count_the_make_up_workday(org):
    before_holidays = datetime.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    request = report(org, now=before_holidays)
    # 1–7 October are holidays; Saturday 10 October is worked in lieu.
    assert request.response_due_on == datetime.date(2026, 10, 8)
    assert request.resolution_due_on == datetime.date(2026, 10, 13)


def test_the_same_report_posted_twice_within_minutes_makes_one_request(org):
    first = report(org)
    again, created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="  楼上每晚十一点后还在装修,电钻声很大。 ",
        address="石岭路 8 号",
        mobile="+86 139 1234 5678",
        now=later(0.2),
    )
    assert (again.pk, created) == (first.pk, False)
    assert report(org, description="另一件事:垃圾桶满了没人清。", now=later(0.3)).pk != first.pk
    assert report(org, now=later(1)).pk != first.pk
    assert ServiceRequest.objects.count() == 3


def test_what_the_resident_wrote_is_encrypted_at_rest(org):
    request = report(org)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT description, address, name, mobile FROM service_requests_servicerequest"
            " WHERE id = %s",
            [request.pk],
        )
        stored = cursor.fetchone()
    assert not any(
        secret in value
        for value, secret in zip(stored, ("装修", "石岭路", "王阿姨", MOBILE), strict=True)
    )
    assert ServiceRequest.objects.for_mobile("139 1234 5678").get() == request


# The whole journey.


def test_a_request_goes_down_to_the_grid_is_reopened_by_the_resident_and_settled_above(org):
    request = report(org)
    request = handling.assign(request, org.shiling_handler, org.grid, now=later(1))
    assert (request.state, request.unit) == (State.ASSIGNED, org.grid)
    assert RequestEvent.objects.get(request=request, kind=Kind.ASSIGNED).text == ""
    request = handling.accept(request, org.grid_worker, now=later(2))
    assert request.responded_at == later(2)
    request = handling.reply(
        request, org.grid_worker, "已上门提醒业主晚上十点后停止施工。", now=later(3)
    )
    assert (request.state, request.replied_at) == (State.REPLIED, later(3))

    request = handling.rate(request, Rating.DISSATISFIED, "还是很吵", now=later(30))
    assert (request.state, request.round, request.replied_at) == (State.REOPENED, 2, None)
    # The second handling gets its own five working days, from Saturday: to Friday 11 December.
    assert request.resolution_due_on == datetime.date(2026, 12, 11)

    request = handling.escalate(request, org.grid_worker, "业主不配合,需社区协调。", now=later(48))
    assert (request.state, request.unit) == (State.ESCALATED, org.shiling)
    request = handling.accept(request, org.shiling_handler, now=later(49))
    request = handling.reply(
        request, org.shiling_handler, "社区约谈业主,已签承诺书。", now=later(50)
    )
    request = handling.rate(request, Rating.SATISFIED, now=later(60))
    assert (request.state, request.closed_at, request.rating) == (
        State.CLOSED,
        later(60),
        Rating.SATISFIED,
    )
    # Closing keeps the second round's due date; only reopening sets a new one.
    assert request.resolution_due_on == datetime.date(2026, 12, 11)
    ratings = RequestEvent.objects.filter(request=request, kind=Kind.RATED)
    assert list(ratings.values_list("text", flat=True)) == ["不满意:还是很吵", "满意"]
    assert trail(request) == [
        (Kind.RECEIVED, "", State.RECEIVED, ""),
        (Kind.ASSIGNED, State.RECEIVED, State.ASSIGNED, "shiling_handler"),
        (Kind.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS, "grid_worker"),
        (Kind.REPLIED, State.IN_PROGRESS, State.REPLIED, "grid_worker"),
        (Kind.RATED, State.REPLIED, State.REOPENED, ""),
        (Kind.ESCALATED, State.REOPENED, State.ESCALATED, "grid_worker"),
        (Kind.ACCEPTED, State.ESCALATED, State.IN_PROGRESS, "shiling_handler"),
        (Kind.REPLIED, State.IN_PROGRESS, State.REPLIED, "shiling_handler"),
        (Kind.RATED, State.REPLIED, State.CLOSED, ""),
    ]
    escalation = RequestEvent.objects.get(request=request, kind=Kind.ESCALATED)
    assert (escalation.unit, escalation.to_unit, escalation.text) == (
        org.grid,
        org.shiling,
        "业主不配合,需社区协调。",
    )


def test_a_second_dissatisfied_rating_closes_the_request_instead_of_going_round_again(org):
    request = handling.accept(report(org), org.shiling_handler, now=later(1))
    request = handling.reply(request, org.shiling_handler, "已处理。", now=later(2))
    request = handling.rate(request, Rating.DISSATISFIED, now=later(3))
    request = handling.accept(request, org.shiling_handler, now=later(4))
    request = handling.reply(request, org.shiling_handler, "再次处理。", now=later(5))
    request = handling.rate(request, Rating.DISSATISFIED, "仍不满意", now=later(6))
    assert (request.state, request.round, request.rating) == (State.CLOSED, 2, Rating.DISSATISFIED)
    with pytest.raises(RequestRefused) as refused:
        handling.rate(request, Rating.SATISFIED, now=later(7))
    assert refused.value.code == "not_replied"


def test_a_reply_the_category_holds_for_approval_goes_out_only_when_a_supervisor_approves(org):
    rental = Category.objects.create(
        name="群租房",
        code="group-rental",
        response_days=2,
        resolution_days=10,
        reply_needs_approval=True,
    )
    request = handling.accept(report(org, category=rental), org.shiling_handler, now=later(1))
    request = handling.reply(request, org.shiling_handler, "已核查,确有群租。", now=later(2))
    assert (request.state, request.replied_at) == (State.AWAITING_APPROVAL, None)
    for not_supervisor in (org.shiling_handler, org.first_head):
        with pytest.raises(RequestRefused) as refused:
            handling.approve_reply(request, not_supervisor)
        assert refused.value.code == "forbidden"
    with pytest.raises(RequestRefused):
        handling.return_reply(request, org.supervisor, "   ")
    request = handling.return_reply(request, org.supervisor, "请写明整改期限。", now=later(3))
    assert request.state == State.IN_PROGRESS
    returned = RequestEvent.objects.get(request=request, kind=Kind.REPLY_RETURNED)
    assert (returned.text, returned.actor) == ("请写明整改期限。", org.supervisor)
    request = handling.reply(request, org.shiling_handler, "已核查,限期 7 日整改。", now=later(4))
    request = handling.approve_reply(request, org.supervisor, now=later(5))
    assert (request.state, request.replied_at, request.reply) == (
        State.REPLIED,
        later(5),
        "已核查,限期 7 日整改。",
    )
    assert [kind for kind, *_rest in trail(request)] == [
        Kind.RECEIVED,
        Kind.ACCEPTED,
        Kind.REPLY_SUBMITTED,
        Kind.REPLY_RETURNED,
        Kind.REPLY_SUBMITTED,
        Kind.REPLIED,
    ]


def test_a_rejection_needs_a_reason_the_resident_reads(org):
    request = report(org)
    with pytest.raises(RequestRefused) as refused:
        handling.reject(request, org.shiling_handler, " ")
    assert "理由" in refused.value.message
    assert ServiceRequest.objects.get(pk=request.pk).state == State.RECEIVED
    request = handling.reject(
        request, org.shiling_handler, "属于市级部门职责,请拨打 12345。", now=later(1)
    )
    assert (request.state, request.rejection_reason, request.closed_at) == (
        State.REJECTED,
        "属于市级部门职责,请拨打 12345。",
        later(1),
    )
    assert request.responded_at == later(1)
    rejected = RequestEvent.objects.get(request=request, kind=Kind.REJECTED)
    assert rejected.text == "属于市级部门职责,请拨打 12345。"


def test_a_duplicate_is_merged_into_the_earlier_request(org):
    original = report(org)
    duplicate = report(org, description="隔壁装修太吵", mobile="13800000000", now=later(1))
    with pytest.raises(RequestRefused):
        handling.merge(duplicate, org.shiling_handler, duplicate)
    merged = handling.merge(duplicate, org.shiling_handler, original, now=later(2))
    assert (merged.state, merged.duplicate_of, merged.closed_at) == (
        State.MERGED,
        original,
        later(2),
    )
    event = RequestEvent.objects.get(request=merged, kind=Kind.MERGED)
    assert (event.text, event.at) == (f"与诉求 {original.reference_display} 合并办理。", later(2))
    with pytest.raises(RequestRefused):
        handling.merge(original, org.shiling_handler, merged)


def test_replies_nobody_rates_close_after_seven_days(org):
    replied = []
    for number in range(2):
        request = report(org, description=f"第 {number} 件", now=later(number))
        request = handling.accept(request, org.shiling_handler, now=later(1))
        replied.append(handling.reply(request, org.shiling_handler, "已处理。", now=later(2)))
    assert handling.close_unrated(now=later(2) + datetime.timedelta(days=6)) == 0
    week_on = later(3) + datetime.timedelta(days=7)
    assert handling.close_unrated(now=week_on) == 2
    for request in replied:
        request.refresh_from_db()
        assert (request.state, request.rating, request.closed_at) == (State.CLOSED, "", week_on)
    assert handling.close_unrated(now=later(3) + datetime.timedelta(days=8)) == 0
    closing = RequestEvent.objects.filter(request=replied[0]).last()
    assert (closing.kind, closing.from_state, closing.to_state, closing.text) == (
        Kind.CLOSED,
        State.REPLIED,
        State.CLOSED,
        "居民在 7 天内没有评价,自动办结。",
    )


# Who may do what.


def test_each_unit_sees_only_the_requests_of_its_subtree(org):
    at_grid = handling.assign(report(org), org.shiling_handler, org.grid, now=later(1))
    at_haian = report(org, place=org.haian, description="海岸社区的垃圾站", now=later(2))
    user_model = get_user_model()
    editor = user_model.objects.create_user(username="editor", password="x" * 16, is_staff=True)

    def seen_by(user):
        return set(ServiceRequest.objects.visible_to(user))

    assert seen_by(org.grid_worker) == {at_grid}
    assert seen_by(org.other_grid_worker) == set()
    assert seen_by(org.shiling_handler) == {at_grid}
    assert seen_by(org.first_head) == {at_grid}
    assert seen_by(org.haian_handler) == {at_haian}
    assert seen_by(org.supervisor) == {at_grid, at_haian}
    assert seen_by(editor) == set()
    for outsider in (org.other_grid_worker, org.haian_handler, editor):
        with pytest.raises(RequestRefused) as refused:
            handling.add_note(at_grid, outsider, "看一眼")
        assert refused.value.code == "forbidden"
    assert RequestEvent.objects.filter(request=at_grid, kind=Kind.NOTE).count() == 0


def test_grid_workers_settle_or_pass_up_and_handlers_pass_down_only_within_their_subtree(org):
    request = handling.assign(report(org), org.shiling_handler, org.grid, now=later(1))
    for action in (
        lambda: handling.assign(request, org.grid_worker, org.other_grid),
        lambda: handling.reject(request, org.grid_worker, "不归我管"),
    ):
        with pytest.raises(RequestRefused) as refused:
            action()
        assert refused.value.code == "forbidden"
    with pytest.raises(RequestRefused):
        handling.assign(request, org.shiling_handler, org.haian)
    moved = handling.assign(request, org.supervisor, org.haian, "属海岸社区辖区", now=later(2))
    assert moved.unit == org.haian
    assert handling.allowed_actions(org.grid_worker, moved) == set()
    assert handling.allowed_actions(org.haian_handler, moved) == {
        handling.Action.NOTE,
        handling.Action.ACCEPT,
        handling.Action.ESCALATE,
        handling.Action.ASSIGN,
        handling.Action.MERGE,
        handling.Action.REJECT,
    }


def test_sending_a_request_to_the_unit_that_has_it_changes_nothing(org):
    request = report(org)
    with pytest.raises(RequestRefused) as refused:
        handling.assign(request, org.supervisor, org.shiling)
    assert (refused.value.code, refused.value.message) == (
        "same_unit",
        "这条诉求已经由“第一管区 › 石岭路社区”承办。",
    )
    assert trail(request) == [(Kind.RECEIVED, "", State.RECEIVED, "")]


def test_the_subdistrict_cannot_pass_a_request_further_up(org):
    request = handling.assign(report(org), org.supervisor, org.subdistrict, now=later(1))
    with pytest.raises(RequestRefused) as refused:
        handling.escalate(request, org.supervisor, "无处可报")
    assert refused.value.code == "top"
    assert handling.Action.ESCALATE not in handling.allowed_actions(org.supervisor, request)


def test_an_action_from_a_page_loaded_before_someone_else_acted_changes_nothing(org):
    seen_by_two = handling.assign(report(org), org.shiling_handler, org.grid, now=later(1))
    handling.accept(seen_by_two, org.grid_worker, now=later(2))
    with pytest.raises(RequestRefused) as refused:
        handling.accept(seen_by_two, org.shiling_handler, now=later(3))
    assert (refused.value.code, refused.value.message) == (
        "stale",
        "这条诉求现在的状态是“办理中”,刚才的操作没有执行。请看最新的办理情况后再操作。",
    )
    assert [kind for kind, *_rest in trail(seen_by_two)].count(Kind.ACCEPTED) == 1


def test_a_bad_rating_or_a_rating_before_the_reply_is_refused(org):
    request = report(org)
    with pytest.raises(RequestRefused) as refused:
        handling.rate(request, Rating.SATISFIED)
    assert (refused.value.code, refused.value.message) == (
        "not_replied",
        "这条诉求现在不能评价:答复之后才能评价,每次答复评价一次。",
    )
    with pytest.raises(RequestRefused) as refused:
        handling.rate(request, "excellent")
    assert (refused.value.code, refused.value.message) == (
        "bad_rating",
        "请选择满意、基本满意或不满意。",
    )
    assert ServiceRequest.objects.get(pk=request.pk).rating == ""


# Due dates.


def test_overdue_and_due_today_follow_the_first_response_and_the_resolution_dates(org):
    waiting = report(org)
    answered = handling.accept(
        report(org, description="另一件事", now=FRIDAY), org.shiling_handler, now=later(1)
    )
    monday, tuesday = datetime.date(2026, 12, 7), datetime.date(2026, 12, 8)
    open_requests = ServiceRequest.objects.all()
    assert set(open_requests.due_on(monday)) == {waiting}
    assert set(open_requests.overdue(monday)) == set()
    assert set(open_requests.overdue(tuesday)) == {waiting}
    assert waiting.is_overdue(tuesday) and not answered.is_overdue(tuesday)
    assert set(open_requests.overdue(datetime.date(2026, 12, 12))) == {waiting, answered}
    handling.reject(answered, org.shiling_handler, "重复反映", now=later(2))
    assert set(open_requests.overdue(datetime.date(2026, 12, 12))) == {waiting}


# The trail.


def test_the_trail_is_append_only(org):
    event = RequestEvent.objects.get(request=report(org))
    event.text = "改写"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        RequestEvent.objects.filter(pk=event.pk).update(text="改写")
    with pytest.raises(TypeError):
        RequestEvent.objects.all().delete()
    assert RequestEvent.objects.get(pk=event.pk).text == ""


def test_a_requests_state_cannot_be_set_except_by_a_transition(org):
    request = report(org)
    with pytest.raises(AttributeError):
        request.state = State.CLOSED


# The demo.


def test_the_demo_has_sixty_requests_in_every_state_each_with_its_trail_and_seeds_once(home):
    from demo import organisation, service_requests

    organisation.seed()
    service_requests.seed(home)
    service_requests.seed(home)
    requests = ServiceRequest.objects.all()
    assert requests.count() == 60
    assert ReportPage.objects.child_of(home).live().count() == 1
    # Made-up residents: their messages count as sent, none left to deliver.
    assert not RequestMessage.objects.exclude(state=RequestMessage.State.SENT).exists()
    assert set(requests.values_list("state", flat=True)) == set(State.values)
    for request in requests:
        kinds = list(request.events.values_list("kind", flat=True))
        assert kinds[0] == Kind.RECEIVED
        transitions = request.events.exclude(to_state="")
        assert transitions.last().to_state == request.state
    assert requests.filter(round=2).exists()
    assert RequestEvent.objects.filter(kind=Kind.REPLY_SUBMITTED).exists()


# What each refusal says, and what each step records.


def refusals(org):
    at_grid = handling.assign(report(org), org.shiling_handler, org.grid, now=later(1))
    at_top = handling.assign(
        report(org, description="街道层级的事", now=later(2)), org.supervisor, org.subdistrict
    )
    return [
        (
            lambda: handling.escalate(at_grid, org.grid_worker, None),
            "reason_required",
            "请写明上报的理由,上级单位据此办理。",
        ),
        (
            lambda: handling.add_note(at_grid, org.grid_worker, " \n"),
            "reason_required",
            "备注不能为空。",
        ),
        (
            lambda: handling.reject(at_grid, org.shiling_handler, ""),
            "reason_required",
            "请写明不予受理的理由,居民会看到这段话。",
        ),
        (
            lambda: handling.return_reply(at_grid, org.supervisor, ""),
            "reason_required",
            "请写明退回的理由,承办单位据此修改答复。",
        ),
        (
            lambda: handling.reply(at_grid, org.grid_worker, ""),
            "reason_required",
            "请填写给居民的答复。",
        ),
        (
            lambda: handling.assign(at_grid, org.shiling_handler, org.haian),
            "forbidden",
            "您不能把诉求派给“第二管区 › 海岸社区”。",
        ),
        (
            lambda: handling.add_note(at_grid, org.haian_handler, "看看"),
            "forbidden",
            "您的岗位不能对这条诉求做这项操作。",
        ),
        (
            lambda: handling.escalate(at_top, org.supervisor, "再往上"),
            "top",
            "街道已是最高一级,不能再上报。",
        ),
        (
            lambda: handling.merge(at_grid, org.shiling_handler, at_grid),
            "same_request",
            "不能把诉求合并到它自己。",
        ),
        (
            lambda: handling.merge(at_grid, org.shiling_handler, at_top),
            "bad_original",
            "只能合并到您看得到、尚未被合并的另一条诉求。",
        ),
    ]


def test_every_refusal_says_what_to_do_and_changes_nothing(org):
    for attempt, code, message in refusals(org):
        events = RequestEvent.objects.count()
        with pytest.raises(RequestRefused) as refused:
            attempt()
        assert (refused.value.code, refused.value.message, str(refused.value)) == (
            code,
            message,
            message,
        )
        assert RequestEvent.objects.count() == events


def test_each_step_records_who_when_and_what_was_written(org):
    request = handling.assign(
        report(org), org.shiling_handler, org.grid, "请当天上门", now=later(1)
    )
    handling.add_note(request, org.grid_worker, "已电话联系", now=later(2))
    request = handling.accept(request, org.grid_worker, now=later(3))
    handling.reply(request, org.grid_worker, "已上门劝停施工", now=later(4))
    events = list(RequestEvent.objects.filter(request=request))
    assert [(e.actor, e.at, e.text) for e in events] == [
        (None, FRIDAY, ""),
        (org.shiling_handler, later(1), "请当天上门"),
        (org.grid_worker, later(2), "已电话联系"),
        (org.grid_worker, later(3), ""),
        (org.grid_worker, later(4), "已上门劝停施工"),
    ]
    assert [e.unit for e in events] == [org.shiling, org.shiling, org.grid, org.grid, org.grid]


def test_a_district_passes_a_request_up_to_the_subdistrict(org):
    request = handling.assign(report(org), org.supervisor, org.first, now=later(1))
    request = handling.escalate(request, org.first_head, "需街道统筹", now=later(2))
    assert (request.state, request.unit) == (State.ESCALATED, org.subdistrict)


def test_what_the_resident_gave_is_kept_as_given(org):
    request, created = handling.receive(
        category=org.noise,
        place=org.haian,
        description="海岸社区 3 号楼  楼道\n堆物",
        address="海口路 66 号",
        mobile="13800000001",
        email="resident@example.com",
        publish_consent=True,
        now=FRIDAY,
    )
    assert created and (request.name, request.email) == ("", "resident@example.com")
    assert request.publish_consent_at == FRIDAY
    quiet, _created = handling.receive(
        category=org.noise,
        place=org.haian,
        description="另一件事",
        address="海口路",
        mobile="13800000001",
        now=FRIDAY,
    )
    assert (quiet.name, quiet.email, quiet.publish_consent_at) == ("", "", None)
    # The same words with other spacing are the same report.
    again, created = handling.receive(
        category=org.noise,
        place=org.haian,
        description="海岸社区 3 号楼 楼道 堆物",
        address="海口路 66 号",
        mobile="13800000001",
        now=later(0.1),
    )
    assert (again.pk, created) == (request.pk, False)


def test_only_supervisors_approve_or_return_replies_and_grid_workers_send_nowhere(org):
    org.noise.reply_needs_approval = True
    org.noise.save()
    request = handling.accept(report(org), org.shiling_handler, now=later(1))
    request = handling.reply(request, org.shiling_handler, "已处理", now=later(2))
    Action = handling.Action
    assert handling.allowed_actions(org.first_head, request) == {Action.NOTE}
    assert handling.allowed_actions(org.supervisor, request) == {
        Action.NOTE,
        Action.APPROVE,
        Action.RETURN,
    }
    with pytest.raises(RequestRefused):
        handling.return_reply(request, org.first_head, "改一下")
    assert not handling.assignable_units(org.grid_worker).exists()
    editor = get_user_model().objects.create_user("editor", password="x" * 16)
    assert not handling.assignable_units(editor).exists()
    assert set(handling.assignable_units(org.shiling_handler)) == {
        org.shiling,
        org.grid,
        org.other_grid,
    }

"""The resident's side of a request (/suqiu/): looking it up with its reference
and mobile, what the status page shows and hides, rating the reply, and the
limits, refusals and outages around them."""

import datetime

import pytest
from django.core import mail
from django.test import Client

from portal.service_requests import handling
from portal.service_requests.models import RequestEvent, ServiceRequest
from portal.service_requests.views import SESSION_KEY
from tests.factories import make_organisation
from tests.outages import lock_wait, writes_held

LOOKUP = "/suqiu/chaxun/"
STATUS = "/suqiu/jindu/"
LEAVE = "/suqiu/tuichu/"
MOBILE = "13912345678"
State = ServiceRequest.State
Rating = ServiceRequest.Rating


@pytest.fixture
def org(db):
    org = make_organisation()
    org.supervisor.email = "supervisor@jinjialing.example"
    org.supervisor.save()
    return org


def report(org, description="楼上深夜装修,电钻声很大。"):
    request, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description=description,
        address="石岭路 8 号 502 室",
        mobile=MOBILE,
        name="王阿姨",
    )
    return request


@pytest.fixture
def replied(org):
    """Sent to the grid with a reason, noted, passed up with a reason, taken on
    by the 社区 and answered."""
    request = handling.assign(report(org), org.shiling_handler, org.grid, "内部派单说明")
    handling.add_note(request, org.grid_worker, "内部备注:业主姓李")
    request = handling.escalate(request, org.grid_worker, "内部上报理由")
    request = handling.accept(request, org.shiling_handler)
    return handling.reply(request, org.shiling_handler, "社区已约谈业主,晚上十点后停止施工。")


def look_up(client, request, mobile=MOBILE):
    return client.post(LOOKUP, {"reference": request.reference_display, "mobile": mobile})


def test_the_resident_finds_the_request_with_its_code_and_mobile_however_typed(
    client, org, replied
):
    response = client.post(
        LOOKUP,
        {
            "reference": f" {replied.reference[:4]}-{replied.reference[4:]} ",
            "mobile": "+86 139-1234-5678",
        },
    )
    assert response.status_code == 302 and response["Location"] == STATUS
    page = client.get(STATUS)
    assert "no-cache" in page["Cache-Control"] or "private" in page["Cache-Control"]
    html = page.content.decode()
    for shown in (
        "已答复,请您评价",
        "噪音扰民",
        "石岭路社区",
        "楼上深夜装修",
        "社区已约谈业主,晚上十点后停止施工。",
        "收到您的诉求",
        "转交第一管区 › 石岭路社区 › 第1网格办理",
        "上报第一管区 › 石岭路社区协调办理",
        "110",
        "12337",
    ):
        assert shown in html
    for hidden in ("内部派单说明", "内部备注", "内部上报理由", MOBILE, "石岭路 8 号"):
        assert hidden not in html


def test_a_wrong_mobile_or_code_finds_nothing_and_says_what_to_check(client, org, replied):
    for reference, mobile in (
        (replied.reference_display, "13800000000"),
        ("1111 1111", MOBILE),
    ):
        response = client.post(LOOKUP, {"reference": reference, "mobile": mobile})
        assert response.status_code == 404
        assert "没有找到这条诉求" in response.content.decode()
    assert SESSION_KEY not in client.session
    response = client.post(LOOKUP, {"reference": "12", "mobile": "123"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "诉求编号是 8 位数字" in html and "请输入 11 位中国大陆手机号码" in html


def test_lookups_are_limited_per_visitor(client, org, replied):
    for _attempt in range(10):
        assert client.post(LOOKUP, {"reference": "1111 1111", "mobile": MOBILE}).status_code == 404
    response = look_up(client, replied)
    assert response.status_code == 429 and "尝试次数过多" in response.content.decode()


def test_rating_satisfied_closes_the_request(client, org, replied):
    look_up(client, replied)
    response = client.post(STATUS, {"rating": Rating.SATISFIED, "comment": "谢谢"}, follow=True)
    assert "谢谢您的评价,这条诉求已办结。" in response.content.decode()
    stored = ServiceRequest.objects.get(pk=replied.pk)
    assert (stored.state, stored.rating, stored.rating_comment) == (
        State.CLOSED,
        Rating.SATISFIED,
        "谢谢",
    )
    assert "提交评价" not in response.content.decode()
    assert mail.outbox == []
    again = client.post(STATUS, {"rating": Rating.DISSATISFIED})
    assert again.status_code == 409 and "答复之后才能评价" in again.content.decode()


def test_rating_dissatisfied_reopens_the_request_and_tells_the_supervisor(
    client, org, replied, django_capture_on_commit_callbacks
):
    look_up(client, replied)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            STATUS, {"rating": Rating.DISSATISFIED, "comment": "晚上还在施工"}, follow=True
        )
    assert "这件事将重新办理" in response.content.decode()
    stored = ServiceRequest.objects.get(pk=replied.pk)
    assert (stored.state, stored.round) == (State.REOPENED, 2)
    (message,) = mail.outbox
    assert message.to == ["supervisor@jinjialing.example"]
    assert replied.reference_display in message.subject and "重办" in message.body
    assert "晚上还在施工" not in message.body and "王阿姨" not in message.body


def test_an_invalid_or_robot_rating_changes_nothing(client, org, replied):
    look_up(client, replied)
    response = client.post(STATUS, {"rating": "excellent", "comment": "x" * 201})
    html = response.content.decode()
    assert response.status_code == 400
    assert "请选择满意、基本满意或不满意。" in html and "意见最多 200 个字。" in html
    client.post(STATUS, {"rating": Rating.SATISFIED, "website": "http://spam.example"})
    assert ServiceRequest.objects.get(pk=replied.pk).state == State.REPLIED
    assert not RequestEvent.objects.filter(request=replied, kind=RequestEvent.Kind.RATED).exists()


def test_the_session_forgets_the_request_after_half_an_hour_or_on_leaving(client, org, replied):
    look_up(client, replied)
    session = client.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "at": session[SESSION_KEY]["at"] - 31 * 60}
    session.save()
    assert client.get(STATUS)["Location"] == LOOKUP
    look_up(client, replied)
    client.post(LEAVE)
    assert client.get(STATUS)["Location"] == LOOKUP
    assert Client().get(STATUS)["Location"] == LOOKUP


def test_an_erased_request_cannot_be_looked_up(client, org, replied):
    closed = handling.rate(replied, Rating.SATISFIED)
    handling.erase_personal_data(closed.closed_at + datetime.timedelta(seconds=1))
    assert look_up(client, replied).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_answers_busy_and_keeps_what_was_typed():
    org = make_organisation()
    request = report(org)
    client = Client()
    client.get(LOOKUP)  # the site's settings are read once and kept
    with lock_wait(0.5), writes_held():
        response = client.post(LOOKUP, {"reference": request.reference_display, "mobile": MOBILE})
    assert response.status_code == 503
    html = response.content.decode()
    assert "系统繁忙" in html and f'value="{request.reference_display}"' in html
    assert look_up(client, request).status_code == 302

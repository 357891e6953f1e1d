"""The work-order queue in the admin (portal/service_requests/admin_views.py):
who reaches which request, what the list and a request's page show, the
actions from the page, the trail's export, and the access log every look at
residents' requests leaves."""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from portal.core.groups import COORDINATORS, EDITORS
from portal.service_requests import handling, photos
from portal.service_requests.models import RequestAccessLog, RequestEvent, ServiceRequest
from tests.factories import log_in_verified, make_organisation

pytestmark = pytest.mark.django_db

QUEUE = "/admin/service_requests/requests/"
ACCESS_LOG = "/admin/service_requests/access-log/"
State = ServiceRequest.State
MOBILE = "13912345678"


@pytest.fixture
def org(db):
    org = make_organisation()
    users = get_user_model().objects
    org.superuser = users.create_superuser("root", password="x" * 16)
    for name, group in (("editor", EDITORS), ("coordinator", COORDINATORS)):
        user = users.create_user(name, password="x" * 16)
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        setattr(org, name, user)
    return org


def report(org, place=None, description="楼上深夜装修,电钻声很大。", **extra):
    request, _created = handling.receive(
        category=org.noise,
        place=place or org.shiling,
        description=description,
        address="石岭路 8 号 3 单元 502",
        mobile=MOBILE,
        name="王阿姨",
        **extra,
    )
    return request


@pytest.fixture
def at_grid(org):
    """A request the 社区 has sent on to its 第1网格, with a photo."""
    request = handling.assign(report(org), org.shiling_handler, org.grid)
    photos.attach(photos.store_pending([photos.prepare(a_photo())]), request)
    return request


def a_photo():
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 120, 30)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), "image/jpeg")


def as_user(client, user):
    if user is not None:
        log_in_verified(client, user)
    return client


# Who reaches what.

ROLES = (
    "anonymous",
    "editor",
    "coordinator",
    "grid_worker",
    "other_grid_worker",
    "shiling_handler",
    "haian_handler",
    "first_head",
    "supervisor",
    "superuser",
)
ok, login, denied, absent = "ok", "login", "denied", "absent"
# For the request at 第1网格: its grid, the 社区 and 管区 above it, the 街道
# and superusers reach it; other units' staff are told it does not exist.
SUBTREE = (login, denied, denied, ok, absent, ok, absent, ok, ok, ok)
POSTS = (login, denied, denied, ok, ok, ok, ok, ok, ok, ok)
EXPECTED = {
    ("GET", QUEUE): POSTS,
    ("GET", f"{QUEUE}results/"): POSTS,
    ("GET", f"{QUEUE}?export=csv"): POSTS,
    ("GET", f"{QUEUE}?export=xlsx"): POSTS,
    ("GET", f"{QUEUE}{{pk}}/"): SUBTREE,
    ("GET", f"{QUEUE}{{pk}}/trail.csv"): SUBTREE,
    ("GET", f"{QUEUE}{{pk}}/photos/{{photo}}/"): SUBTREE,
    ("POST", f"{QUEUE}{{pk}}/act/note/"): SUBTREE,
    ("GET", ACCESS_LOG): (login, denied, denied, denied, denied, denied, denied, denied, ok, ok),
    # No generic views exist: requests change only through the actions.
    ("GET", f"{QUEUE}{{pk}}/edit/"): (login,) + (absent,) * (len(ROLES) - 1),
    ("GET", f"{QUEUE}{{pk}}/delete/"): (login,) + (absent,) * (len(ROLES) - 1),
}


def outcome(response):
    if response.status_code == 302 and "/admin/login/" in response["Location"]:
        return login
    if response.status_code == 403:
        return denied
    if response.status_code == 404:
        return absent
    if response.status_code in (200, 302):
        return ok
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_each_kind_of_staff_reaches_exactly_the_requests_of_its_post(client, org, at_grid, role):
    as_user(client, getattr(org, role, None))
    found = {}
    for method, url in EXPECTED:
        url = url.format(pk=at_grid.pk, photo=at_grid.photos.get().pk)
        data = {"note-text": "电话联系了居民"} if method == "POST" else None
        response = getattr(client, method.lower())(url, data)
        found[(method, url)] = outcome(response)
    expected = {
        (method, url.format(pk=at_grid.pk, photo=at_grid.photos.get().pk)): outcomes[
            ROLES.index(role)
        ]
        for (method, url), outcomes in EXPECTED.items()
    }
    assert found == expected
    notes = RequestEvent.objects.filter(request=at_grid, kind=RequestEvent.Kind.NOTE).count()
    assert notes == (1 if expected[("POST", f"{QUEUE}{at_grid.pk}/act/note/")] == ok else 0)


def test_the_queue_lists_a_units_subtree_without_residents_details_and_logs_the_look(
    client, org, at_grid
):
    elsewhere = report(org, place=org.haian, description="海岸社区的垃圾站满了")
    as_user(client, org.shiling_handler)
    page = client.get(QUEUE).content.decode()
    assert at_grid.reference_display in page and elsewhere.reference_display not in page
    assert "第一管区 › 石岭路社区 › 第1网格" in page
    for personal in ("王阿姨", MOBILE, "石岭路 8 号", "电钻"):
        assert personal not in page
    entry = RequestAccessLog.objects.get()
    assert (entry.username, entry.action, entry.references) == (
        "shiling_handler",
        RequestAccessLog.Action.LIST,
        at_grid.reference,
    )


def test_a_requests_page_shows_the_resident_the_trail_and_the_actions_of_the_post(
    client, org, at_grid
):
    as_user(client, org.grid_worker)
    page = client.get(f"{QUEUE}{at_grid.pk}/").content.decode()
    for shown in ("王阿姨", MOBILE, "石岭路 8 号 3 单元 502", "楼上深夜装修", "收到诉求", "派单"):
        assert shown in page
    # A grid worker takes on, notes and passes up; passing down, merging and
    # rejecting are not theirs.
    assert "/act/accept/" in page and "/act/escalate/" in page and "/act/note/" in page
    for not_offered in ("/act/assign/", "/act/merge/", "/act/reject/", "/act/reply/"):
        assert not_offered not in page
    assert RequestAccessLog.objects.get().action == RequestAccessLog.Action.VIEW


def test_staff_take_a_request_on_and_answer_it_from_its_page(client, org, at_grid):
    as_user(client, org.grid_worker)
    response = client.post(f"{QUEUE}{at_grid.pk}/act/accept/")
    assert response.status_code == 302 and response["Location"] == f"{QUEUE}{at_grid.pk}/"
    response = client.post(f"{QUEUE}{at_grid.pk}/act/reply/", {"reply-text": "  "}, follow=True)
    assert "请填写内容。" in response.content.decode()
    assert ServiceRequest.objects.get(pk=at_grid.pk).state == State.IN_PROGRESS
    response = client.post(
        f"{QUEUE}{at_grid.pk}/act/reply/", {"reply-text": "已上门提醒,施工已停止。"}, follow=True
    )
    assert "现在的状态是“已答复”" in response.content.decode()
    stored = ServiceRequest.objects.get(pk=at_grid.pk)
    assert (stored.state, stored.reply) == (State.REPLIED, "已上门提醒,施工已停止。")
    changes = RequestAccessLog.objects.filter(action=RequestAccessLog.Action.CHANGE)
    assert list(changes.values_list("detail", flat=True)) == ["reply", "accept"]


def test_an_action_the_request_has_moved_past_is_refused_with_its_state(client, org, at_grid):
    handling.accept(at_grid, org.grid_worker)
    as_user(client, org.shiling_handler)
    response = client.post(f"{QUEUE}{at_grid.pk}/act/accept/", follow=True)
    assert "这条诉求现在的状态是“办理中”" in response.content.decode()
    assert RequestEvent.objects.filter(request=at_grid).count() == 3


def test_passing_a_request_down_offers_only_the_units_below_and_leaves_the_queue_of_the_sender(
    client, org
):
    request = report(org)
    as_user(client, org.shiling_handler)
    page = client.get(f"{QUEUE}{request.pk}/").content.decode()
    assign_form = page[
        page.index('name="assign-unit"') : page.index("</select>", page.index('name="assign-unit"'))
    ]
    assert "第1网格" in assign_form and "第2网格" in assign_form and "海岸社区" not in assign_form
    response = client.post(
        f"{QUEUE}{request.pk}/act/assign/", {"assign-unit": org.haian.pk, "assign-text": ""}
    )
    assert ServiceRequest.objects.get(pk=request.pk).unit == org.shiling
    response = client.post(
        f"{QUEUE}{request.pk}/act/assign/", {"assign-unit": org.grid.pk, "assign-text": "请核实"}
    )
    assert ServiceRequest.objects.get(pk=request.pk).unit == org.grid
    assert response["Location"] == f"{QUEUE}{request.pk}/"  # the 社区 still sees its grid's


def test_a_duplicate_is_merged_by_its_reference_as_staff_read_it_out(client, org):
    original = report(org)
    duplicate = report(org, description="同一处装修噪音")
    as_user(client, org.shiling_handler)
    client.post(f"{QUEUE}{duplicate.pk}/act/merge/", {"merge-reference": "9999 9999"})
    assert ServiceRequest.objects.get(pk=duplicate.pk).state == State.RECEIVED
    spoken = original.reference_display.replace(" ", "-")
    client.post(f"{QUEUE}{duplicate.pk}/act/merge/", {"merge-reference": spoken})
    assert ServiceRequest.objects.get(pk=duplicate.pk).duplicate_of == original


def test_the_trail_exports_as_a_spreadsheet_that_excel_reads_and_cannot_run(client, org, at_grid):
    handling.add_note(at_grid, org.grid_worker, '=HYPERLINK("http://example.com")')
    as_user(client, org.supervisor)
    response = client.get(f"{QUEUE}{at_grid.pk}/trail.csv")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:2] == ["时间", "事项"]
    assert [row[1] for row in rows[1:]] == ["收到诉求", "派单", "内部备注"]
    assert rows[2][5] == "第一管区 › 石岭路社区 › 第1网格"
    assert rows[2][6] == "shiling_handler" and rows[1][6] == "居民"
    assert rows[3][7].startswith("'=")
    entry = RequestAccessLog.objects.get(action=RequestAccessLog.Action.EXPORT)
    assert entry.references == at_grid.reference


def test_the_queue_filters_by_state_unit_and_overdue(client, org, at_grid):
    old = report(org, description="上个月的诉求", now=timezone.now() - datetime.timedelta(days=30))
    elsewhere = report(org, place=org.haian, description="海岸社区的事")
    as_user(client, org.supervisor)

    def listed(query):
        page = client.get(f"{QUEUE}?{query}").content.decode()
        return {r for r in (at_grid, old, elsewhere) if r.reference_display in page}

    assert listed("") == {at_grid, old, elsewhere}
    assert listed(f"unit={org.first.pk}") == {at_grid, old}
    assert listed("state=assigned") == {at_grid}
    assert listed("overdue=true") == {old}


def test_the_queue_with_many_requests_renders_in_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    template = report(org)
    ServiceRequest.objects.bulk_create(
        [
            ServiceRequest(
                reference=f"{20000000 + number}",
                category=org.noise,
                place=org.shiling,
                unit=[org.grid, org.other_grid, org.shiling, org.haian][number % 4],
                description="批量",
                address="石岭路",
                mobile=MOBILE,
                submission_hash=f"{number}",
                response_due_on=template.response_due_on,
                resolution_due_on=template.resolution_due_on,
            )
            for number in range(10_000)
        ],
        batch_size=2000,
    )
    as_user(client, org.first_head)
    client.get(QUEUE)  # the session and the menus settle
    with django_assert_max_num_queries(15):
        response = client.get(f"{QUEUE}?overdue=false&p=3")
    assert response.status_code == 200
    assert response.content.decode().count("/act/") == 0

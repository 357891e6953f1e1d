"""The organisation that residents' requests travel through: the tree 街道 → 管区
→ 社区 → 网格 and the staff posted to its units (portal/service_requests), kept
by admins in the Wagtail admin."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from portal.core.groups import EDITORS, GRID_WORKERS
from portal.service_requests.models import Category, StaffPost, Unit
from tests.factories import log_in_verified

pytestmark = pytest.mark.django_db

ADMIN = "/admin/service_requests/units/"
ADD = f"{ADMIN}new/"
POSTS = "/admin/service_requests/staff-posts/"


@pytest.fixture
def tree():
    """街道 → 第一管区 → 石岭路社区 → 第 1 网格, and 第二管区 with 海岸社区."""
    subdistrict = Unit.add_root(name="金家岭街道")
    first = subdistrict.add_child(name="第一管区")
    shiling = first.add_child(name="石岭路社区")
    grid = shiling.add_child(name="第 1 网格")
    second = subdistrict.add_child(name="第二管区")
    haian = second.add_child(name="海岸社区")
    return {
        "subdistrict": subdistrict,
        "first": first,
        "shiling": shiling,
        "grid": grid,
        "second": second,
        "haian": haian,
    }


def fresh(unit):
    return Unit.objects.get(pk=unit.pk)


def test_a_units_level_is_its_place_in_the_tree(tree):
    levels = [tree[name].level.label for name in ("subdistrict", "first", "shiling", "grid")]
    assert levels == ["街道", "管区", "社区", "网格"]
    assert not tree["grid"].may_have_children and tree["shiling"].may_have_children


def test_the_database_keeps_one_subdistrict_and_four_levels(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.add_root(name="另一个街道")
    with pytest.raises(IntegrityError), transaction.atomic():
        fresh(tree["grid"]).add_child(name="第五级")
    assert Unit.objects.count() == 6


def test_the_demo_tree_has_five_districts_a_worker_per_grid_and_seeds_once():
    from demo import organisation

    organisation.seed()
    counts = [Unit.objects.filter(depth=depth).count() for depth in (1, 2, 3, 4)]
    organisation.seed()
    assert [Unit.objects.filter(depth=depth).count() for depth in (1, 2, 3, 4)] == counts
    assert counts[:2] == [1, 5] and counts[2] >= 10 and counts[3] >= 3 * counts[2]
    districts = Unit.get_root_nodes().get().get_children()
    assert [unit.name for unit in districts] == [f"第{n}管区" for n in "一二三四五"]

    posts = StaffPost.objects.select_related("unit", "user")
    assert posts.count() == counts[3]
    assert {post.unit.level for post in posts} == {Unit.Level.GRID}
    assert {post.role for post in posts} == {StaffPost.Role.GRID_WORKER}
    assert len({post.unit_id for post in posts}) == counts[3]
    assert all(post.user.groups.filter(name=GRID_WORKERS).exists() for post in posts)
    assert not any(post.user.has_usable_password() for post in posts)


def test_the_first_unit_is_the_subdistrict_and_later_ones_need_a_parent(admin_client):
    form = admin_client.get(ADD).content.decode()
    assert 'name="parent"' not in form
    response = admin_client.post(ADD, {"name": "金家岭街道"})
    assert response.status_code == 302
    subdistrict = Unit.get_root_nodes().get()
    assert subdistrict.name == "金家岭街道"

    response = admin_client.post(ADD, {"name": "第一管区"})
    assert response.status_code == 200
    assert "必需字段" in response.content.decode()
    assert Unit.objects.count() == 1

    response = admin_client.post(ADD, {"name": "第一管区", "parent": subdistrict.pk})
    assert response.status_code == 302
    assert [unit.name for unit in fresh(subdistrict).get_children()] == ["第一管区"]


def test_a_name_already_used_under_the_same_parent_is_refused(admin_client, tree):
    response = admin_client.post(ADD, {"name": "石岭路社区", "parent": tree["first"].pk})
    assert "同一上级单位下已有名为“石岭路社区”的单位。" in response.content.decode()
    assert Unit.objects.filter(name="石岭路社区").count() == 1
    # The same name under another parent is another unit.
    response = admin_client.post(ADD, {"name": "第 1 网格", "parent": tree["haian"].pk})
    assert response.status_code == 302
    assert Unit.objects.filter(name="第 1 网格").count() == 2


def test_nothing_goes_under_a_grid(admin_client, tree):
    form = admin_client.get(ADD).content.decode()
    assert f'value="{tree["shiling"].pk}"' in form
    assert f'value="{tree["grid"].pk}"' not in form
    response = admin_client.post(ADD, {"name": "第五级", "parent": tree["grid"].pk})
    assert response.status_code == 200
    assert not Unit.objects.filter(name="第五级").exists()


def test_a_community_moves_with_its_grids_to_another_district_only(admin_client, tree):
    edit = f"{ADMIN}edit/{tree['shiling'].pk}/"
    form = admin_client.get(edit).content.decode()
    offered = {unit.pk for unit in Unit.objects.all() if f'value="{unit.pk}"' in form}
    assert offered == {tree["first"].pk, tree["second"].pk}

    response = admin_client.post(edit, {"name": "石岭路社区", "parent": tree["subdistrict"].pk})
    assert response.status_code == 200
    assert fresh(tree["shiling"]).get_parent().pk == tree["first"].pk

    response = admin_client.post(edit, {"name": "石岭路社区", "parent": tree["second"].pk})
    assert response.status_code == 302
    shiling = fresh(tree["shiling"])
    assert shiling.get_parent().pk == tree["second"].pk
    assert [unit.name for unit in shiling.get_children()] == ["第 1 网格"]
    assert fresh(tree["grid"]).level == Unit.Level.GRID


def test_a_unit_with_units_under_it_is_not_deleted(admin_client, tree):
    response = admin_client.get(f"{ADMIN}delete/{tree['shiling'].pk}/", follow=True)
    assert "“石岭路社区”下面还有单位,请先删除或移走它们。" in response.content.decode()
    response = admin_client.post(f"{ADMIN}delete/{tree['shiling'].pk}/")
    assert Unit.objects.filter(pk=tree["grid"].pk).exists()
    assert Unit.objects.count() == 6

    response = admin_client.post(f"{ADMIN}delete/{tree['grid'].pk}/")
    assert response.status_code == 302
    assert not Unit.objects.filter(pk=tree["grid"].pk).exists()
    assert fresh(tree["shiling"]).is_leaf()


def test_the_list_shows_the_tree_in_order_indented_with_each_level(admin_client, tree):
    page = admin_client.get(ADMIN).content.decode()
    start = page.rindex("<table", 0, page.index(f"{ADMIN}edit/"))
    listing = page[start : page.index("</table>", start)]
    rows = [
        re.sub(r"[ \t\r\n]+", " ", re.sub("<[^>]+>", " ", row)).strip(" ")
        for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", listing, re.S)[1:]
    ]
    assert rows == [
        "金家岭街道 街道 2",
        "\u3000第一管区 管区 1",
        "\u3000\u3000石岭路社区 社区 1",
        "\u3000\u3000\u3000第 1 网格 网格 0",
        "\u3000第二管区 管区 1",
        "\u3000\u3000海岸社区 社区 0",
    ]


def test_editors_cannot_change_the_organisation(client, tree):
    editor = get_user_model().objects.create_user(username="editor", password="x" * 16)
    editor.groups.add(Group.objects.get(name=EDITORS))
    log_in_verified(client, editor)
    for url in (ADMIN, ADD, f"{ADMIN}edit/{tree['first'].pk}/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
    response = client.post(ADD, {"name": "第六管区", "parent": tree["subdistrict"].pk})
    assert not Unit.objects.filter(name="第六管区").exists()


def staff(username):
    return get_user_model().objects.create_user(username=username, password="x" * 16)


def test_a_grid_worker_is_posted_to_a_grid_and_a_supervisor_to_the_subdistrict(admin_client, tree):
    worker, supervisor = staff("liu"), staff("zhang")
    response = admin_client.post(
        f"{POSTS}new/", {"user": worker.pk, "unit": tree["shiling"].pk, "role": "grid_worker"}
    )
    assert "网格员只能在网格任职。" in response.content.decode()
    response = admin_client.post(
        f"{POSTS}new/", {"user": supervisor.pk, "unit": tree["first"].pk, "role": "supervisor"}
    )
    assert "街道督办只能在街道任职。" in response.content.decode()
    assert not StaffPost.objects.exists()

    for user, unit, role in (
        (worker, tree["grid"], "grid_worker"),
        (supervisor, tree["subdistrict"], "supervisor"),
    ):
        response = admin_client.post(
            f"{POSTS}new/", {"user": user.pk, "unit": unit.pk, "role": role}
        )
        assert response.status_code == 302
    assert {(post.user.username, post.unit.name) for post in StaffPost.objects.all()} == {
        ("liu", "第 1 网格"),
        ("zhang", "金家岭街道"),
    }


def test_a_handler_may_work_at_any_level_but_holds_one_post(admin_client, tree):
    handler = staff("wang")
    response = admin_client.post(
        f"{POSTS}new/", {"user": handler.pk, "unit": tree["haian"].pk, "role": "handler"}
    )
    assert response.status_code == 302
    form = admin_client.get(f"{POSTS}new/").content.decode()
    users = re.search(r'<select name="user".*?</select>', form, re.S).group()
    assert "wang" not in users and "admin" in users
    response = admin_client.post(
        f"{POSTS}new/", {"user": handler.pk, "unit": tree["first"].pk, "role": "head"}
    )
    assert response.status_code == 200
    assert StaffPost.objects.get().unit.name == "海岸社区"

    post = StaffPost.objects.get()
    response = admin_client.post(
        f"{POSTS}edit/{post.pk}/", {"user": handler.pk, "unit": tree["first"].pk, "role": "head"}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.unit.name, post.role) == ("第一管区", "head")


def test_a_unit_where_staff_work_is_not_deleted(admin_client, tree):
    StaffPost.objects.create(user=staff("liu"), unit=tree["grid"], role="grid_worker")
    response = admin_client.post(f"{ADMIN}delete/{tree['grid'].pk}/", follow=True)
    assert "还有工作人员在“第 1 网格”任职,请先调整他们的岗位。" in response.content.decode()
    assert Unit.objects.filter(pk=tree["grid"].pk).exists()


def test_the_staff_list_names_each_unit_and_role(admin_client, tree):
    StaffPost.objects.create(user=staff("liu"), unit=tree["grid"], role="grid_worker")
    page = admin_client.get(POSTS).content.decode()
    assert "liu" in page and "第 1 网格" in page and "网格员" in page
    assert f"{POSTS}edit/" in page


CATEGORIES = "/admin/service_requests/categories/"


def category_form(**fields):
    return {
        "name": "噪音扰民",
        "description": "夜间施工",
        "response_days": 1,
        "resolution_days": 3,
        "is_active": "on",
        **fields,
    }


def test_a_category_keeps_its_answer_and_resolution_times(admin_client):
    response = admin_client.post(f"{CATEGORIES}new/", category_form(reply_needs_approval="on"))
    assert response.status_code == 302
    category = Category.objects.get()
    assert (category.response_days, category.resolution_days) == (1, 3)
    assert category.reply_needs_approval and category.is_active
    page = admin_client.get(CATEGORIES).content.decode()
    assert "噪音扰民" in page and "回应时限(工作日)" in page


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"resolution_days": 1, "response_days": 2}, "办结时限不能短于回应时限。"),
        ({"response_days": 0}, "确保该值大于或等于1。"),
        ({"resolution_days": 91}, "确保该值小于或等于90。"),
        ({"name": ""}, "必需字段"),
    ],
)
def test_a_category_with_impossible_times_is_refused(admin_client, fields, message):
    response = admin_client.post(f"{CATEGORIES}new/", category_form(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Category.objects.exists()


def test_the_database_refuses_resolving_before_answering():
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(name="其他", response_days=5, resolution_days=2)


def test_the_demo_categories_are_seeded_once_in_order():
    from demo import service_requests

    service_requests.seed()
    service_requests.seed()
    names = list(Category.objects.values_list("name", flat=True))
    assert names[:3] == ["噪音扰民", "装修扰民", "群租房"] and names[-1] == "其他"
    assert len(names) == len(set(names)) == 8
    assert Category.objects.get(name="群租房").reply_needs_approval

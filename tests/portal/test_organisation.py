"""The organisation that residents' requests travel through: the tree 街道 → 管区
→ 社区 → 网格 and the staff posted to its units (portal/service_requests), kept
by admins in the Wagtail admin."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from wagtail.models import ModelLogEntry

from portal.core.groups import COORDINATORS, EDITORS, GRID_WORKERS, REQUEST_HANDLERS, REVIEWERS
from portal.service_requests.models import StaffPost, Unit
from tests.factories import log_in_verified

pytestmark = pytest.mark.django_db

UNITS = "/admin/service_requests/units/"
POSTS = "/admin/service_requests/staff-posts/"
CATEGORIES = "/admin/service_requests/categories/"


@pytest.fixture
def tree():
    """街道 → 第一管区 → 石岭路社区 → 第1网格, and 第二管区 with 海岸社区."""
    subdistrict = Unit.add_root(name="金家岭街道")
    first = subdistrict.add_child(name="第一管区")
    shiling = first.add_child(name="石岭路社区")
    grid = shiling.add_child(name="第1网格")
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


def staff(username, group=None, **extra):
    user = get_user_model().objects.create_user(username=username, password="x" * 16, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def offered(form, field):
    """The labels of a <select>'s options, in order."""
    select = re.search(rf'<select name="{field}".*?</select>', form, re.S).group()
    return [label.strip() for label in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)]


def test_a_units_level_is_its_place_in_the_tree_and_its_name_says_where_it_is(tree):
    levels = [tree[name].level.label for name in ("subdistrict", "first", "shiling", "grid")]
    assert levels == ["街道", "管区", "社区", "网格"]
    assert not tree["grid"].may_have_children and tree["shiling"].may_have_children
    assert str(tree["grid"]) == "第一管区 › 石岭路社区 › 第1网格"
    assert str(tree["subdistrict"]) == "金家岭街道"
    assert Unit.full_names()[tree["haian"].pk] == "第二管区 › 海岸社区"


def test_the_database_keeps_one_subdistrict_and_four_levels(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.add_root(name="另一个街道")
    with pytest.raises(IntegrityError), transaction.atomic():
        fresh(tree["grid"]).add_child(name="第五级")
    assert Unit.objects.count() == 6


def test_no_code_path_changes_a_units_level_or_deletes_a_subtree(tree):
    with pytest.raises(ValueError):
        fresh(tree["shiling"]).move(fresh(tree["subdistrict"]), "last-child")
    with pytest.raises(ValueError):
        fresh(tree["grid"]).move(fresh(tree["first"]), "last-sibling")
    with pytest.raises(ValueError):
        fresh(tree["first"]).delete()
    assert str(fresh(tree["grid"])) == "第一管区 › 石岭路社区 › 第1网格"
    fresh(tree["shiling"]).move(fresh(tree["haian"]), "right")
    assert fresh(tree["shiling"]).get_parent().pk == tree["second"].pk
    fresh(tree["grid"]).delete()
    assert Unit.objects.count() == 5


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
    grid_posts = posts.filter(role=StaffPost.Role.GRID_WORKER)
    assert grid_posts.count() == counts[3]
    assert {post.unit.level for post in grid_posts} == {Unit.Level.GRID}
    assert len({post.unit_id for post in grid_posts}) == counts[3]
    assert all(post.user.groups.filter(name=GRID_WORKERS).exists() for post in grid_posts)
    # A handler in each 社区, a head in each 管区, and the 街道's supervisor.
    for role, depth in (("handler", 3), ("head", 2), ("supervisor", 1)):
        placed = posts.filter(role=role)
        assert sorted(post.unit_id for post in placed) == sorted(
            Unit.objects.filter(depth=depth).values_list("pk", flat=True)
        )
        assert all(post.user.groups.filter(name=REQUEST_HANDLERS).exists() for post in placed)
    assert not any(post.user.has_usable_password() for post in posts)


def test_the_first_unit_is_the_subdistrict_and_later_ones_need_a_parent(admin_client):
    assert 'name="parent"' not in admin_client.get(f"{UNITS}new/").content.decode()
    response = admin_client.post(f"{UNITS}new/", {"name": "金家岭街道"})
    assert response.status_code == 302
    subdistrict = Unit.get_root_nodes().get()
    assert subdistrict.name == "金家岭街道"

    response = admin_client.post(f"{UNITS}new/", {"name": "第一管区"})
    assert response.status_code == 200
    assert "必需字段" in response.content.decode()
    assert Unit.objects.count() == 1

    response = admin_client.post(f"{UNITS}new/", {"name": "第一管区", "parent": subdistrict.pk})
    assert response.status_code == 302
    assert [unit.name for unit in fresh(subdistrict).get_children()] == ["第一管区"]
    created = ModelLogEntry.objects.filter(action="wagtail.create").values_list("label", flat=True)
    assert sorted(created) == ["第一管区", "金家岭街道"]


def test_a_name_already_used_under_the_same_parent_is_refused(admin_client, tree):
    response = admin_client.post(f"{UNITS}new/", {"name": "石岭路社区", "parent": tree["first"].pk})
    assert "同一上级单位下已有名为“石岭路社区”的单位。" in response.content.decode()
    response = admin_client.post(
        f"{UNITS}edit/{tree['second'].pk}/", {"name": "第一管区", "parent": tree["subdistrict"].pk}
    )
    assert "同一上级单位下已有名为“第一管区”的单位。" in response.content.decode()
    assert Unit.objects.filter(name="石岭路社区").count() == 1
    assert fresh(tree["second"]).name == "第二管区"
    # The same name under another parent is another unit.
    response = admin_client.post(f"{UNITS}new/", {"name": "第1网格", "parent": tree["haian"].pk})
    assert response.status_code == 302
    assert Unit.objects.filter(name="第1网格").count() == 2


def test_nothing_goes_under_a_grid(admin_client, tree):
    labels = offered(admin_client.get(f"{UNITS}new/").content.decode(), "parent")
    assert labels[1:] == [
        "金家岭街道(街道)",
        "第一管区(管区)",
        "第一管区 › 石岭路社区(社区)",
        "第二管区(管区)",
        "第二管区 › 海岸社区(社区)",
    ]
    response = admin_client.post(f"{UNITS}new/", {"name": "第五级", "parent": tree["grid"].pk})
    assert response.status_code == 200
    assert not Unit.objects.filter(name="第五级").exists()


def test_the_subdistrict_is_renamed_without_a_parent(admin_client, tree):
    edit = f"{UNITS}edit/{tree['subdistrict'].pk}/"
    assert 'name="parent"' not in admin_client.get(edit).content.decode()
    assert admin_client.post(edit, {"name": "金家岭街道办事处"}).status_code == 302
    assert fresh(tree["subdistrict"]).name == "金家岭街道办事处"
    assert fresh(tree["subdistrict"]).is_root() and Unit.objects.count() == 6


def test_a_community_moves_with_its_grids_and_staff_to_another_district_only(admin_client, tree):
    worker = staff("liu")
    StaffPost.objects.create(user=worker, unit=tree["grid"], role="grid_worker")
    edit = f"{UNITS}edit/{tree['shiling'].pk}/"
    assert offered(admin_client.get(edit).content.decode(), "parent")[1:] == [
        "第一管区(管区)",
        "第二管区(管区)",
    ]
    response = admin_client.post(edit, {"name": "石岭路社区", "parent": tree["subdistrict"].pk})
    assert response.status_code == 200
    assert fresh(tree["shiling"]).get_parent().pk == tree["first"].pk

    response = admin_client.post(edit, {"name": "石岭路社区", "parent": tree["second"].pk})
    assert response.status_code == 302
    shiling = fresh(tree["shiling"])
    assert shiling.get_parent().pk == tree["second"].pk
    assert [unit.name for unit in shiling.get_children()] == ["第1网格"]
    assert str(fresh(tree["grid"])) == "第二管区 › 石岭路社区 › 第1网格"
    assert StaffPost.objects.get(user=worker).unit_id == tree["grid"].pk
    assert fresh(tree["first"]).is_leaf()
    move = ModelLogEntry.objects.get(action="wagtail.move")
    assert move.object_id == str(shiling.pk)
    assert (move.data["source"]["title"], move.data["destination"]["title"]) == (
        "第一管区",
        "第二管区",
    )
    # The emptied 管区 may now go.
    assert admin_client.post(f"{UNITS}delete/{tree['first'].pk}/").status_code == 302
    assert not Unit.objects.filter(pk=tree["first"].pk).exists()


def test_a_grid_moves_to_a_community_of_another_district(admin_client, tree):
    edit = f"{UNITS}edit/{tree['grid'].pk}/"
    response = admin_client.post(edit, {"name": "第1网格", "parent": tree["haian"].pk})
    assert response.status_code == 302
    assert str(fresh(tree["grid"])) == "第二管区 › 海岸社区 › 第1网格"
    assert fresh(tree["shiling"]).is_leaf() and fresh(tree["grid"]).level == Unit.Level.GRID


def test_a_unit_with_units_or_staff_in_it_is_not_deleted(admin_client, tree):
    response = admin_client.get(f"{UNITS}delete/{tree['shiling'].pk}/", follow=True)
    assert "“石岭路社区”下面还有单位,请先删除或移走它们。" in response.content.decode()
    admin_client.post(f"{UNITS}delete/{tree['shiling'].pk}/")
    assert Unit.objects.count() == 6

    post = StaffPost.objects.create(user=staff("liu"), unit=tree["grid"], role="grid_worker")
    response = admin_client.post(f"{UNITS}delete/{tree['grid'].pk}/", follow=True)
    assert "还有工作人员在“第1网格”任职,请先调整他们的岗位。" in response.content.decode()
    assert Unit.objects.filter(pk=tree["grid"].pk).exists()

    post.delete()
    assert admin_client.post(f"{UNITS}delete/{tree['grid'].pk}/").status_code == 302
    assert not Unit.objects.filter(pk=tree["grid"].pk).exists()
    assert fresh(tree["shiling"]).is_leaf()


def test_the_list_shows_the_whole_tree_in_order_with_each_level(admin_client, tree):
    page = admin_client.get(UNITS).content.decode()
    start = page.rindex("<table", 0, page.index(f"{UNITS}edit/"))
    listing = page[start : page.index("</table>", start)]
    rows = [
        re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", listing, re.S)[1:]
    ]
    assert rows == [
        "金家岭街道 街道 2",
        "第一管区 管区 1",
        "第一管区 › 石岭路社区 社区 1",
        "第一管区 › 石岭路社区 › 第1网格 网格 0",
        "第二管区 管区 1",
        "第二管区 › 海岸社区 社区 0",
    ]


def test_a_grid_worker_is_posted_to_a_grid_and_a_supervisor_to_the_subdistrict(admin_client, tree):
    worker, supervisor = staff("liu", GRID_WORKERS), staff("zhang", REQUEST_HANDLERS)
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
    assert {(post.user.username, str(post.unit)) for post in StaffPost.objects.all()} == {
        ("liu", "第一管区 › 石岭路社区 › 第1网格"),
        ("zhang", "金家岭街道"),
    }


def test_a_post_needs_the_group_that_lets_its_holder_into_the_admin(admin_client, tree):
    outsider = staff("sun")
    response = admin_client.post(
        f"{POSTS}new/", {"user": outsider.pk, "unit": tree["grid"].pk, "role": "grid_worker"}
    )
    assert "请先在“设置 → 用户”里把 sun 加入“网格员”分组。" in response.content.decode()
    response = admin_client.post(
        f"{POSTS}new/", {"user": outsider.pk, "unit": tree["haian"].pk, "role": "handler"}
    )
    assert "请先在“设置 → 用户”里把 sun 加入“诉求办理人员”分组。" in response.content.decode()
    assert not StaffPost.objects.exists()


def test_a_handler_may_work_at_any_level_but_holds_one_post(admin_client, tree):
    handler = staff("wang", REQUEST_HANDLERS)
    response = admin_client.post(
        f"{POSTS}new/", {"user": handler.pk, "unit": tree["haian"].pk, "role": "handler"}
    )
    assert response.status_code == 302
    assert "wang" not in offered(admin_client.get(f"{POSTS}new/").content.decode(), "user")
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


def test_the_post_of_a_deactivated_user_can_still_be_changed(admin_client, tree):
    leaver = staff("chen", REQUEST_HANDLERS, is_active=False)
    post = StaffPost.objects.create(user=leaver, unit=tree["haian"], role="handler")
    assert "chen" not in offered(admin_client.get(f"{POSTS}new/").content.decode(), "user")
    response = admin_client.post(
        f"{POSTS}edit/{post.pk}/", {"user": leaver.pk, "unit": tree["first"].pk, "role": "handler"}
    )
    assert response.status_code == 302
    assert StaffPost.objects.get().unit_id == tree["first"].pk


def test_the_staff_list_names_each_unit_in_full_and_each_role(
    admin_client, tree, django_assert_max_num_queries
):
    StaffPost.objects.create(user=staff("liu"), unit=tree["grid"], role="grid_worker")
    StaffPost.objects.create(user=staff("zhao"), unit=tree["haian"], role="head")
    page = admin_client.get(POSTS).content.decode()
    start = page.rindex("<table", 0, page.index(f"{POSTS}edit/"))
    listing = re.sub(
        r"\s+", " ", re.sub("<[^>]+>", " ", page[start : page.index("</table>", start)])
    )
    assert "liu 第一管区 › 石岭路社区 › 第1网格 网格员" in listing
    assert "zhao 第二管区 › 海岸社区 负责人" in listing
    for number in range(10):
        StaffPost.objects.create(user=staff(f"w{number}"), unit=tree["grid"], role="grid_worker")
    with django_assert_max_num_queries(25):
        admin_client.get(POSTS)


ADMIN_PAGES = [
    UNITS,
    f"{UNITS}new/",
    f"{UNITS}edit/{{first}}/",
    f"{UNITS}delete/{{grid}}/",
    f"{UNITS}history/{{first}}/",
    POSTS,
    f"{POSTS}new/",
    CATEGORIES,
    f"{CATEGORIES}new/",
]


@pytest.mark.parametrize("group", [EDITORS, REVIEWERS, COORDINATORS])
def test_staff_other_than_admins_are_refused_every_organisation_page(client, tree, group):
    log_in_verified(client, staff("someone", group))
    for page in ADMIN_PAGES:
        url = page.format(first=tree["first"].pk, grid=tree["grid"].pk)
        response = client.get(url)
        # Wagtail sends signed-in staff without the permission back to the dashboard.
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    client.post(f"{UNITS}new/", {"name": "第六管区", "parent": tree["subdistrict"].pk})
    client.post(f"{UNITS}delete/{tree['grid'].pk}/")
    assert not Unit.objects.filter(name="第六管区").exists()
    assert Unit.objects.count() == 6


def test_grid_workers_and_visitors_do_not_reach_the_organisation_pages(client, tree):
    for page in ADMIN_PAGES:
        url = page.format(first=tree["first"].pk, grid=tree["grid"].pk)
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    log_in_verified(client, staff("grid", GRID_WORKERS))
    for page in ADMIN_PAGES:
        url = page.format(first=tree["first"].pk, grid=tree["grid"].pk)
        response = client.get(url)
        assert response.status_code == 302 and "第一管区" not in response.content.decode(), url


def test_admins_reach_every_organisation_page(admin_client, tree):
    for page in ADMIN_PAGES:
        url = page.format(first=tree["first"].pk, grid=tree["grid"].pk)
        assert admin_client.get(url).status_code == 200, url

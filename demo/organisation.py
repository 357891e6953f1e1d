"""The organisation tree of the demo: the 街道, its five 管区, two 社区 in each
and three or four numbered 网格 per 社区, each grid with a grid worker's
account, each 社区 with a handler's (community01 …), each 管区 with a
head's (district1 …) and the 街道 with a supervisor's (supervisor). The
accounts have no password: an admin sets one to sign in as them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from demo import content
from portal.core.groups import GRID_WORKERS, REQUEST_HANDLERS
from portal.service_requests.models import StaffPost, Unit


def seed():
    data = content("organisation")
    subdistrict = Unit.get_root_nodes().first() or Unit.add_root(name=data["subdistrict"])
    grids, communities, districts = [], [], []
    for district in data["districts"]:
        district_unit = child(subdistrict, district["name"])
        districts.append(district_unit)
        for community in district["communities"]:
            community_unit = child(district_unit, community["name"])
            communities.append(community_unit)
            grids += [
                child(community_unit, f"第{number}网格")
                for number in range(1, community["grids"] + 1)
            ]
    Role = StaffPost.Role
    post(
        GRID_WORKERS, [(f"grid{n:02d}", grid) for n, grid in enumerate(grids, 1)], Role.GRID_WORKER
    )
    post(
        REQUEST_HANDLERS,
        [(f"community{n:02d}", unit) for n, unit in enumerate(communities, 1)],
        Role.HANDLER,
    )
    post(
        REQUEST_HANDLERS, [(f"district{n}", unit) for n, unit in enumerate(districts, 1)], Role.HEAD
    )
    post(REQUEST_HANDLERS, [("supervisor", subdistrict)], Role.SUPERVISOR)


def child(parent, name):
    """The unit ``name`` under ``parent``, added the first time."""
    return parent.get_children().filter(name=name).first() or parent.add_child(name=name)


def post(group_name, placements, role):
    """An account for each (username, unit), in `group_name`, posted there as
    `role`; an existing account keeps the post it has."""
    group = Group.objects.get(name=group_name)
    for username, unit in placements:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
        StaffPost.objects.get_or_create(user=user, defaults={"unit": unit, "role": role})

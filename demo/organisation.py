"""The organisation tree of the demo: the 街道, its five 管区, two 社区 in each
and three or four numbered 网格 per 社区, each grid with a grid worker's
account (no password: an admin sets one to sign in as them)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from demo import content
from portal.core.groups import GRID_WORKERS
from portal.service_requests.models import StaffPost, Unit


def seed():
    data = content("organisation")
    subdistrict = Unit.get_root_nodes().first() or Unit.add_root(name=data["subdistrict"])
    grids = []
    for district in data["districts"]:
        district_unit = child(subdistrict, district["name"])
        for community in district["communities"]:
            community_unit = child(district_unit, community["name"])
            grids += [
                child(community_unit, f"第{number}网格")
                for number in range(1, community["grids"] + 1)
            ]
    seed_grid_workers(grids)


def child(parent, name):
    """The unit ``name`` under ``parent``, added the first time."""
    return parent.get_children().filter(name=name).first() or parent.add_child(name=name)


def seed_grid_workers(grids):
    group = Group.objects.get(name=GRID_WORKERS)
    for number, grid in enumerate(grids, start=1):
        user, created = get_user_model().objects.get_or_create(username=f"grid{number:02d}")
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
        StaffPost.objects.get_or_create(
            user=user, defaults={"unit": grid, "role": StaffPost.Role.GRID_WORKER}
        )

"""The organisation tree of the demo: the 街道, its five 管区, two 社区 in each
and three or four numbered 网格 per 社区."""

from demo import content
from portal.service_requests.models import Unit


def seed():
    data = content("organisation")
    subdistrict = Unit.get_root_nodes().first() or Unit.add_root(name=data["subdistrict"])
    for district in data["districts"]:
        district_unit = child(subdistrict, district["name"])
        for community in district["communities"]:
            community_unit = child(district_unit, community["name"])
            for number in range(1, community["grids"] + 1):
                child(community_unit, f"第 {number} 网格")


def child(parent, name):
    """The unit ``name`` under ``parent``, added the first time."""
    return parent.get_children().filter(name=name).first() or parent.add_child(name=name)

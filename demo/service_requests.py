"""The residents' requests demo: the categories residents choose from, with
their answer and resolution times in working days."""

from demo import content
from portal.service_requests.models import Category


def seed():
    for order, category in enumerate(content("service_requests")["categories"]):
        fields = {key: value for key, value in category.items() if key != "code"}
        Category.objects.update_or_create(
            code=category["code"], defaults={**fields, "sort_order": order}
        )

import pytest
from wagtail.models import Page, Site

from portal.home.models import HomePage


@pytest.fixture
def home(db):
    """A home page set as the root of the default site, as seed_demo makes it."""
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="金家岭街道", slug="jinjialing"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    return home

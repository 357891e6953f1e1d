import pytest
from django.core.cache import caches
from django.test import Client
from django.test.client import ClientHandler
from wagtail.models import Page, Site

from portal.core.models import SiteSettings
from portal.home.models import HomePage
from tests.factories import log_in_verified
from tests.outages import media_disk  # noqa: F401 - a fixture for every test module


@pytest.fixture
def home(db):
    """A home page set as the root of the default site, as seed_demo makes it."""
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="金家岭街道", slug="jinjialing"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    SiteSettings.for_site(site)  # created up front, as a running site has them
    return home


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with empty caches: the database is rolled back between
    tests and hands out the same ids again, so what one test cached (a page, a
    rendition of its image) must not answer the next."""
    caches["default"].clear()
    caches["renditions"].clear()


@pytest.fixture
def new_client():
    """Makes test clients that share one request handler, so the middleware chain
    loads once per test instead of once per client (a property test makes one per
    generated example). Each client still starts with its own empty cookie jar, so
    no session passes from one to the next. The middleware loads on the first
    request: settings a test changes after that do not reach it."""
    handler = ClientHandler(enforce_csrf_checks=False)

    def make():
        client = Client()
        client.handler = handler
        return client

    return make


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's superuser client, signed in with the authenticator code as
    well, as every admin page asks (ADMIN_REQUIRE_2FA)."""
    log_in_verified(client, admin_user)
    return client


@pytest.fixture(autouse=True)
def empty_sms_outbox():
    """Each test starts with no texts on the residents' phones."""
    from portal.core.sms import MemoryBackend

    MemoryBackend.outbox.clear()


@pytest.fixture(autouse=True)
def fresh_process_caches():
    """Each test computes the law's holidays, expands schedules and loads shown
    free times afresh: the database is rolled back between tests, so ids and the
    timetable version come round again, and what an earlier test left in the
    process must not answer for this one."""
    from counseling import availability
    from portal.core import workdays

    workdays.statutory_days.cache_clear()
    availability._EXPANDED.clear()
    availability._SHOWN.clear()
    availability._LISTED.clear()

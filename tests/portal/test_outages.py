"""A database that does not answer in time: a clear 系统繁忙 page with 503 and
Retry-After instead of a server error, and pages in the cache served without
touching it. The lock is real, taken from a second connection."""

import pytest
from django.core.cache import caches
from django.test import Client
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from portal.core.models import SiteSettings
from portal.home.models import HomePage
from tests.factories import make_open_room
from tests.outages import lock_wait, tables_locked

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(settings):
    """A home page on the default site, built from nothing (a transactional test
    starts from an empty database), with the page cache on."""
    settings.PAGE_CACHE_ENABLED = True
    caches["default"].clear()
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    home = root.add_child(instance=HomePage(title="金家岭街道", slug="jinjialing"))
    site, _created = Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home}
    )
    SiteSettings.for_site(site)
    make_open_room()
    yield home
    caches["default"].clear()


def test_a_locked_database_answers_busy_in_chinese_and_cached_pages_still_come(site):
    client = Client(raise_request_exception=False)  # as a browser sees it
    first = client.get("/")
    assert first.status_code == 200 and first["X-Page-Cache"] == "miss"

    with lock_wait(0.5), tables_locked("wagtailcore_page", "counseling_room"):
        cached = client.get("/")
        rooms = client.get("/counseling/")

    assert cached.status_code == 200 and cached["X-Page-Cache"] == "hit"
    assert cached.content == first.content
    assert rooms.status_code == 503
    assert rooms["Retry-After"] == "30"
    html = rooms.content.decode()
    assert "系统繁忙,请稍后再试" in html and 'href="tel:12356"' in html
    assert '<html lang="zh-Hans">' in html

    assert client.get("/counseling/").status_code == 200  # the lock is gone

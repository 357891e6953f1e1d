"""Anonymous pages are served from the page cache until something they show changes;
personal, form and booking pages never are."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from counseling.models import Room
from portal.core.models import SiteSettings
from portal.news.models import NewsCategory, NewsIndexPage, NewsPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, db):
    settings.PAGE_CACHE_ENABLED = True
    caches["default"].clear()
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    yield
    caches["default"].clear()


def get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries)


def test_second_anonymous_view_is_served_from_cache_without_queries(client, demo):
    first, _ = get(client, "/news/")
    second, queries = get(client, "/news/")
    assert first["X-Page-Cache"] == "miss"
    assert second["X-Page-Cache"] == "hit"
    assert queries == 0
    assert second.content == first.content
    assert "public" in second["Cache-Control"] and "max-age=60" in second["Cache-Control"]


def test_publishing_news_refreshes_the_home_page_and_index(client, demo):
    client.get("/")
    client.get("/news/")
    index = NewsIndexPage.objects.get()
    news = NewsPage(title="刚刚发布的通知", slug="just-now", date=datetime.date(2026, 11, 27))
    index.add_child(instance=news)
    news.save_revision().publish()
    home, _ = get(client, "/")
    listing, _ = get(client, "/news/")
    assert home["X-Page-Cache"] == "miss" and "刚刚发布的通知" in home.content.decode()
    assert "刚刚发布的通知" in listing.content.decode()


def test_unpublishing_and_deleting_refresh_pages(client, demo):
    news = NewsPage.objects.live().order_by("-date").first()
    client.get("/news/")
    news.unpublish()
    assert news.title not in client.get("/news/").content.decode()
    other = NewsPage.objects.live().order_by("-date").first()
    client.get("/news/")
    other.delete()
    assert other.title not in client.get("/news/").content.decode()


def test_snippets_settings_and_rooms_refresh_pages(client, demo):
    category = NewsCategory.objects.first()
    client.get("/news/")
    category.name = "改名后的分类"
    category.save()
    assert "改名后的分类" in client.get("/news/").content.decode()

    client.get("/")
    site_settings = SiteSettings.objects.get()
    site_settings.phone = "0532-1234 5678"
    site_settings.save()
    assert "0532-1234 5678" in client.get("/").content.decode()

    room = Room.objects.first()
    room.name = "新的咨询室名称"
    room.save()
    assert "新的咨询室名称" in client.get("/").content.decode()


def test_a_new_rendition_does_not_empty_the_cache(client, demo):
    from portal.core.pagecache import generation
    from tests.factories import make_image

    image = make_image()
    before = generation()
    image.get_rendition("fill-100x100")
    assert generation() == before


@pytest.mark.parametrize(
    "url", ["/counseling/", "/counseling/1/", "/yuyue/", "/admin/", "/zhangbei/style.css"]
)
def test_booking_admin_and_form_pages_are_never_served_from_cache(client, demo, url):
    client.get(url)
    response = client.get(url)
    assert response.get("X-Page-Cache") != "hit"


def test_logged_in_staff_never_get_or_fill_cached_pages(client, demo):
    client.get("/news/")  # cached for visitors
    staff = get_user_model().objects.create_superuser("staff", "s@example.com", "a-long-password-1")
    client.force_login(staff)
    response = client.get("/news/")
    assert response.get("X-Page-Cache") is None
    assert (
        'id="wagtail-userbar"' in response.content.decode()
        or "wagtail-userbar" in response.content.decode()
    )


def test_pages_that_set_cookies_are_not_stored(client, demo):
    client.get("/zhangbei/?next=/news/")
    response = client.get("/zhangbei/?next=/news/")
    assert response.get("X-Page-Cache") != "hit"


def test_pages_rendered_before_a_change_commits_are_dropped_after_it(
    client, demo, django_capture_on_commit_callbacks
):
    from portal.core.pagecache import generation

    with django_capture_on_commit_callbacks(execute=True):
        before = generation()
        category = NewsCategory.objects.first()
        category.name = "提交前后"
        category.save()
        during = generation()
    assert before < during < generation()  # once at the change, once at the commit


def test_parameters_no_page_reads_find_the_same_copy(client, demo):
    assert client.get("/news/?page=2&category=tongzhi")["X-Page-Cache"] == "miss"
    assert client.get("/news/?category=tongzhi&page=2")["X-Page-Cache"] == "hit"
    assert client.get("/news/?category=tongzhi&page=2&utm_source=wx")["X-Page-Cache"] == "hit"
    # What a page reads still tells copies apart.
    assert client.get("/news/?category=tongzhi")["X-Page-Cache"] == "miss"


def test_a_flood_of_junk_query_strings_stores_nothing(client, demo):
    stored = caches["default"]._cache
    client.get("/news/")
    before = len(stored)
    for number in range(300):
        response = client.get(f"/news/?x{number}={number}")
        assert response.status_code == 200
    assert len(stored) == before
    # A copy with junk in its own address is never stored to repeat in links.
    client.get("/search/?q=心理&x=%3Cjunk%3E")
    assert client.get("/search/?q=心理&x=%3Cjunk%3E").get("X-Page-Cache") != "hit"

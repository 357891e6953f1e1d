"""What is cached is keyed by one content generation, which a request reads once
however many keys it builds from it, and which every change to what pages show
moves on."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.test.utils import isolate_apps

from portal.core import pagecache

pytestmark = pytest.mark.django_db

WAGTAIL_SITE_ROOT_PATHS = "wagtail_site_root_paths"
ROUND_TRIPS = ("get", "get_many", "set", "set_many", "add", "incr", "delete", "has_key")


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-admin", stdout=StringIO())


@pytest.fixture
def cache_calls(monkeypatch):
    """Every call to the page cache, in order, as (method, first argument); a
    call the cache makes itself (local memory's get_many calls get) is not one."""
    cache = pagecache.page_cache()
    calls = []
    depth = [0]

    def counted(name, method):
        def call(*args, **kwargs):
            if not depth[0]:
                calls.append((name, args[0] if args else None))
            depth[0] += 1
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for name in ROUND_TRIPS:
        monkeypatch.setattr(cache, name, counted(name, getattr(cache, name)))
    return calls


@pytest.mark.parametrize("url", ["/", "/news/", "/talks/", "/saohei/", "/search/?q=心理"])
def test_a_render_reads_the_generation_once(client, demo, cache_calls, url):
    client.get(url)
    pagecache.invalidate()
    cache_calls.clear()
    assert client.get(url).status_code == 200
    reads = [
        (name, key)
        for name, key in cache_calls
        if key == pagecache.GENERATION_KEY
        or (name == "get_many" and pagecache.GENERATION_KEY in list(key))
    ]
    assert len(reads) == 1, cache_calls


@pytest.mark.parametrize("url", ["/", "/news/", "/talks/", "/saohei/", "/search/?q=心理"])
def test_a_warm_render_reads_everything_in_two_round_trips(client, demo, cache_calls, url):
    """The generation with the keys this address read last time, then their values."""
    client.get(url)
    client.get(url)
    cache_calls.clear()
    assert client.get(url).status_code == 200
    # Page links are built from the site root paths read ahead with the rest.
    assert [name for name, _key in cache_calls] == ["get_many", "get_many"], cache_calls


def test_staff_and_visitors_each_read_ahead_what_they_read(
    client, demo, cache_calls, django_user_model
):
    """A signed-in grid worker's talk index shows the staff talks too: renders
    for staff and for visitors keep their own lists of keys, so taking turns
    costs neither a third round trip."""
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("wangge", password="x" * 16))
    for _ in range(2):
        client.get("/talks/")
        staff.get("/talks/")
    cache_calls.clear()
    assert client.get("/talks/").status_code == staff.get("/talks/").status_code == 200
    assert [name for name, _key in cache_calls] == ["get_many"] * 4, cache_calls


def test_what_a_kept_fragment_was_drawn_from_is_not_read_again(client, demo, cache_calls):
    """The home page's campaign banner and rooms are kept as fragments: once
    they are, the campaign and the rooms they were drawn from are not read (nor
    unpickled) on the next renders."""
    pagecache.invalidate()
    cache_calls.clear()
    client.get("/")
    first = [key for _name, key in cache_calls if isinstance(key, str)]
    assert any(":home-campaign" in key for key in first)
    assert any(":home-rooms" in key for key in first)
    client.get("/")
    cache_calls.clear()
    html = client.get("/").content.decode()
    read = [key for _name, keys in cache_calls for key in keys]
    assert not [key for key in read if ":home-campaign" in key or ":home-rooms" in key], read
    assert "campaign-banner" in html and "home-rooms" in html


@pytest.mark.parametrize("url", ["/", "/news/", "/talks/", "/saohei/", "/search/?q=心理"])
def test_a_stored_page_is_served_in_one_round_trip(client, demo, cache_calls, settings, url):
    settings.PAGE_CACHE_ENABLED = True
    client.get(url)
    cache_calls.clear()
    response = client.get(url)
    assert response["X-Page-Cache"] == "hit"
    assert [name for name, _key in cache_calls] == ["get_many"], cache_calls
    pagecache.invalidate()
    cache_calls.clear()
    assert client.get(url)["X-Page-Cache"] == "miss"  # the stored copy is of the old generation
    assert cache_calls[0][0] == "get_many"
    assert client.get(url)["X-Page-Cache"] == "hit"


@pytest.mark.parametrize("url", ["/", "/news/", "/talks/", "/saohei/", "/search/?q=心理"])
def test_a_first_render_writes_what_it_keeps_in_one_round_trip(client, demo, cache_calls, url):
    """After a publish every fragment, card and look-up is built again: they
    are written together once the page is done, not one round trip each."""
    client.get(url)
    pagecache.invalidate()
    cache_calls.clear()
    assert client.get(url).status_code == 200
    writes = [name for name, key in cache_calls if name in ("set", "set_many", "add")]
    ours = [name for name, key in cache_calls if key != WAGTAIL_SITE_ROOT_PATHS]
    assert writes == ["set_many"], cache_calls
    assert ours[-1] == "set_many"


def test_a_value_a_page_changes_after_keeping_it_is_kept_as_it_was(rf):
    from django.http import HttpResponse

    from portal.core.lookups import cached

    def view(request):
        value = cached("kept-as-built", lambda: {"shown": "as built"})
        value["shown"] = "changed while the page was drawn"
        again = cached("kept-as-built", lambda: {"shown": "built twice"})
        return HttpResponse(again["shown"])

    response = pagecache.AnonymousPageCacheMiddleware(view)(rf.get("/anything/"))
    assert response.content == b"as built"
    assert cached("kept-as-built", lambda: {"shown": "built again"}) == {"shown": "as built"}


def _public_page_with_picture(kind):
    from portal.campaigns.models import CampaignPage
    from portal.news.models import NewsPage
    from portal.talks.queries import public_talks

    if kind == "talk":
        page = public_talks().exclude(poster=None).first()
        return page, page.poster
    if kind == "article":
        page = NewsPage.objects.live().exclude(featured_image=None).first()
        return page, page.featured_image
    page = CampaignPage.objects.live().exclude(banner_image=None).first()
    return page, page.banner_image


@pytest.mark.parametrize("kind", ["talk", "article", "campaign"])
def test_a_picture_drawn_once_is_never_drawn_again(client, demo, kind):
    """A page kept its pictures with the renditions they had; one made after
    that was drawn from the original again on every render (30 ms a picture)
    until content changed. Once made, a rendition costs no query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page, image = _public_page_with_picture(kind)
    image.renditions.all().delete()
    client.get(page.url)  # keeps the picture, then makes its renditions
    made = set(image.renditions.values_list("pk", flat=True))
    assert made

    def rendition_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page.url).status_code == 200
        return [query["sql"] for query in queries if "wagtailimages_rendition" in query["sql"]]

    # The next render keeps the picture again, now with its renditions: one
    # query for all of them, and none looks a rendition up to draw it.
    assert [sql for sql in rendition_queries() if '"filter_spec" =' in sql] == []
    assert rendition_queries() == []
    assert set(image.renditions.values_list("pk", flat=True)) == made


# What saves content moves the generation on unless it says it shows on no page.


def test_every_model_saved_moves_the_generation_unless_it_shows_on_no_page():
    from django.apps import apps
    from wagtail.models import Page

    for model in apps.get_models():
        before = pagecache.generation()
        pagecache.content_saved(sender=model)
        moved = pagecache.generation() != before
        if issubclass(model, Page):
            assert not moved, f"{model._meta.label}: pages count when published, not saved"
        else:
            assert moved == pagecache.shown_on_pages(model), model._meta.label
        before = pagecache.generation()
        pagecache.content_deleted(sender=model)
        deleted_moves = pagecache.generation() != before
        assert deleted_moves == (pagecache.shown_on_pages(model) or issubclass(model, Page))


def test_every_model_said_to_show_on_no_page_exists():
    from django.apps import apps

    installed = {model._meta.label_lower for model in apps.get_models()}
    # Wagtail defines its SQLite full-text index only when the database is SQLite.
    installed.add("wagtailsearch.sqliteftsindexentry")
    assert not pagecache.NOT_SHOWN_ON_PAGES - installed


@isolate_apps("portal.news")
def test_a_model_a_section_adds_moves_the_generation_without_being_named():
    class Notice(models.Model):
        text = models.TextField()

        class Meta:
            app_label = "news"

        def __str__(self):
            return self.text

    before = pagecache.generation()
    pagecache.content_saved(sender=Notice)
    assert pagecache.generation() != before


def test_a_booking_and_its_code_and_counts_leave_cached_pages_be(client, demo, settings):
    from counseling.models import Booking, Room
    from tests.counseling.test_booking_views import book, free_slots
    from tests.factories import make_open_room

    settings.PAGE_CACHE_ENABLED = True
    room = make_open_room()
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    before = pagecache.generation()
    book(client, room, free_slots(room)[0].start)
    assert Booking.objects.filter(room=room).count() == 1
    assert pagecache.generation() == before
    assert Client().get("/")["X-Page-Cache"] == "hit"

    Room.objects.get(pk=room.pk).save()
    assert pagecache.generation() != before


def test_made_up_addresses_keep_nothing(client, demo, cache_calls):
    client.get("/news/no-such-page/")  # keeps what every page shares: menu, footer, site
    cache_calls.clear()
    for n in range(20):
        assert client.get(f"/news/no-such-page-{n}/").status_code == 404
    assert not [call for call in cache_calls if call[0] in ("set", "set_many")]

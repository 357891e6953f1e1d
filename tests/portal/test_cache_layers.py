"""The cache has two layers: whole anonymous pages, and look-ups (portal.core.lookups)
kept per content generation. A request reads the generation once, however many
keys it builds from it."""

from io import StringIO

import pytest
from django.core.management import call_command

from portal.core import pagecache

pytestmark = pytest.mark.django_db

ROUND_TRIPS = ("get", "get_many", "set", "set_many", "add", "incr", "delete", "has_key")


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-admin", stdout=StringIO())


@pytest.fixture
def cache_calls(monkeypatch):
    """Every call to the page cache, in order, as (method, first argument)."""
    cache = pagecache.page_cache()
    calls = []

    def counted(name, method):
        def call(*args, **kwargs):
            calls.append((name, args[0] if args else None))
            return method(*args, **kwargs)

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
    reads = [call for call in cache_calls if call == ("get", pagecache.GENERATION_KEY)]
    assert len(reads) == 1


@pytest.mark.parametrize("url", ["/", "/news/", "/talks/", "/saohei/", "/search/?q=心理"])
def test_a_warm_render_makes_a_few_cache_reads_and_no_writes(client, demo, cache_calls, url):
    client.get(url)
    cache_calls.clear()
    assert client.get(url).status_code == 200
    assert {name for name, _key in cache_calls} == {"get"}
    assert len(cache_calls) <= 12, cache_calls

"""The portal's knobs (portal/settings/base.py): each default pinned by the
behaviour it controls where a test can reach it, and a setting taking its place."""

import datetime
import types

import pytest
from django.core.cache import caches
from django.core.cache.backends import base as cache_base
from django.core.cache.backends import locmem
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from portal.core import worker
from portal.core.clients import client_address
from portal.core.models import WorkerHeartbeat
from portal.settings import base

pytestmark = pytest.mark.django_db


class Clock:
    """time.time() for the local-memory cache, moved on by hand."""

    def __init__(self, monkeypatch):
        self.now = 1_000_000.0
        fake = types.SimpleNamespace(time=lambda: self.now)
        for module in (locmem, cache_base):
            monkeypatch.setattr(module, "time", fake)

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE_ENABLED = True
    caches[settings.PAGE_CACHE_ALIAS].clear()
    yield
    caches[settings.PAGE_CACHE_ALIAS].clear()


def served_from_cache(client):
    return client.get("/robots.txt")["X-Page-Cache"] == "hit"


def test_the_page_cache_is_on_by_default_in_the_shared_cache():
    assert base.PAGE_CACHE_ENABLED is True
    assert base.PAGE_CACHE_ALIAS == "default"


def test_by_default_a_cached_page_is_kept_ten_minutes(client, page_cache, monkeypatch):
    clock = Clock(monkeypatch)
    assert not served_from_cache(client)
    clock.advance(599)
    assert served_from_cache(client)
    clock.advance(2)
    assert not served_from_cache(client)


def test_the_setting_changes_how_long_a_page_is_kept(client, page_cache, settings, monkeypatch):
    settings.PAGE_CACHE_SECONDS = 30
    clock = Clock(monkeypatch)
    assert not served_from_cache(client)
    clock.advance(31)
    assert not served_from_cache(client)


def test_by_default_no_proxy_is_trusted_to_name_the_visitor(rf, settings):
    assert settings.TRUSTED_PROXIES == base.TRUSTED_PROXIES == []
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.7")
    assert client_address(request) == "127.0.0.1"
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_address(request) == "198.51.100.7"


def running_task(worker_id, started_at):
    return DBTaskResult.objects.create(
        task_path="counseling.notifications.deliver",
        args_kwargs={"args": [1], "kwargs": {}},
        status=TaskResultStatus.RUNNING,
        started_at=started_at,
        run_after=started_at,
        worker_ids=[worker_id],
        backend_name="default",
        exception_class_path="",
        traceback="",
    )


def status(task):
    return DBTaskResult.objects.get(pk=task.pk).status


def test_by_default_a_worker_silent_for_a_minute_loses_its_task():
    now = timezone.now()
    alive = running_task("alive", now - datetime.timedelta(hours=1))
    dead = running_task("dead", now - datetime.timedelta(hours=1))
    WorkerHeartbeat.objects.create(worker_id="alive", seen_at=now - datetime.timedelta(seconds=59))
    WorkerHeartbeat.objects.create(worker_id="dead", seen_at=now - datetime.timedelta(seconds=61))
    assert worker.reclaim_stale_tasks(now=now) == 1
    assert (status(alive), status(dead)) == (TaskResultStatus.RUNNING, TaskResultStatus.READY)


def test_by_default_a_task_of_a_worker_that_never_beat_waits_ten_minutes():
    now = timezone.now()
    young = running_task("unknown-1", now - datetime.timedelta(seconds=599))
    old = running_task("unknown-2", now - datetime.timedelta(seconds=601))
    assert worker.reclaim_stale_tasks(now=now) == 1
    assert (status(young), status(old)) == (TaskResultStatus.RUNNING, TaskResultStatus.READY)


def test_the_worker_beats_every_ten_seconds_by_default_and_as_set(settings):
    assert worker.heartbeat_interval() == 10
    settings.TASK_WORKER_HEARTBEAT = 0.5
    settings.TASK_WORKER_LEASE = 5
    assert worker.heartbeat_interval() == 0.5
    assert worker.lease() == datetime.timedelta(seconds=5)

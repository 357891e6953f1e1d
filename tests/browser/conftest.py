"""Real-browser tests: Debian's Chromium, driven by Playwright, against a live
server that serves the demo content (seed_demo) from the test database.

The demo site is built once for the whole browser package. The browser tests run
first in the session, on the freshly migrated database; afterwards the database
is put back exactly as migrations left it, so the rest of the suite sees no demo
content. The live server runs in a thread and commits for real, so these tests
hold no test transaction of their own.

Without Chromium the tests are skipped with a reason that says how to install it;
in CI (CI=true) a browser that cannot start fails the run instead."""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from portal.core import groups
from portal.core.models import AttemptCount
from tests.factories import authenticator_for

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Flags for a root user on a machine with a closed network: no sandbox, and none
# of the background connections Chromium otherwise makes at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NOT_RUN = (
    f"Chromium not found at {CHROMIUM}: apt-get install chromium fonts-wqy-microhei "
    "to run the browser tests"
)

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}

STAFF_PASSWORD = "browser-test-password-1"
EDITOR = "bianji"
REVIEWER = "shenhe"

HERE = Path(__file__).parent
# Read at collection, before any test database replaces it.
DEVELOPMENT_DATABASE = settings.DATABASES["default"]["NAME"]


def using_test_database():
    return connection.settings_dict["NAME"] != DEVELOPMENT_DATABASE


def chromium_missing():
    return not os.access(CHROMIUM, os.X_OK)


def in_browser_package(item):
    return HERE in Path(item.path).parents


def pytest_report_header(config):
    if chromium_missing():
        return f"browser tests: NOT RUN. {NOT_RUN}"
    return f"browser tests: Chromium at {CHROMIUM}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Run the browser tests first, while the database is still as migrations
    left it (transactional tests elsewhere empty it), and skip them without
    Chromium unless this is CI."""
    browser_items = [item for item in items if in_browser_package(item)]
    others = [item for item in items if not in_browser_package(item)]
    items[:] = browser_items + others
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
        if chromium_missing() and not IN_CI:
            item.add_marker(pytest.mark.skip(reason=NOT_RUN))


def pytest_terminal_summary(terminalreporter):
    if chromium_missing() and not IN_CI:
        terminalreporter.write_sep("=", "browser tests were NOT run", yellow=True)
        terminalreporter.write_line(NOT_RUN)


def restore_migrated_state(snapshot):
    """Empty the database and load the rows migrations created, then move the
    sequences past them (PostgreSQL), as TransactionTestCase's serialized
    rollback does."""
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    connection.creation.deserialize_db_from_string(snapshot)
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def make_staff(username, group_name):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", STAFF_PASSWORD)
    user.groups.add(Group.objects.get(name=group_name))
    authenticator_for(user)  # set up, as the admin asks of every staff member
    return user


@pytest.fixture(scope="package")
def test_database(django_db_setup, django_db_blocker):
    """The test database. pytest-django creates it only when some collected test
    asks for database access, and the browser tests reach it through the live
    server without asking: run on their own, they create it here."""
    from django.test.utils import setup_databases, teardown_databases

    if using_test_database():
        yield
        return
    with django_db_blocker.unblock():
        created = setup_databases(verbosity=0, interactive=False, aliases={connection.alias})
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            teardown_databases(created, verbosity=0)


@pytest.fixture(scope="package")
def live_site(test_database, django_db_blocker):
    """A live server on 127.0.0.1 serving the demo site, with an editor and a
    reviewer who can log in to the admin (each with an authenticator app set up)."""
    from pytest_django.live_server_helper import LiveServer

    assert using_test_database(), "the browser tests must never seed the development database"
    # The server thread reaches the database for every request, so access stays
    # open for the whole package.
    with django_db_blocker.unblock():
        snapshot = connection.creation.serialize_db_to_string()
        call_command("seed_demo", "--no-admin", stdout=StringIO())
        make_staff(EDITOR, groups.EDITORS)
        make_staff(REVIEWER, groups.REVIEWERS)
        server = LiveServer("127.0.0.1:0")
        server._live_server_modified_settings.enable()
        try:
            yield server
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            restore_migrated_state(snapshot)
            connection.close()
            for cache in caches.all():
                cache.clear()


@pytest.fixture
def db_access(live_site):
    """Read what the live server wrote: the tests hold no transaction, so the
    ORM sees its commits."""
    yield
    connection.close()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, started once through Playwright."""
    if chromium_missing():
        pytest.fail(f"CI=true and {NOT_RUN}", pytrace=False)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, so Django takes
    # the test's own ORM calls for async code; they are not (Django's docs give
    # this setting for Playwright).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_site):
    """Open pages in fresh browser contexts (a new phone or desktop each, in 长辈模式
    if asked, with other Playwright context options passed on), with the site as
    base URL; fail the test on any JavaScript error."""
    contexts, errors = [], []

    def open_page(viewport_name="phone", elder=False, **options):
        viewport = VIEWPORTS[viewport_name]
        context = chromium.new_context(
            **options,
            base_url=live_site.url,
            viewport=viewport,
            is_mobile=viewport is PHONE,
            has_touch=viewport is PHONE,
            device_scale_factor=1,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        if elder:  # 长辈模式, as its switch leaves it
            context.add_cookies([{"name": "elder", "value": "1", "url": live_site.url}])
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    # Attempt limits and cached pages must not leak from one test to the next.
    for cache in caches.all():
        cache.clear()
    AttemptCount.objects.all().delete()
    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], "JavaScript errors on the page"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture
def page(new_page, viewport):
    """One page at the parametrised viewport: each test runs on a phone (360×740)
    and on a desktop (1280×900)."""
    return new_page(viewport)

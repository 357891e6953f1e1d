"""Staff read the admin in Chinese. Wagtail 8.0's own zh-hans catalogs leave
about 400 admin strings out; the project's locale/ fills them in. Every string
in Wagtail's catalogs has a translation, and a walk through every admin screen
a superuser can reach (with the demo content) finds no English sentence."""

import json
import re
from collections import deque
from io import StringIO
from pathlib import Path

import html5lib
import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext, npgettext, pgettext
from wagtail.models import Page
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from portal.news.models import NewsIndexPage, NewsPage

pytestmark = pytest.mark.django_db

PROJECT_CATALOGS = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
# Two or more English words in a row: a sentence or a label left untranslated.
# Identifiers ("w-sync", "data-action") have no space and do not count.
ENGLISH = re.compile(r"[A-Za-z][a-z]+(?:,? [A-Za-z][a-z]+)+")
WORD = re.compile(r"[A-Za-z]{2,}")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
# Read the same in a Chinese interface.
SAME_IN_CHINESE = {"URL", "ID", "Wagtail API v2", "Wagtail API v3"}
TEXT_ATTRIBUTES = ("title", "aria-label", "aria-description", "placeholder", "alt")
NOT_SCREENS = re.compile(
    r"/logout/|/jsi18n/|/serve/|/download/|/export/|\.(?:jpe?g|png|webp|gif|svg|pdf|vtt|csv|xlsx|ics)$"
)
# At most this many addresses per admin view: the rest differ only in the object.
PER_VIEW = 3


def wagtail_catalogs(domain):
    """The English source catalogs Wagtail ships: every string its admin shows."""
    for app_config in apps.get_app_configs():
        if app_config.name.startswith("wagtail") or app_config.name == "taggit":
            path = Path(app_config.path) / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"
            if path.exists():
                yield app_config.name, polib.pofile(str(path))


def translated(entry):
    if entry.msgid_plural:
        if entry.msgctxt:
            result = npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
        else:
            result = ngettext(entry.msgid, entry.msgid_plural, 1)
    elif entry.msgctxt:
        result = pgettext(entry.msgctxt, entry.msgid)
    else:
        result = gettext(entry.msgid)
    return result != entry.msgid


def test_every_wagtail_admin_string_has_a_chinese_translation():
    missing = []
    with translation.override("zh-hans"):
        for app_name, catalog in wagtail_catalogs("django"):
            for entry in catalog:
                words = WORD.search(PLACEHOLDER.sub("", entry.msgid))
                if entry.obsolete or not words or entry.msgid in SAME_IN_CHINESE:
                    continue
                if not translated(entry):
                    missing.append(f"{app_name}: {entry.msgid}")
    assert missing == [], "\n".join(missing)


def test_every_string_of_the_admin_scripts_has_a_chinese_translation(admin_client):
    """Read from the catalog the admin's scripts load, as the browser does."""
    script = admin_client.get(reverse("wagtailadmin_javascript_catalog")).content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});\n", script, re.S).group(1))
    missing = [
        f"{app_name}: {entry.msgid}"
        for app_name, source in wagtail_catalogs("djangojs")
        for entry in source
        if not entry.obsolete and entry.msgid not in catalog
    ]
    assert missing == []


def test_the_compiled_catalogs_hold_what_the_project_translated():
    """locale/*.mo is compiled from locale/*.po (make messages): a translation
    added to the .po only counts once it is in the .mo Django reads."""
    with translation.override("zh-hans"):
        stale = [
            entry.msgid
            for entry in polib.pofile(str(PROJECT_CATALOGS / "django.po"))
            if not entry.msgid_plural
            and (pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else gettext(entry.msgid))
            != entry.msgstr
        ]
    assert stale == []
    for name in ("django", "djangojs"):
        compiled = polib.mofile(str(PROJECT_CATALOGS / f"{name}.mo"))
        source = polib.pofile(str(PROJECT_CATALOGS / f"{name}.po"))
        assert {e.msgid: e.msgstr for e in compiled if not e.msgid_plural} == {
            e.msgid: e.msgstr for e in source if not e.msgid_plural
        }, f"locale/zh_Hans/LC_MESSAGES/{name}.mo is out of date: run make messages"


def test_permissions_are_named_in_chinese_on_the_group_screens():
    names = {
        permission.codename: permission.name
        for permission in Permission.objects.filter(
            codename__in=["add_newscategory", "access_admin", "choose_document", "publish_page"]
        )
    }
    assert names["add_newscategory"] == "可以添加新闻分类"
    assert names["access_admin"] == "可以访问 Wagtail 管理后台"
    assert names["choose_document"] == "可以选择文档"
    assert not ENGLISH.search(names["publish_page"])


def visible_strings(html, fragment=False):
    """Text a member of staff can read or hear on a screen: text, the attributes
    shown as tooltips or read out, and the strings (markup included) that the
    admin's scripts take from JSON on the page."""
    tree = (html5lib.parseFragment if fragment else html5lib.parse)(
        html, namespaceHTMLElements=False
    )
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag == "style":
            continue
        if element.tag == "script":
            if element.get("type") == "application/json" and element.text:
                yield from json_strings(json.loads(element.text))
            continue
        for name in TEXT_ATTRIBUTES:
            if element.get(name):
                yield element.get(name)
        for text in (element.text, element.tail):
            if text and text.strip():
                yield text.strip()


def json_strings(value):
    if isinstance(value, str):
        yield from visible_strings(value, fragment=True) if "<" in value else [value]
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def english_on(html):
    return {sentence for text in visible_strings(html) for sentence in ENGLISH.findall(text)}


def walk(client, start):
    """Every admin screen reachable by links from `start`, at most PER_VIEW
    addresses per view (all of `start`), as {view name: {url: English found}}."""
    seen, queue, screens = set(), deque(start), {}
    while queue:
        url = queue.popleft()
        if url in seen or NOT_SCREENS.search(url):
            continue
        seen.add(url)
        try:
            view = resolve(url).view_name
        except Resolver404:
            continue
        if len(screens.get(view, {})) >= PER_VIEW and url not in start:
            continue
        response = client.get(url)
        if response.status_code == 302:
            queue.append(response["Location"])
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        screens.setdefault(view, {})[url] = english_on(html)
        # Links, and the addresses the admin's scripts hold (the sidebar's menu).
        queue.extend(re.findall(r"[\"'](/admin/[^\"'#?\s\\]*)", html))
    return screens


def test_no_admin_screen_shows_an_english_sentence(admin_client):
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    pages = Page.objects.filter(depth__gt=1).specific().order_by("path")
    start = ["/admin/"] + [reverse("wagtailadmin_pages:edit", args=[page.pk]) for page in pages]
    screens = walk(admin_client, start)

    # The walk reached the screens editors, reviewers and coordinators work in.
    assert sum(len(urls) for urls in screens.values()) >= 200
    for view in [
        "wagtailadmin_home",
        "wagtailadmin_explore",
        "wagtailadmin_pages:edit",
        "wagtailadmin_pages:add_subpage",
        "wagtailadmin_pages:history",
        "wagtailimages:index",
        "wagtaildocs:index",
        "wagtailmedia:index",
        "wagtailsnippets_news_newscategory:list",
        "wagtailsettings:edit",
        "wagtailadmin_reports:aging_pages",
        "wagtailusers_groups:add",
        "wagtailadmin_account",
    ]:
        assert view in screens, view
    assert any(view.startswith("counseling") for view in screens)

    english = {
        url: sorted(found) for urls in screens.values() for url, found in urls.items() if found
    }
    assert english == {}


def test_a_page_that_fails_validation_says_so_in_chinese(admin_client):
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    index = NewsIndexPage.objects.get()
    url = reverse("wagtailadmin_pages:add", args=["news", "newspage", index.pk])
    data = nested_form_data(
        {
            "title": "",
            "slug": "",
            "date": "",
            "intro": "",
            "body": streamfield([]),
            "related_news_links": inline_formset([]),
            "comments": inline_formset([]),
        }
    )
    response = admin_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "由于存在验证错误，无法创建页面。" in html
    assert english_on(html) == set()
    assert NewsPage.objects.filter(title="").count() == 0

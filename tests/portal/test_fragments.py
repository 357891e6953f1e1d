"""Fragments kept per content generation ({% contentcache %}): shared by visitors,
refreshed by any content change, never filled from a preview."""

import pytest
from django.template import engines

from portal.core import pagecache

pytestmark = pytest.mark.django_db

TEMPLATE = "{% load fragment_tags %}{% contentcache greeting who %}{{ text }}{% endcontentcache %}"


def render(rf, text, who="居民", preview=False):
    request = rf.get("/")
    request.is_preview = preview
    template = engines["django"].from_string(TEMPLATE)
    return template.render({"text": text, "who": who}, request)


def test_a_fragment_is_reused_until_content_changes(rf):
    assert render(rf, "第一版") == "第一版"
    assert render(rf, "第二版") == "第一版"
    assert render(rf, "第二版", who="网格员") == "第二版"
    pagecache.invalidate()
    assert render(rf, "第二版") == "第二版"


def test_a_preview_renders_afresh_and_leaves_nothing_behind(rf):
    assert render(rf, "草稿", preview=True) == "草稿"
    assert render(rf, "已发布") == "已发布"
    assert render(rf, "另一份草稿", preview=True) == "另一份草稿"
    assert render(rf, "改动") == "已发布"


def test_publishing_a_page_refreshes_its_cached_article(client, home):
    from portal.core.models import StandardPage

    page = home.add_child(instance=StandardPage(title="办事指南", slug="guide"))
    page.save_revision().publish()
    assert "办事指南" in client.get("/guide/").text
    page.title = "办事指南（新版）"
    page.save_revision().publish()
    assert "办事指南（新版）" in client.get("/guide/").text

"""Staff publishing: groups, the 先审后发 review workflow and scheduled publishing."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, Revision, Workflow
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from portal.core import groups
from portal.core.models import StandardPage
from portal.news.models import NewsCategory
from portal.talks.models import Speaker
from tests.factories import log_in_verified

pytestmark = pytest.mark.django_db


def make_staff(username, group_name):
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", "x-password-123"
    )
    user.groups.add(Group.objects.get(name=group_name))
    return user


def page_form(title, slug, action):
    data = nested_form_data(
        {
            "title": title,
            "slug": slug,
            "intro": "提交审核的测试页面",
            "body": streamfield([]),
            "comments": inline_formset([]),
        }
    )
    data[action] = "1"
    return data


def test_groups_created_by_migration():
    names = set(Group.objects.values_list("name", flat=True))
    assert {groups.EDITORS, groups.REVIEWERS, groups.COORDINATORS, groups.GRID_WORKERS} <= names
    assert "Moderators" not in names


def test_default_workflow_assigned_to_whole_tree():
    workflow = Page.get_first_root_node().get_workflow()
    assert isinstance(workflow, Workflow)
    assert workflow.name == "先审后发"
    task = workflow.tasks.get().specific
    assert list(task.groups.values_list("name", flat=True)) == [groups.REVIEWERS]


def test_editor_page_goes_live_only_after_reviewer_approves(client, home):
    editor = make_staff("editor", groups.EDITORS)
    reviewer = make_staff("reviewer", groups.REVIEWERS)

    log_in_verified(client, editor)
    add_url = reverse("wagtailadmin_pages:add", args=["core", "standardpage", home.pk])
    response = client.post(add_url, page_form("办事指南", "guide", "action-submit"))
    assert response.status_code == 302
    page = StandardPage.objects.get(slug="guide")
    assert not page.live
    assert page.current_workflow_state.status == "in_progress"

    # Editors have no publish permission: asking to publish leaves the page offline.
    edit_url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    client.post(edit_url, page_form("办事指南", "guide", "action-publish"))
    page.refresh_from_db()
    assert not page.live

    client.logout()
    assert client.get("/guide/").status_code == 404

    log_in_verified(client, reviewer)
    task_state = page.current_workflow_task_state
    approve_url = reverse(
        "wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk]
    )
    response = client.post(approve_url, {"comment": "同意发布"})
    assert response.status_code in (200, 302)
    page.refresh_from_db()
    assert page.live

    client.logout()
    response = client.get("/guide/")
    assert response.status_code == 200
    assert "办事指南" in response.content.decode()


def test_scheduled_page_is_published_by_publish_scheduled(client, home):
    page = home.add_child(instance=StandardPage(title="节日安排", slug="holiday", live=False))
    page.go_live_at = timezone.now() + timedelta(seconds=2)
    revision = page.save_revision()
    revision.publish()  # with a future go-live time this only schedules it
    page.refresh_from_db()
    assert not page.live
    assert client.get("/holiday/").status_code == 404

    assert Revision.objects.get(pk=revision.pk).approved_go_live_at == page.go_live_at

    time.sleep(2.1)  # the go-live time passes, then the cron job runs
    call_command("publish_scheduled")
    page.refresh_from_db()
    assert page.live
    assert client.get("/holiday/").status_code == 200


def snippet_url(model, action):
    return reverse(f"wagtailsnippets_{model._meta.app_label}_{model._meta.model_name}:{action}")


@pytest.mark.parametrize("group_name", [groups.EDITORS, groups.REVIEWERS])
def test_editors_and_reviewers_manage_speakers(client, group_name):
    log_in_verified(client, make_staff("staff", group_name))
    assert client.get(snippet_url(Speaker, "list")).status_code == 200
    assert client.get(snippet_url(Speaker, "add")).status_code == 200
    response = client.post(snippet_url(Speaker, "add"), {"name": "王海燕", "title": "", "bio": ""})
    assert response.status_code == 302
    assert Speaker.objects.filter(name="王海燕").exists()


def test_editors_see_news_categories_and_reviewers_may_add_them(client):
    log_in_verified(client, make_staff("editor", groups.EDITORS))
    assert client.get(snippet_url(NewsCategory, "list")).status_code == 200
    assert client.get(snippet_url(NewsCategory, "add")).status_code != 200
    log_in_verified(client, make_staff("reviewer", groups.REVIEWERS))
    assert client.get(snippet_url(NewsCategory, "list")).status_code == 200
    assert client.get(snippet_url(NewsCategory, "add")).status_code == 200

"""The categories residents report under, with their time limits in working days
(portal/service_requests.models.Category), kept by admins in the Wagtail admin."""

import re

import pytest
from django.db import IntegrityError, transaction

from portal.service_requests.models import Category

pytestmark = pytest.mark.django_db

CATEGORIES = "/admin/service_requests/categories/"


def category_form(**fields):
    return {
        "name": "噪音扰民",
        "code": "noise",
        "description": "夜间施工",
        "response_days": 1,
        "resolution_days": 3,
        "is_active": "on",
        **fields,
    }


def test_a_category_keeps_its_code_and_time_limits(admin_client):
    response = admin_client.post(f"{CATEGORIES}new/", category_form(reply_needs_approval="on"))
    assert response.status_code == 302
    category = Category.objects.get()
    assert (category.code, category.response_days, category.resolution_days) == ("noise", 1, 3)
    assert category.reply_needs_approval and category.is_active


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"resolution_days": 1, "response_days": 2}, "办结时限不能短于响应时限。"),
        ({"response_days": 0}, "确保该值大于或等于1。"),
        ({"resolution_days": 91}, "确保该值小于或等于90。"),
        ({"name": ""}, "必需字段"),
        ({"code": "噪音 扰民"}, "输入由字母，数字，下划线或连字符号组成的有效“字段”。"),
    ],
)
def test_a_category_with_impossible_limits_or_a_bad_code_is_refused(admin_client, fields, message):
    response = admin_client.post(f"{CATEGORIES}new/", category_form(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Category.objects.exists()


def test_two_categories_cannot_share_a_code(admin_client):
    admin_client.post(f"{CATEGORIES}new/", category_form())
    response = admin_client.post(f"{CATEGORIES}new/", category_form(name="夜间噪音"))
    assert response.status_code == 200
    assert list(Category.objects.values_list("name", flat=True)) == ["噪音扰民"]


def test_the_database_refuses_impossible_limits():
    for response_days, resolution_days in ((5, 2), (0, 3)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Category.objects.create(
                name="其他",
                code="other",
                response_days=response_days,
                resolution_days=resolution_days,
            )


def test_the_list_shows_each_categorys_code_and_limits(admin_client):
    admin_client.post(f"{CATEGORIES}new/", category_form(response_days=2, resolution_days=7))
    page = admin_client.get(CATEGORIES).content.decode()
    start = page.rindex("<table", 0, page.rindex(f"{CATEGORIES}edit/"))
    listing = page[start : page.index("</table>", start)]
    row = re.findall(r"<tr\b[^>]*>(.*?)</tr>", listing, re.S)[1]
    text = re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", row)).strip()
    assert text == "噪音扰民 编辑 删除 noise 2 7 否 是"


def test_the_demo_categories_are_seeded_once_in_order(home):
    from demo import organisation, service_requests

    organisation.seed()
    service_requests.seed(home)
    service_requests.seed(home)
    names = list(Category.objects.values_list("name", flat=True))
    assert names[:3] == ["噪音扰民", "装修扰民", "群租房"] and names[-1] == "其他"
    assert len(names) == len(set(names)) == 8
    assert Category.objects.get(code="group-rental").reply_needs_approval

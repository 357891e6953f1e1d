"""Two-factor sign-in in a real browser: a new staff member sets up an authenticator
from the QR page's key, a returning one enters a code; both pages pass axe at phone
and desktop width."""

import base64
import re
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.oath import TOTP
from playwright.sync_api import expect

from portal.core import groups
from tests.factories import authenticator_code, authenticator_for

from .conftest import STAFF_PASSWORD
from .test_accessibility import assert_accessible


def new_staff_member(username):
    user = get_user_model().objects.create_user(username, password=STAFF_PASSWORD)
    user.groups.add(Group.objects.get(name=groups.EDITORS))
    return user


def enter_password(page, username):
    page.goto("/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").click()


def test_a_new_staff_member_sets_up_an_authenticator_from_the_key_shown(
    new_page, viewport, db_access
):
    new_staff_member(f"xinren-{viewport}")
    page = new_page(viewport)
    enter_password(page, f"xinren-{viewport}")

    expect(page.get_by_role("heading", level=1)).to_have_text("设置两步验证")
    expect(page.get_by_role("img", name="用于验证器应用扫描的二维码")).to_be_visible()
    assert_accessible(page)
    secret = page.locator("#two-factor-secret").inner_text()
    app = TOTP(base64.b32decode(re.sub(r"\s", "", secret)))
    app.time = time.time()
    page.get_by_label("验证码").fill(f"{app.token():06d}")
    page.get_by_role("button", name="完成设置并进入后台").click()

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#main")).to_be_visible()


def test_a_returning_staff_member_is_told_of_a_wrong_code_and_gets_in_with_the_right_one(
    new_page, viewport, db_access
):
    device = authenticator_for(new_staff_member(f"laoshou-{viewport}"))
    page = new_page(viewport)
    enter_password(page, f"laoshou-{viewport}")

    expect(page.get_by_role("heading", level=1)).to_have_text("两步验证")
    assert_accessible(page)
    page.get_by_label("验证码").fill("12345")
    page.get_by_role("button", name="验证并进入后台").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入 6 位数字验证码")
    assert_accessible(page)

    page.get_by_label("验证码").fill(authenticator_code(device))
    page.get_by_role("button", name="验证并进入后台").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

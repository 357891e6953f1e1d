"""Staff account security: login lockout (django-axes), two-factor sign-in for the
admin (django-otp), password rules, session time limits and the audit log."""

import base64
import datetime
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import sessions
from portal.core import groups
from portal.core.logging import JsonLinesFormatter
from tests.factories import authenticator_code, authenticator_for, log_in_verified

PASSWORD = "a-long-test-password"
ADMIN_LOGIN = "/admin/login/"
STAFF_LOGIN = "/_util/login/"
VERIFY = "/admin/two-factor/"
ENROL = "/admin/two-factor/setup/"
VISITOR = "203.0.113.5"

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]


def make_staff(username="bianji", group=groups.EDITORS):
    user = User.objects.create_user(username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return make_staff()


def audit_events(caplog, event=None):
    return [
        record
        for record in caplog.records
        if record.name == "portal.audit" and (event is None or record.getMessage() == event)
    ]


def logged_in(client):
    return "_auth_user_id" in client.session


def fail_login(client, url=ADMIN_LOGIN, username="bianji", times=1, **headers):
    headers.setdefault("REMOTE_ADDR", VISITOR)
    for _ in range(times):
        response = client.post(url, {"username": username, "password": "wrong-password"}, **headers)
    return response


def log_in(client, url=ADMIN_LOGIN, username="bianji", **headers):
    headers.setdefault("REMOTE_ADDR", VISITOR)
    return client.post(url, {"username": username, "password": PASSWORD}, **headers)


# --- Lockout after repeated failures --------------------------------------------------


def test_five_failed_admin_logins_lock_the_username_from_that_address(client, editor, caplog):
    for _ in range(4):
        response = fail_login(client)
        assert response.status_code == 200  # the login form again, with its error

    response = fail_login(client)

    assert response.status_code == 429
    html = response.content.decode()
    assert "登录已暂时锁定" in html and "30 分钟后再试" in html
    assert 'class="login' in html  # the admin login's look, not a bare error
    assert "Traceback" not in html
    # Even the right password is refused while locked out.
    assert log_in(client).status_code == 429
    assert not logged_in(client)

    failures = audit_events(caplog, "login.failed")
    assert len(failures) == 6
    assert {(r.username, r.ip, r.path) for r in failures} == {("bianji", VISITOR, ADMIN_LOGIN)}
    lockouts = audit_events(caplog, "login.locked_out")
    assert lockouts and lockouts[0].username == "bianji" and lockouts[0].ip == VISITOR
    assert lockouts[0].levelno == logging.WARNING


def test_a_lockout_holds_only_for_that_username_and_address_together(client, editor):
    make_staff("shenhe", groups.REVIEWERS)
    fail_login(client, times=5)

    assert log_in(client, REMOTE_ADDR="198.51.100.9").status_code == 302
    client.logout()
    assert log_in(client, username="shenhe").status_code == 302


def test_the_staff_login_for_private_pages_locks_out_with_the_site_layout(client, home, editor):
    fail_login(client, STAFF_LOGIN, times=4)

    response = fail_login(client, STAFF_LOGIN)

    assert response.status_code == 429
    html = response.content.decode()
    assert "登录已暂时锁定" in html and 'class="site-header"' in html
    assert log_in(client, STAFF_LOGIN).status_code == 429


def test_a_locked_out_login_works_again_after_the_cool_off(client, editor):
    fail_login(client, times=5)
    thirty_one_minutes_ago = datetime.timedelta(minutes=31)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= thirty_one_minutes_ago
        attempt.save()

    assert log_in(client).status_code == 302
    assert logged_in(client)


def test_behind_the_proxy_each_visitor_is_counted_by_x_real_ip(client, editor, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    fail_login(client, times=5, HTTP_X_REAL_IP="198.51.100.1", **proxy)

    assert log_in(client, HTTP_X_REAL_IP="198.51.100.1", **proxy).status_code == 429
    assert log_in(client, HTTP_X_REAL_IP="198.51.100.2", **proxy).status_code == 302


def test_ipv6_failures_from_one_64_network_lock_out_the_whole_network(client, editor):
    # One connection gets a whole /64 and can use a new address for every try.
    for host in range(1, 6):
        fail_login(client, REMOTE_ADDR=f"2001:db8:aa:bb::{host:x}")

    assert log_in(client, REMOTE_ADDR="2001:db8:aa:bb:ffff:1:2:3").status_code == 429
    assert not logged_in(client)
    # The neighbouring /64 is someone else.
    assert log_in(client, REMOTE_ADDR="2001:db8:aa:bc::1").status_code == 302


def test_a_forged_x_real_ip_from_outside_the_proxy_does_not_escape_a_lockout(
    client, editor, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    fail_login(client, times=5)

    assert log_in(client, HTTP_X_REAL_IP="198.51.100.3").status_code == 429


def test_a_login_without_a_valid_address_is_still_counted(client, editor, settings):
    # A request with no address, or a proxy passing on garbage, must not break the
    # IP column axes writes to (PostgreSQL checks it).
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    fail_login(client, times=5, REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="not-an-address")

    assert log_in(client, REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="still-not").status_code == 429
    assert AccessAttempt.objects.get().ip_address is None


# --- Two-factor sign-in for the admin --------------------------------------------------


def a_wrong_code(device):
    """A code the device does not accept in any step it tolerates now."""
    valid = set()
    for offset in (-1, 0, 1):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + offset * device.step
        valid.add(f"{totp.token():06d}")
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def test_an_admin_page_after_the_password_alone_asks_for_the_code(client, editor):
    authenticator_for(editor)
    client.force_login(editor)

    response = client.get("/admin/pages/?ordering=title")

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fadmin%2Fpages%2F%3Fordering%3Dtitle"


def test_a_wrong_code_is_refused_with_a_message(client, editor, caplog):
    device = authenticator_for(editor)
    client.force_login(editor)

    response = client.post(VERIFY, {"code": a_wrong_code(device), "next": "/admin/"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "验证码不正确或已过期" in html
    assert client.get("/admin/").status_code == 302
    [failure] = audit_events(caplog, "otp.failed")
    assert failure.user_id == editor.pk and failure.levelno == logging.WARNING
    assert not hasattr(failure, "code")


def test_the_right_code_lets_the_staff_member_in(client, editor, caplog):
    device = authenticator_for(editor)
    client.force_login(editor)
    form = client.get(f"{VERIFY}?next=/admin/pages/")
    assert form.status_code == 200
    assert 'autocomplete="one-time-code"' in form.content.decode()

    response = client.post(VERIFY, {"code": authenticator_code(device), "next": "/admin/pages/"})

    assert response.status_code == 302 and response["Location"] == "/admin/pages/"
    assert client.get("/admin/pages/").status_code == 200
    assert [r.user_id for r in audit_events(caplog, "otp.verified")] == [editor.pk]


def test_a_code_typed_with_full_width_digits_and_spaces_is_accepted(client, editor):
    device = authenticator_for(editor)
    client.force_login(editor)
    code = authenticator_code(device)
    typed = f"{code[:3]} {code[3:]}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    assert client.post(VERIFY, {"code": typed}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_codes_are_refused_for_a_while_after_several_wrong_ones(client, editor):
    device = authenticator_for(editor)
    device.throttling_failure_count = 5
    device.throttling_failure_timestamp = datetime.datetime.now(datetime.UTC)
    device.save()
    client.force_login(editor)

    response = client.post(VERIFY, {"code": authenticator_code(device)})

    assert response.status_code == 200
    assert "验证码错误次数较多" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_code_already_used_is_not_accepted_again(client, editor):
    device = authenticator_for(editor)
    client.force_login(editor)
    code = authenticator_code(device)
    client.post(VERIFY, {"code": code})
    client.logout()
    client.force_login(editor)

    response = client.post(VERIFY, {"code": code})

    assert "验证码不正确或已过期" in response.content.decode()


def test_a_staff_member_without_an_authenticator_sets_one_up_first(client, editor, caplog):
    client.force_login(editor)

    response = client.get("/admin/")
    assert response["Location"] == f"{ENROL}?next=%2Fadmin%2F"
    assert client.get(VERIFY)["Location"].startswith(ENROL)
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "设置两步验证" in html
    assert re.search(r'<img src="data:image/svg\+xml[^"]+"[^>]* alt="[^"]+"', html)
    assert not re.search(r'src="(https?:)?//', html)  # nothing from third-party hosts
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html).group(1)
    assert client.get(ENROL).content.decode().count(secret) == 1  # same key on reload

    # The staff member types the key shown into the app, which then shows codes.
    key = base64.b32decode(secret.replace(" ", ""))
    app = TOTP(key)
    app.time = time.time()
    wrong = client.post(ENROL, {"code": a_wrong_code(TOTPDevice.objects.get(user=editor))})
    assert "验证码不正确或已过期" in wrong.content.decode()
    TOTPDevice.objects.filter(user=editor).update(throttling_failure_count=0)

    done = client.post(ENROL, {"code": f"{app.token():06d}", "next": "/admin/"})

    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert TOTPDevice.objects.get(user=editor).confirmed
    assert client.get("/admin/").status_code == 200
    assert [r.user_id for r in audit_events(caplog, "otp.enrolled")] == [editor.pk]


def enrolment_secret(client):
    html = client.get(ENROL).content.decode()
    return re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html).group(1)


def test_each_enrolment_attempt_gets_a_key_of_its_own(editor):
    # Someone who knows the password opens the set-up page before the staff member.
    intruder, staff = Client(), Client()
    intruder.force_login(editor)
    staff.force_login(editor)
    seen_by_intruder = enrolment_secret(intruder)

    scanned = enrolment_secret(staff)

    assert scanned != seen_by_intruder
    assert enrolment_secret(staff) == scanned  # a reload keeps the QR code
    app = TOTP(base64.b32decode(scanned.replace(" ", "")))
    app.time = time.time()
    assert staff.post(ENROL, {"code": f"{app.token():06d}"}).status_code == 302
    # Only the key the staff member scanned is left, and the intruder's copy of
    # the other one produces nothing the server accepts.
    [device] = TOTPDevice.objects.filter(user=editor)
    assert device.confirmed
    assert base64.b32encode(device.bin_key).decode() == scanned.replace(" ", "")
    intruders_app = TOTP(base64.b32decode(seen_by_intruder.replace(" ", "")))
    intruders_app.time = time.time()
    response = intruder.post(VERIFY, {"code": f"{intruders_app.token():06d}"})
    assert "验证码不正确或已过期" in response.content.decode()


def test_a_password_alone_cannot_set_up_a_second_authenticator(client, editor):
    authenticator_for(editor)
    client.force_login(editor)

    response = client.get(ENROL)

    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=editor).count() == 1


def test_login_logout_scripts_and_static_files_stay_reachable_before_the_code(client, editor):
    authenticator_for(editor)
    client.force_login(editor)

    assert client.get(VERIFY).status_code == 200
    assert client.get(reverse("wagtailadmin_javascript_catalog")).status_code == 200
    assert client.get("/static/wagtailadmin/css/core.css").status_code == 200
    login = client.get(ADMIN_LOGIN, follow=True)
    assert login.status_code == 200 and login.redirect_chain[-1][0].startswith(VERIFY)

    logout = client.post(reverse("wagtailadmin_logout"))

    assert logout.status_code == 302 and not logged_in(client)


def test_a_user_without_admin_access_is_not_asked_for_a_code(client, db):
    # An account in no staff group: a resident's, say, or a new colleague's
    # before an admin has placed them.
    client.force_login(User.objects.create_user("xinren", password=PASSWORD))

    response = client.get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN)


def test_the_development_switch_lets_the_password_alone_into_the_admin(client, editor, settings):
    settings.ADMIN_REQUIRE_2FA = False
    client.force_login(editor)

    assert client.get("/admin/").status_code == 200
    assert client.get(VERIFY)["Location"] == "/admin/"


@pytest.mark.parametrize("module, required", [("production", True), ("dev", False)])
def test_two_factor_is_on_in_production_and_off_for_the_development_demo(module, required):
    probe = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.ADMIN_REQUIRE_2FA, settings.AUTHENTICATION_BACKENDS[0], "
        "settings.MIDDLEWARE[-1]]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": f"portal.settings.{module}",
            "SECRET_KEY": "probe",
            "ALLOW_CONSOLE_MESSAGES": "true",  # production otherwise asks for EMAIL_HOST
            "BOOKING_DATA_KEY": "cHJvYmUtb25seS1ib29raW5nLWRhdGEta2V5LTMyYnk=",
            "BOOKING_LOOKUP_KEY": "probe-only-lookup-key",
            "WAGTAILADMIN_BASE_URL": "https://www.example.gov.cn",
            "SINGLE_PROCESS": "true",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        required,
        "axes.backends.AxesStandaloneBackend",
        "axes.middleware.AxesMiddleware",
    ]


def test_a_superuser_resets_a_lost_authenticator(client, editor, caplog):
    log_in_verified(client, editor)

    output = io.StringIO()
    call_command("reset_two_factor", "bianji", stdout=output)

    assert "bianji" in output.getvalue()
    assert not TOTPDevice.objects.filter(user=editor).exists()
    assert client.get("/admin/")["Location"].startswith(ENROL)
    [reset] = audit_events(caplog, "otp.reset")
    assert reset.staff_user_id == editor.pk and reset.devices_removed == 1
    with pytest.raises(CommandError, match="没有用户名为"):
        call_command("reset_two_factor", "nobody")


def test_a_superuser_resets_an_authenticator_from_the_user_list(
    admin_client, admin_user, editor, caplog
):
    authenticator_for(editor)
    reset_url = f"/admin/two-factor/reset/{editor.pk}/"
    assert reset_url in admin_client.get(reverse("wagtailusers_users:index")).content.decode()
    confirm = admin_client.get(reset_url)
    assert confirm.status_code == 200 and "确认重置" in confirm.content.decode()

    response = admin_client.post(reset_url, follow=True)

    assert "已重置 bianji 的两步验证" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=editor).exists()
    [reset] = audit_events(caplog, "otp.reset")
    assert reset.user_id == admin_user.pk and reset.staff_user_id == editor.pk


def test_only_a_superuser_may_reset_an_authenticator(client, editor):
    colleague = make_staff("shenhe", groups.REVIEWERS)
    authenticator_for(colleague)
    log_in_verified(client, editor)

    # The admin answers a refused page by going back to the dashboard with a message.
    refused = client.post(f"/admin/two-factor/reset/{colleague.pk}/")

    assert refused.status_code == 302 and refused["Location"] == "/admin/"
    assert TOTPDevice.objects.filter(user=colleague).exists()


# --- Password rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    "password, message",
    [
        ("short-pw-1", "密码太短,至少需要 12 个字符。"),
        ("qwerty123456", "这个密码太常见了。"),
    ],
)
def test_the_admin_refuses_a_new_user_with_a_short_or_common_password(
    admin_client, password, message
):
    response = admin_client.post(
        reverse("wagtailusers_users:add"),
        {
            "username": "xiaoli",
            "email": "xiaoli@example.com",
            "first_name": "小",
            "last_name": "李",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="xiaoli").exists()


@pytest.mark.parametrize(
    "password, message",
    [
        ("short-pw-1", "密码太短,至少需要 12 个字符。"),
        ("qwerty123456", "这个密码太常见了。"),
    ],
)
def test_a_staff_member_cannot_change_to_a_short_or_common_password(
    client, editor, password, message
):
    log_in_verified(client, editor)

    response = client.post(
        "/admin/account/",
        {
            "password-old_password": PASSWORD,
            "password-new_password1": password,
            "password-new_password2": password,
        },
    )

    assert message in response.content.decode()
    editor.refresh_from_db()
    assert editor.check_password(PASSWORD)


# --- Session time limits ---------------------------------------------------------------


def shift_session_clock(client, started_ago, seen_ago):
    session = client.session
    now = time.time()
    session[sessions.STARTED_AT] = int(now - started_ago.total_seconds())
    session[sessions.SEEN_AT] = int(now - seen_ago.total_seconds())
    session.save()


def test_a_staff_session_ends_after_30_idle_minutes(client, editor, caplog):
    log_in_verified(client, editor)
    shift_session_clock(
        client, started_ago=datetime.timedelta(hours=1), seen_ago=datetime.timedelta(minutes=31)
    )

    response = client.get("/admin/pages/", follow=True)

    assert response.redirect_chain[0][0].startswith(f"{ADMIN_LOGIN}?next=")
    assert "您已较长时间没有操作" in response.content.decode()
    assert not logged_in(client)
    [logout] = audit_events(caplog, "logout")
    assert logout.user_id == editor.pk and logout.reason == "idle_timeout"


def test_a_staff_session_in_use_goes_on_and_counts_its_activity(client, editor):
    log_in_verified(client, editor)
    shift_session_clock(
        client, started_ago=datetime.timedelta(hours=1), seen_ago=datetime.timedelta(minutes=29)
    )

    assert client.get("/admin/").status_code == 200
    assert time.time() - client.session[sessions.SEEN_AT] < 60


def test_a_staff_session_ends_12_hours_after_login_however_active(client, editor, caplog):
    log_in_verified(client, editor)
    shift_session_clock(
        client,
        started_ago=datetime.timedelta(hours=12, minutes=1),
        seen_ago=datetime.timedelta(minutes=1),
    )

    response = client.get("/admin/", follow=True)

    assert "超过 12 小时" in response.content.decode()
    assert not logged_in(client)
    assert audit_events(caplog, "logout")[0].reason == "absolute_timeout"


def test_the_session_cookie_lives_no_longer_than_the_session(client, editor, settings):
    remembered = client.post(
        ADMIN_LOGIN, {"username": "bianji", "password": PASSWORD, "remember": "on"}
    )
    assert remembered.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 60 * 60
    assert settings.STAFF_SESSION_ABSOLUTE_TIMEOUT.total_seconds() == settings.SESSION_COOKIE_AGE
    client.logout()

    browser_session = client.post(ADMIN_LOGIN, {"username": "bianji", "password": PASSWORD})
    assert browser_session.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""


# --- The audit log ----------------------------------------------------------------------


def test_logins_and_logouts_are_logged_as_json_lines_without_passwords(client, editor, caplog):
    fail_login(client)
    log_in(client)
    client.post(reverse("wagtailadmin_logout"))

    failed, succeeded, logout = (
        audit_events(caplog, name)[0] for name in ("login.failed", "login.succeeded", "logout")
    )
    line = json.loads(JsonLinesFormatter().format(succeeded))
    assert line["event"] == "login.succeeded" and line["logger"] == "portal.audit"
    assert line["user_id"] == editor.pk and line["ip"] == VISITOR and line["path"] == ADMIN_LOGIN
    assert datetime.datetime.fromisoformat(line["time"]).tzinfo is not None
    assert failed.username == "bianji" and not hasattr(failed, "user_id")
    assert logout.user_id == editor.pk and logout.reason == "logout"
    everything = "\n".join(JsonLinesFormatter().format(r) for r in audit_events(caplog))
    assert "wrong-password" not in everything and PASSWORD not in everything


# --- Password reset -------------------------------------------------------------------

PASSWORD_RESET = "/admin/password_reset/"


def ask_for_reset(client, email, address=VISITOR):
    return client.post(PASSWORD_RESET, {"email": email}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_password_reset_mails_one_address_at_most_three_times_an_hour(client, mailoutbox, caplog):
    get_user_model().objects.create_user(
        "chongzhi", email="chongzhi@example.com", password=PASSWORD
    )
    for number in range(12):
        response = ask_for_reset(client, "chongzhi@example.com", address=f"198.51.100.{number}")
        # Every request gets the same answer, so the limit tells nobody anything.
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_password_reset_done")

    assert len(mailoutbox) == 3
    assert len(audit_events(caplog, "password_reset.throttled")) == 9
    # The same mailbox written another way (case, full-width letters) shares the count.
    for variant in ("CHONGZHI@example.com", "ｃｈｏｎｇｚｈｉ@example.com"):
        ask_for_reset(client, variant, address="198.51.100.99")
    assert len(mailoutbox) == 3


@pytest.mark.django_db
def test_password_reset_answers_one_visitor_at_most_five_times_an_hour(client, mailoutbox):
    user_model = get_user_model()
    for number in range(7):
        user_model.objects.create_user(
            f"staff{number}", email=f"staff{number}@example.com", password=PASSWORD
        )
    for number in range(7):
        assert ask_for_reset(client, f"staff{number}@example.com").status_code == 302

    assert len(mailoutbox) == 5
    # Someone else, from another network, is not held up.
    ask_for_reset(client, "staff6@example.com", address="2001:db8:77::1")
    assert len(mailoutbox) == 6

"""The second sign-in factor for the admin: a TOTP authenticator app (django-otp).

Each staff member has at most one confirmed TOTP device. A member without one sets
it up on first admin visit (enrol); afterwards every new session asks for a code
(verify). Only a superuser can remove a lost device: `manage.py reset_two_factor` or
重置两步验证 in the admin's user list."""

import base64
import datetime

import segno
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import log_event

VERIFY_VIEW = "accounts_two_factor_verify"
ENROL_VIEW = "accounts_two_factor_enrol"
RESET_VIEW = "accounts_two_factor_reset"
DEVICE_NAME = "手机验证器"
ENROL_SESSION_KEY = "two_factor_enrol_device"
ABANDONED_AFTER = datetime.timedelta(hours=12)


def needs_verification(user):
    """True for an admin user signed in without a verified code in this session."""
    return (
        settings.ADMIN_REQUIRE_2FA
        and user.is_authenticated
        and not user.is_verified()
        and user.has_perm("wagtailadmin.access_admin")
    )


def device_of(user):
    """The user's confirmed authenticator, or None."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def pending_device_for(request):
    """The authenticator this session is setting up. Each enrolment attempt (a
    signed-in session) gets a key of its own, kept on reload so the QR code shown
    does not change: someone else who knows the password and opens the page sees
    another key, never the one the staff member scans."""
    user = request.user
    pk = request.session.get(ENROL_SESSION_KEY)
    device = TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first() if pk else None
    if device is None:
        # Attempts abandoned long ago need no key any more.
        TOTPDevice.objects.filter(
            user=user, confirmed=False, created_at__lt=timezone.now() - ABANDONED_AFTER
        ).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        request.session[ENROL_SESSION_KEY] = device.pk
    return device


def confirm(request, device):
    """The staff member proved the device works: it becomes their authenticator,
    and every other attempt's key is thrown away."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    request.session.pop(ENROL_SESSION_KEY, None)


def secret_for_typing(device):
    """The key in base32, in groups of four, for apps without a camera."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device):
    """The otpauth:// set-up address as an SVG QR code in a data: URI, drawn here so
    the key never goes to a third-party image service."""
    return segno.make(device.config_url, error="m").svg_data_uri(
        scale=5, border=4, dark="#000", light="#fff"
    )


def reset(staff_member, request=None, by=None):
    """Remove the staff member's authenticators (a lost or replaced phone); their
    sessions lose their verification and the next admin visit sets up a new one.
    Returns how many were removed."""
    removed, _ = TOTPDevice.objects.filter(user=staff_member).delete()
    log_event("otp.reset", request, user=by, staff_user_id=staff_member.pk, devices_removed=removed)
    return removed

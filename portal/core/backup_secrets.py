"""The staff's two-factor authenticators in backups: exported encrypted, so an
archive alone cannot produce anyone's codes, and brought back by `restore` when
the server that reads the archive has the same SECRET_KEY (or has it among
SECRET_KEY_FALLBACKS). Without it the devices are not restored, and each staff
member sets up the authenticator again at the next admin login."""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.management.color import no_style
from django.db import connections, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

FIELDS = (
    "id",
    "user_id",
    "name",
    "confirmed",
    "key",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
    "throttling_failure_count",
)


def _fernet_for(secret):
    digest = hashlib.sha256(f"jinjialing-backup-authenticators:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def cipher():
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(secret) for secret in secrets])


def export_authenticators(database="default"):
    """The confirmed authenticators as an encrypted token (bytes)."""
    rows = list(
        TOTPDevice.objects.using(database).filter(confirmed=True).order_by("pk").values(*FIELDS)
    )
    return cipher().encrypt(json.dumps(rows).encode())


class AuthenticatorsUnreadable(Exception):
    """The archive was made under a SECRET_KEY this server does not have."""


def import_authenticators(token, database="default"):
    """Put the exported authenticators back (replacing any); returns how many."""
    try:
        rows = json.loads(cipher().decrypt(token))
    except InvalidToken as unreadable:
        raise AuthenticatorsUnreadable from unreadable
    connection = connections[database]
    with transaction.atomic(using=database):
        TOTPDevice.objects.using(database).all().delete()
        TOTPDevice.objects.using(database).bulk_create(TOTPDevice(**row) for row in rows)
        # The rows keep their ids: move PostgreSQL's id sequence past them.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [TOTPDevice]):
                cursor.execute(statement)
    return len(rows)

"""Counting attempts against a limit, in the database.

Counts are kept where nothing can lift them: not in the cache, which an outage
empties and a memory limit evicts, but in one row per key and window. A database
that cannot count refuses the attempt with its error, as the rest of the
request would (limits fail closed)."""

import datetime
import hashlib

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import AttemptCount


def _window(scope, value, window):
    """The row's key and when its window ends."""
    # Hashed so that addresses, mobiles and emails are not kept readable.
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    index = int(timezone.now().timestamp()) // window
    ends = datetime.datetime.fromtimestamp((index + 1) * window, tz=datetime.UTC)
    return f"{digest}:{window}:{index}", ends


def count_attempt(scope, value, allowed, window):
    """Count one attempt by `value` in `scope`; False once more than `allowed`
    were made in the current window of `window` seconds."""
    key, ends = _window(scope, value, window)
    with transaction.atomic():
        if not AttemptCount.objects.filter(key=key).update(count=F("count") + 1):
            _open_window(key, ends)
        count = AttemptCount.objects.filter(key=key).values_list("count", flat=True).get()
    return count <= allowed


def _open_window(key, ends):
    AttemptCount.objects.filter(expires_at__lte=timezone.now()).delete()
    try:
        with transaction.atomic():
            AttemptCount.objects.create(key=key, count=1, expires_at=ends)
    except IntegrityError:  # another request opened it meanwhile
        AttemptCount.objects.filter(key=key).update(count=F("count") + 1)


def refund_attempt(scope, value, window):
    """Take back one attempt counted in the current window."""
    key, _ends = _window(scope, value, window)
    AttemptCount.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)

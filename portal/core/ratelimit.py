"""Counting attempts against a limit, in the Django cache (Redis in production,
so every app process shares the counts)."""

import contextlib
import hashlib

from django.core.cache import cache
from django.utils import timezone


def _cache_key(scope, value, window):
    # Hashed so that addresses, mobiles and emails are not kept readable in the cache.
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    return f"rl:{digest}:{int(timezone.now().timestamp()) // window}"


def count_attempt(scope, value, allowed, window):
    """Count one attempt by `value` in `scope`; False once more than `allowed`
    were made in the current window of `window` seconds."""
    key = _cache_key(scope, value, window)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= allowed


def refund_attempt(scope, value, window):
    """Take back one attempt counted in the current window."""
    key = _cache_key(scope, value, window)
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take back
        cache.decr(key)

"""Residents' personal data at rest and in logs: encryption of the fields that
hold it (bookings now, requests next), the keyed hash that finds a resident's
rows by mobile, and masking for anything printed.

Such fields are Fernet tokens (AES-128-CBC with HMAC-SHA256, from the
`cryptography` package) under the keys in settings.BOOKING_DATA_KEYS: the first
encrypts, every key decrypts, so a key is rotated by putting a new one first and
running `manage.py rotate_booking_keys`. A token is different each time, so the
database cannot compare values; a booking is found by mobile through
HMAC-SHA256 of the normalised mobile under settings.BOOKING_LOOKUP_KEYS (a
separate key, so the lookup column alone reveals nothing and a leaked lookup key
decrypts nothing). Both settings come from the environment in production. The
module lives in core so every section that keeps residents' details uses the
same keys and the same rules; counseling uses it, and nothing here knows
counseling."""

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def normalise_mobile(value):
    """Drop the spaces, dashes and +86 people type around a mobile number; full-width
    digits from Chinese input methods become ordinary ones."""
    digits = re.sub(r"[\s\-()()]", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def _keys(name):
    keys = getattr(settings, name, None)
    if not keys:
        raise ImproperlyConfigured(f"Set {name} (the environment's {name[:-1]}).")
    return tuple(keys)


@lru_cache(maxsize=4)
def _fernet(keys):
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as bad_key:
        raise ImproperlyConfigured(
            "BOOKING_DATA_KEY must be Fernet keys (32 bytes, URL-safe base64), comma-separated."
        ) from bad_key


def data_cipher():
    return _fernet(_keys("BOOKING_DATA_KEYS"))


def encrypt(text):
    return data_cipher().encrypt(text.encode()).decode("ascii")


def decrypt(token):
    return data_cipher().decrypt(token.encode("ascii")).decode()


def reencrypt(token):
    """The same text under the first key (for key rotation)."""
    return data_cipher().rotate(token.encode("ascii")).decode("ascii")


def _hmac(key, text):
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _digest(key, mobile):
    return _hmac(key, normalise_mobile(mobile))


def mobile_digest(mobile):
    """The lookup hash stored with a booking: under the first lookup key."""
    return _digest(_keys("BOOKING_LOOKUP_KEYS")[0], mobile)


def keyed_hash(text):
    """HMAC-SHA256 of `text` under the first lookup key: for values that must be
    compared but never read back (one-time codes)."""
    return _hmac(_keys("BOOKING_LOOKUP_KEYS")[0], text)


def mobile_digests(mobile):
    """Every hash a booking of this mobile may carry (one per lookup key), so
    lookups keep working while a new lookup key is being rolled out."""
    return [_digest(key, mobile) for key in _keys("BOOKING_LOOKUP_KEYS")]


def mask_mobile(mobile):
    """138****0000: enough for a person to recognise their own number."""
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else "****"


def scrub(text, *secrets):
    """`text` with every non-empty secret (a mobile, an email) replaced by ****,
    for error messages that a provider may have built from them."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return text

"""Pluggable SMS sending, for every text the site sends a resident (booking
messages, codes, replies to requests). The default backend writes messages to
the console; production names a backend class in SMS_BACKEND (from the
environment) that talks to the provider the sub-district contracts, and refuses
to start with the console or memory backend unless ALLOW_CONSOLE_MESSAGES=true
(portal/settings/production.py)."""

import sys

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "portal.core.sms.ConsoleBackend"


class SmsError(Exception):
    """Raised by a backend when the message was not accepted."""


class ConsoleBackend:
    def send(self, mobile, text):
        sys.stdout.write(f"[短信] {mobile[:3]}****{mobile[-4:]}: {text}\n")


class MemoryBackend:
    """Keeps messages in a list, for tests."""

    outbox = []

    def send(self, mobile, text):
        self.outbox.append((mobile, text))


def get_backend():
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()

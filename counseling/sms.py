"""Pluggable SMS sending. The default backend writes messages to the console;
production names a backend class in COUNSELING_SMS_BACKEND (from the
environment) that talks to the provider the sub-district contracts, and refuses
to start with the console or memory backend unless ALLOW_CONSOLE_MESSAGES=true
(portal/settings/production.py)."""

import sys

from django.utils.module_loading import import_string

from . import conf


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
    return import_string(conf.get("SMS_BACKEND"))()

"""A stand-in for the SMS provider's backend that a real deployment installs:
importable, so production settings pass their start-up checks in tests, and
refusing every message, since no test may reach a real gateway."""

from portal.core.sms import SmsError


class ProviderBackend:
    def send(self, mobile, text):
        raise SmsError("no SMS provider in tests")

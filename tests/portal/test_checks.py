"""The start-up checks of the message settings (portal/core/checks.py): a
site upgraded from when codes were the booking module's own is told which
settings were renamed, and an SMS backend that cannot be imported stops it."""

from django.core import checks


def problems():
    return [(problem.id, problem.msg) for problem in checks.run_checks()]


def test_a_clean_configuration_passes():
    assert problems() == []


def test_renamed_code_settings_are_named_with_their_new_names(settings):
    settings.COUNSELING_CODE_TRIES = 3
    settings.COUNSELING_RATE_LIMITS = {"code": {"ip": (5, 3600)}}
    found = problems()
    assert (
        "core.W001",
        "设置 COUNSELING_CODE_TRIES 已不再使用,现在叫 MOBILE_CODE_TRIES。",
    ) in found
    assert any(
        "MOBILE_CODE_RATE_LIMITS" in message or "code 和 verify" in message
        for _id, message in found
    )


def test_an_sms_backend_that_cannot_be_imported_is_an_error(settings):
    settings.SMS_BACKEND = "counseling.sms.ConsoleBackend"  # where it was before
    [(problem_id, message)] = problems()
    assert problem_id == "core.E001" and "counseling.sms.ConsoleBackend" in message

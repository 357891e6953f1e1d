"""Start-up checks of the settings the site's messages depend on (run by
`manage.py check`, `migrate` and every server start)."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from .sms import Template

# Settings the SMS code had before it served residents' requests as well as
# bookings, and what each is called now (production.py still reads the old
# COUNSELING_SMS_BACKEND from the environment).
RENAMED = {
    "COUNSELING_CODE_LIFETIME_MINUTES": "MOBILE_CODE_LIFETIME_MINUTES",
    "COUNSELING_CODE_TRIES": "MOBILE_CODE_TRIES",
    "COUNSELING_CODE_RESEND_SECONDS": "MOBILE_CODE_RESEND_SECONDS",
    "COUNSELING_VERIFIED_MINUTES": "MOBILE_CODE_VERIFIED_MINUTES",
    "COUNSELING_CODES_KEPT_DAYS": "MOBILE_CODE_KEPT_DAYS",
    "COUNSELING_PENDING_FORM_MINUTES": "MOBILE_CODE_PENDING_FORM_MINUTES",
}


@checks.register()
def sms_settings(app_configs, **kwargs):
    problems = []
    backend = getattr(settings, "SMS_BACKEND", None)
    if backend:
        try:
            backend_class = import_string(backend)
        except ImportError as error:
            problems.append(
                checks.Error(
                    f"短信后端 SMS_BACKEND={backend!r} 无法导入:{error}",
                    hint="请检查类的路径;短信后端的基类和异常现在在 portal.core.sms。",
                    id="core.E001",
                )
            )
        else:
            problems += template_settings(backend_class)
    for old, new in RENAMED.items():
        if hasattr(settings, old):
            problems.append(
                checks.Warning(
                    f"设置 {old} 已不再使用,现在叫 {new}。",
                    hint=f"请把 {old} 改名为 {new},否则用的是默认值。",
                    id="core.W001",
                )
            )
    codes = getattr(settings, "COUNSELING_RATE_LIMITS", {})
    if "code" in codes or "verify" in codes:
        problems.append(
            checks.Warning(
                "COUNSELING_RATE_LIMITS 里的 code 和 verify 已不再使用。",
                hint="验证码的次数限制现在是 MOBILE_CODE_RATE_LIMITS 的 send 和 check。",
                id="core.W001",
            )
        )
    return problems


def template_settings(backend_class):
    """A backend that sends only provider-approved templates needs a template id
    for every kind of text the site sends, and its signature and keys: without
    them residents would silently get nothing of that kind."""
    if not getattr(backend_class, "needs_templates", False):
        return []
    problems = [
        checks.Error(
            f"短信网关需要设置 {name}。",
            hint="见 docs/booking.md“短信网关”。",
            id="core.E002",
        )
        for name in backend_class.settings_needed
        if not getattr(settings, name, "")
    ]
    templates = getattr(settings, "SMS_TEMPLATES", {}) or {}
    for kind, template in sorted(Template.all.items()):
        if not templates.get(kind):
            problems.append(
                checks.Error(
                    f"SMS_TEMPLATES 缺少“{kind}”短信的模板编号。",
                    hint=f"请在短信服务商处报备这个模板并把编号填入 SMS_TEMPLATES:{template.wording}"
                    f"(参数依次为 {'、'.join(template.params)})。",
                    id="core.E003",
                )
            )
    return problems

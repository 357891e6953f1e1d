"""Proof that a resident holds a mobile: a six-digit code sent by SMS, typed back,
before a booking or a request counts.

By default (DEFAULTS below) a code is valid for five minutes and five tries;
another can be asked for after 60 seconds; sending is limited per visitor, per number and visitor, and per
number. A code belongs to the browser session that asked for it: another session
can neither use it, replace it, spend its tries nor see that it was sent. Codes
and numbers are stored only as keyed hashes (HMAC under the booking lookup key).
Once the code is right, the session remembers the number as verified for a while,
so booking, reporting a problem and looking either up need one code, not one each.

The SMS is neutral: it names the sub-district, never counselling, since a phone
may be seen by others.

A site changes a knob with a Django setting named ``MOBILE_CODE_`` plus the
knob's name; docs/deploy.md lists them."""

import datetime
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .clients import client_key
from .models import MobileCode
from .privacy import keyed_hash, mask_mobile, mobile_digest, mobile_digests
from .ratelimit import count_attempt, refund_attempt
from .sms import Failure, SmsError, Template, get_backend

PREFIX = "MOBILE_CODE_"
DEFAULTS = {
    # Minutes a code stays valid: enough for an elderly resident to find the
    # message and type it, short enough that a code read off a lost phone later
    # is useless.
    "LIFETIME_MINUTES": 5,
    # Wrong tries one code allows (a count); then a new code must be asked for.
    # Five tries of six digits leave a guesser one chance in 200,000.
    "TRIES": 5,
    # Seconds before the same session may have another code sent to the number:
    # SMS gateways take up to a minute, and a second tap must not send two texts.
    "RESEND_SECONDS": 60,
    # Minutes a session counts a number as proven after its code was typed, so
    # booking then looking the booking up needs one code, not two; a shared phone
    # left on the page does not stay proven for long.
    "VERIFIED_MINUTES": 30,
    # Days the hashed codes are kept before `purge_bookings` or `purge_requests`
    # deletes them: a day answers "did the resident get a code?" the same day.
    "KEPT_DAYS": 1,
    # Minutes what a resident typed into a form is kept (encrypted, in the
    # session) while the code is on its way (portal.core.code_step).
    "PENDING_FORM_MINUTES": 30,
    # For each action and key, (at most N attempts, per window of S seconds); a
    # setting overrides single entries. "send": texting a code, each one a message
    # to a number that may not be the visitor's; keys "ip" one visitor, "mobile"
    # one number from one visitor, "mobile_total" one number from anywhere.
    # "check": typing codes, per visitor (each code also allows only TRIES).
    "RATE_LIMITS": {
        "send": {"ip": (10, 60 * 60), "mobile": (5, 60 * 60), "mobile_total": (10, 60 * 60)},
        "check": {"ip": (30, 60 * 60)},
    },
}


def knob(name):
    """The knob's value: the site's MOBILE_CODE_<name> setting, or the default."""
    return getattr(settings, PREFIX + name, DEFAULTS[name])


def _limit(action, kind):
    configured = getattr(settings, PREFIX + "RATE_LIMITS", {}).get(action, {})
    return configured.get(kind, DEFAULTS["RATE_LIMITS"][action][kind])


def attempt(action, kind, value):
    """Count one attempt at `action` by `value`; False when it goes over the limit."""
    allowed, window = _limit(action, kind)
    return count_attempt(f"mobile_code:{action}:{kind}", value, allowed, window)


def refund(action, kind, value):
    """Take back one attempt counted by attempt(), for one that did not happen."""
    _allowed, window = _limit(action, kind)
    refund_attempt(f"mobile_code:{action}:{kind}", value, window)


def attempt_check(request):
    """Count one typed code from this visitor; False when over the limit."""
    return attempt("check", "ip", client_key(request))


CODE_DIGITS = 6
SESSION_KEY = "verified_mobile"
# A random name for this browser session, kept across session key changes, that
# the session's codes are filed under.
REQUESTER_KEY = "mobile_code_requester"


def code_lifetime():
    return datetime.timedelta(minutes=knob("LIFETIME_MINUTES"))


def verified_for():
    """How long a session counts a number as proven after its code was typed."""
    return datetime.timedelta(minutes=knob("VERIFIED_MINUTES"))


def codes_kept_for():
    """How long codes are kept before they are purged."""
    return datetime.timedelta(days=knob("KEPT_DAYS"))


class CodeRefused(Exception):
    """A code could not be sent or was not accepted; `message` is for the resident."""

    def __init__(self, reason, message, wait_seconds=0):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.wait_seconds = wait_seconds


def _code_digest(mobile_hash, code):
    return keyed_hash(f"code:{mobile_hash}:{code}")


CODE_TEMPLATE = Template(
    "code",
    gettext_lazy(
        "【金家岭街道】验证码 %(code)s,%(minutes)s 分钟内有效。请勿告诉他人;如非本人操作,请忽略本短信。"
    ),
    params=("code", "minutes"),
)


def message_text(code):
    return CODE_TEMPLATE.render(code=code, minutes=knob("LIFETIME_MINUTES"))


def requester_hash(request):
    """The keyed hash that files codes under this browser session."""
    nonce = request.session.get(REQUESTER_KEY)
    if nonce is None:
        nonce = request.session[REQUESTER_KEY] = secrets.token_urlsafe(16)
    return keyed_hash(f"requester:{nonce}")


def _codes_of(request, mobile):
    return MobileCode.objects.filter(
        mobile_hash__in=mobile_digests(mobile),
        requester_hash=requester_hash(request),
        used_at__isnull=True,
    )


def wait_before_resend(request, mobile, now=None):
    """Seconds until this session may have another code sent to `mobile` (0 when
    it may now): a minute after its last code still waiting to be typed."""
    now = now or timezone.now()
    last = _codes_of(request, mobile).order_by("-created_at").values_list("created_at", flat=True)
    last = last.first()
    if last is None:
        return 0
    resend_at = last + datetime.timedelta(seconds=knob("RESEND_SECONDS"))
    return max(0, int((resend_at - now).total_seconds() + 0.999))


def _limits(request, mobile):
    """(action kind, value, message) of each limit a code counts against."""
    client, number = client_key(request), mobile_digest(mobile)
    many_here = _("获取验证码的次数过多,请一小时后再试。")
    many_for_number = _("这个号码获取验证码的次数过多,请一小时后再试。")
    return [
        ("ip", client, many_here),
        ("mobile", f"{number}:{client}", many_for_number),
        ("mobile_total", number, many_for_number),
    ]


def send_code(request, mobile, now=None):
    """Send a fresh code to `mobile` for this session, or raise CodeRefused (too
    soon after its last one, too many, or the SMS gateway refused: then nothing
    is stored and nothing counted)."""
    now = now or timezone.now()
    wait = wait_before_resend(request, mobile, now)
    if wait:
        raise CodeRefused(
            "wait",
            ngettext(
                "验证码刚刚发出,请等 %(seconds)d 秒后再重新获取。",
                "验证码刚刚发出,请等 %(seconds)d 秒后再重新获取。",
                wait,
            )
            % {"seconds": wait},
            wait_seconds=wait,
        )
    counted = []
    for kind, value, message in _limits(request, mobile):
        allowed = attempt("send", kind, value)
        counted.append((kind, value))
        if not allowed:
            raise CodeRefused("limit", message)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    digest = mobile_digest(mobile)
    record = MobileCode.objects.create(
        mobile_hash=digest,
        requester_hash=requester_hash(request),
        code_hash=_code_digest(digest, code),
        created_at=now,
        expires_at=now + code_lifetime(),
    )
    try:
        get_backend().send(mobile, message_text(code))
    except (SmsError, OSError) as failed:
        record.delete()
        for kind, value in counted:  # a text that never went out uses up no allowance
            refund("send", kind, value)
        if getattr(failed, "failure", None) == Failure.NUMBER:
            raise CodeRefused(
                "sms_number",
                _("短信服务商说这个号码收不到短信。请核对手机号码,或换一个能收短信的号码。"),
            ) from failed
        raise CodeRefused(
            "sms_failed", _("短信暂时发不出去,您填写的内容都还在。请稍等片刻后再点“获取验证码”。")
        ) from failed
    return record


def check_code(request, mobile, typed, now=None, consume=True):
    """Accept the code typed in this session for `mobile`, or raise CodeRefused; a
    wrong try is counted and committed before the refusal. A right code is used
    up, or (consume=False) returned to be used up by consume() once what it was
    typed for has been done. Returns the code's record."""
    now = now or timezone.now()
    typed = "".join(ch for ch in typed if ch.isdigit())
    with transaction.atomic():
        tries = knob("TRIES")
        record = _codes_of(request, mobile).select_for_update().order_by("-created_at").first()
        if record is None or record.expires_at <= now:
            refusal = "expired"
        elif record.tries >= tries:
            refusal = "too_many"
        else:
            record.tries += 1
            if hmac.compare_digest(record.code_hash, _code_digest(record.mobile_hash, typed)):
                record.used_at = now if consume else None
                refusal = None
            else:
                refusal = "wrong" if record.tries < tries else "too_many"
            record.save(update_fields=["tries", "used_at"])
    if refusal == "expired":
        raise CodeRefused("expired", _("验证码已过期或已经用过,请点“重新获取验证码”。"))
    if refusal == "too_many":
        raise CodeRefused("too_many", _("验证码输错次数太多,请点“重新获取验证码”。"))
    if refusal == "wrong":
        left = tries - record.tries
        raise CodeRefused(
            "wrong",
            ngettext(
                "验证码不对,请核对短信中的 6 位数字,还可以再试 %(left)d 次。",
                "验证码不对,请核对短信中的 6 位数字,还可以再试 %(left)d 次。",
                left,
            )
            % {"left": left},
        )
    return record


def consume(record, now=None):
    """Use up a code that check_code(consume=False) accepted."""
    MobileCode.objects.filter(pk=record.pk, used_at__isnull=True).update(
        used_at=now or timezone.now()
    )


def _session_key(purpose):
    return f"{SESSION_KEY}:{purpose}"


def mark_verified(request, mobile, purpose, now=None):
    """Remember in this session that its visitor proved `mobile` for `purpose`
    ("booking", "request"): the number's keyed hashes (one per lookup key, to
    find what it holds) and its masked form to show, never the number. A proof
    opens only what it was asked for: a number proven to report a problem does
    not show that number's counselling bookings to the next person at a shared
    phone. The caller gives the session a new key once the response is sure to
    carry it, so an id seen before the proof cannot use it."""
    request.session[_session_key(purpose)] = {
        "mobile_hashes": mobile_digests(mobile),
        "masked": mask_mobile(mobile),
        "at": (now or timezone.now()).timestamp(),
    }


def _proof(request, purpose, now=None):
    key = _session_key(purpose)
    proof = request.session.get(key)
    if not proof:
        return None
    proved_at = datetime.datetime.fromtimestamp(proof["at"], datetime.UTC)
    if (now or timezone.now()) - proved_at > verified_for():
        request.session.pop(key, None)
        return None
    return proof


def verified_hashes(request, purpose, now=None):
    """The keyed hashes of the number this session proved for `purpose`, while
    the proof is fresh; None otherwise."""
    proof = _proof(request, purpose, now)
    return proof["mobile_hashes"] if proof else None


def verified_mask(request, purpose):
    proof = _proof(request, purpose)
    return proof["masked"] if proof else ""


def is_verified(request, mobile, purpose):
    proved = verified_hashes(request, purpose)
    return proved is not None and mobile_digest(mobile) in proved


def forget(request, purpose):
    request.session.pop(_session_key(purpose), None)


def purge(before):
    """Delete codes sent before `before`; returns how many."""
    deleted, _by_model = MobileCode.objects.filter(created_at__lt=before).delete()
    return deleted

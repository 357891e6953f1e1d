"""心理自评 pages: a landing page to choose PHQ-9 or GAD-7, then one question a
screen, then the crisis page or the result.

Each question is a small form that posts its answer; the answers so far travel
in the form as a token signed with the site's key (django.core.signing), never
in the database, a session or the address, so nothing ties them to a person and
a shared phone's history shows no answer. The only thing kept is one anonymous
count per questionnaire, band and month (counseling.models.SelfCheckCount),
made when the last answer is first posted: the token's random nonce is noted in
the cache then, so reloading the result does not count it again.

A token that is not ours, answers out of range or in the wrong number, or an
unknown questionnaire get a 400 page that says so in Chinese, and count nothing.

The scoring lives in counseling.selfcheck; these views only move between
screens. Question, crisis and result pages carry answers: they are never cached
(never_cache), by the page cache or the browser."""

import logging
import re
import secrets
from dataclasses import dataclass, replace

from django.apps import apps
from django.core import signing
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .models import SelfCheckCount
from .selfcheck import ANSWER_VALUES, ANSWERS, INSTRUMENTS, STEM, Instrument, NextStep

SALT = "counseling.selfcheck"
# Seconds a self-check's token stays good after its last answer: a day, so a
# resident who puts the phone down can carry on in the evening. The nonce that
# counted a result is remembered as long, so no reload within the token's life
# counts it twice.
VALID_FOR = 24 * 60 * 60
NONCE = re.compile(r"[0-9a-f]{32}")

UNKNOWN_INSTRUMENT = gettext_lazy("没有找到这份问卷。请回到心理自评页面,重新选择问卷。")
TAMPERED = gettext_lazy(
    "这次提交的内容不完整或已被改动,无法继续。您的回答没有被保存,请重新开始自评。"
)
EXPIRED = gettext_lazy(
    "这次自评已经超过一天没有继续,为了保护您的隐私,之前的回答已经失效。请重新开始自评。"
)
NO_ANSWER = gettext_lazy("请选择一个最符合您情况的答案,再点“下一题”。")

logger = logging.getLogger(__name__)


class Refused(Exception):
    """Input no page of ours sends: answered with a 400 page and its message."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Progress:
    """A self-check under way: the questionnaire, the answers given so far (in
    item order), its random nonce, and whether the crisis page was shown."""

    instrument: Instrument
    answers: tuple
    nonce: str
    crisis_shown: bool = False

    @classmethod
    def start(cls, instrument):
        return cls(instrument, (), secrets.token_hex(16))

    @property
    def complete(self):
        return len(self.answers) == len(self.instrument)

    def token(self):
        return signing.dumps(
            {
                "i": self.instrument.code,
                "a": "".join(map(str, self.answers)),
                "n": self.nonce,
                "c": self.crisis_shown,
            },
            salt=SALT,
        )

    @classmethod
    def from_token(cls, instrument, token):
        """The progress a token of ours holds for ``instrument``, or Refused."""
        try:
            data = signing.loads(token, salt=SALT, max_age=VALID_FOR)
        except signing.SignatureExpired as expired:
            raise Refused(EXPIRED) from expired
        except signing.BadSignature as bad:
            raise Refused(TAMPERED) from bad
        # Signed by this site, so well formed unless the key leaked: checked all the same.
        if not (
            isinstance(data, dict)
            and data.keys() == {"i", "a", "n", "c"}
            and data["i"] == instrument.code
            and isinstance(data["a"], str)
            and re.fullmatch(r"[0-3]*", data["a"])
            and len(data["a"]) <= len(instrument)
            and isinstance(data["n"], str)
            and NONCE.fullmatch(data["n"])
            and isinstance(data["c"], bool)
        ):
            raise Refused(TAMPERED)
        return cls(instrument, tuple(map(int, data["a"])), data["n"], data["c"])

    def answered(self, number, value):
        """With item ``number`` (from 1) answered ``value``."""
        answers = list(self.answers)
        if number > len(answers):
            answers.append(value)
        else:
            answers[number - 1] = value
        return replace(self, answers=tuple(answers))


@require_safe
def start(request):
    """The landing page: what a self-check is, and the two questionnaires. The
    same for everyone, with no form, so the page cache may keep it."""
    return render(
        request,
        "counseling/selfcheck_start.html",
        {"instruments": INSTRUMENTS.values(), "page_title": _("心理自评")},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def questions(request, instrument):
    """GET: the first question of a new self-check. POST: an answer, a step
    back, or (after the crisis page) the result."""
    questionnaire = INSTRUMENTS.get(instrument)
    if questionnaire is None:
        return _refused(request, UNKNOWN_INSTRUMENT)
    if request.method == "GET":
        return _question(request, Progress.start(questionnaire), 1)
    try:
        progress = Progress.from_token(questionnaire, _single(request.POST, "state"))
        if "show" in request.POST:
            return _show(request, progress, _single(request.POST, "show"))
        return _answer(request, progress)
    except Refused as refused:
        return _refused(request, refused.message)


def _single(data, name):
    """The one value of ``name`` in the form: missing or repeated is not our form."""
    values = data.getlist(name)
    if len(values) != 1:
        raise Refused(TAMPERED)
    return values[0]


def _question_number(progress, text):
    """A question the resident may see: one answered, or the next one."""
    if not re.fullmatch(r"[1-9][0-9]?", text):
        raise Refused(TAMPERED)
    number = int(text)
    if number > min(len(progress.answers) + 1, len(progress.instrument)):
        raise Refused(TAMPERED)
    return number


def _show(request, progress, target):
    """上一题 (a question number), or the result after the crisis page."""
    if target == "result":
        if not progress.complete:
            raise Refused(TAMPERED)
        return _finished(request, progress, progress.instrument.assess(progress.answers))
    return _question(request, progress, _question_number(progress, target))


def _answer(request, progress):
    number = _question_number(progress, _single(request.POST, "question"))
    values = request.POST.getlist("answer")
    if not values:
        return _question(request, progress, number, missing=True)
    if len(values) != 1 or values[0] not in {str(value) for value in ANSWER_VALUES}:
        raise Refused(TAMPERED)
    progress = progress.answered(number, int(values[0]))
    if number < len(progress.instrument):
        return _question(request, progress, number + 1)
    result = progress.instrument.assess(progress.answers)
    _count_once(progress, result)
    return _finished(request, progress, result)


def _count_once(progress, result):
    """Count a completed self-check, once for its nonce. A cache that cannot
    note the nonce (Redis down) counts nothing rather than risk counting twice;
    a database that cannot take the count costs the count, never the page."""
    if not cache.add(f"selfcheck:counted:{progress.nonce}", True, VALID_FOR):
        return
    code = progress.instrument.code
    try:
        with transaction.atomic():
            SelfCheckCount.record(code, result.band.code)
            if result.crisis:
                SelfCheckCount.record(code, SelfCheckCount.CRISIS)
    except DatabaseError:
        logger.exception("Self-check not counted: the database did not take the count.")


def _finished(request, progress, result):
    """The crisis page when the crisis item was answered above 0 and the
    resident has not seen it yet; otherwise the result."""
    if result.crisis and not progress.crisis_shown:
        return _page(
            request,
            "counseling/selfcheck_crisis.html",
            progress,
            page_title=_("请先照顾好自己的安全"),
            state=replace(progress, crisis_shown=True).token(),
        )
    next_step = NextStep.BOOKING_AND_HOTLINE if result.crisis else result.band.next_step
    return _page(
        request,
        "counseling/selfcheck_result.html",
        progress,
        page_title=_("自评结果"),
        result=result,
        next_step=next_step,
        talks_url=_talks_url(request) if next_step in (NextStep.KEEP_WELL, NextStep.TALK) else "",
    )


def _question(request, progress, number, missing=False):
    instrument = progress.instrument
    count = len(instrument)
    return _page(
        request,
        "counseling/selfcheck_question.html",
        progress,
        status=400 if missing else 200,
        page_title=_("%(name)s 第 %(number)d 题,共 %(count)d 题")
        % {"name": instrument.name, "number": number, "count": count},
        number=number,
        count=count,
        previous=number - 1,
        last=number == count,
        stem=STEM,
        item=instrument.items[number - 1],
        answers=ANSWERS,
        chosen=progress.answers[number - 1] if number <= len(progress.answers) else None,
        errors=[("answer-0", NO_ANSWER)] if missing else [],
    )


def _page(request, template, progress, status=200, **context):
    context = {
        "instrument": progress.instrument,
        "form_action": reverse("counseling:selfcheck_questions", args=[progress.instrument.code]),
        "state": progress.token(),
        **context,
    }
    return render(request, template, context, status=status)


def _refused(request, message):
    return render(
        request,
        "counseling/selfcheck_refused.html",
        {"page_title": _("无法继续这次自评"), "message": message},
        status=400,
    )


def _talks_url(request):
    """The recorded talks' index page, if one is published. Found through the
    app registry: the booking module does not import the talks section."""
    index = apps.get_model("talks", "TalkIndexPage").objects.live().public().first()
    return index.get_url(request) if index else ""

"""心理自评: the two published screening questionnaires residents may fill in
on their own, PHQ-9 (depression) and GAD-7 (anxiety), and how they are scored.

Plain data and arithmetic, no database and no requests: the pages
(counseling.selfcheck_views) ask this module for the questions, hand it the
answers and show what it returns. The texts are the published Chinese versions,
word for word; the bands are the published cut-offs."""

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

# The stem both questionnaires share, and their four answers with their scores.
STEM = _("在过去两个星期里,您有多少时候受到以下任何问题困扰?")
ANSWERS = (
    (0, _("完全不会")),
    (1, _("好几天")),
    (2, _("一半以上的天数")),
    (3, _("几乎每天")),
)
ANSWER_VALUES = frozenset(value for value, _label in ANSWERS)


class BandCode(StrEnum):
    """The severity bands of both questionnaires, as stored in the counts."""

    MINIMAL = "minimal"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"
    SEVERE = "severe"


class NextStep(StrEnum):
    """What the result page suggests for a band."""

    KEEP_WELL = "keep_well"  # nothing to do now; the talks if the resident wants
    TALK = "talk"  # a recorded talk
    BOOKING = "booking"  # a session in a counselling room
    BOOKING_AND_HOTLINE = "booking_and_hotline"  # a session soon, and 12356 now


# Counted beside the bands (counseling.models.SelfCheckCount): a check sent to
# the crisis page by its crisis item.
CRISIS = "crisis"

BAND_LABELS = {
    BandCode.MINIMAL: _("没有或极轻微"),
    BandCode.MILD: _("轻度"),
    BandCode.MODERATE: _("中度"),
    BandCode.MODERATELY_SEVERE: _("中重度"),
    BandCode.SEVERE: _("重度"),
}
NEXT_STEPS = {
    BandCode.MINIMAL: NextStep.KEEP_WELL,
    BandCode.MILD: NextStep.TALK,
    BandCode.MODERATE: NextStep.BOOKING,
    BandCode.MODERATELY_SEVERE: NextStep.BOOKING_AND_HOTLINE,
    BandCode.SEVERE: NextStep.BOOKING_AND_HOTLINE,
}


@dataclass(frozen=True)
class Band:
    """A range of total scores, both ends included, and what it is called."""

    code: BandCode
    lowest: int
    highest: int

    @property
    def label(self):
        return BAND_LABELS[self.code]

    @property
    def next_step(self):
        return NEXT_STEPS[self.code]


class InvalidAnswers(ValueError):
    """Answers that cannot be a filled-in questionnaire: the wrong number of
    them, or a value that is not one of the four answers."""


@dataclass(frozen=True)
class Instrument:
    """One questionnaire: its items in order and its bands, lowest first.

    ``crisis_item`` is the number (from 1) of the item whose every answer above
    0 sends the resident to the crisis page before any score is shown."""

    code: str
    name: str
    about: str
    items: tuple
    bands: tuple
    crisis_item: int | None = None

    def __len__(self):
        return len(self.items)

    @property
    def highest_score(self):
        return 3 * len(self.items)

    def band_for(self, score):
        for band in self.bands:
            if band.lowest <= score <= band.highest:
                return band
        raise InvalidAnswers(f"{self.code}: no band holds a score of {score}")

    def assess(self, answers):
        """The result of a filled-in questionnaire: one answer (0–3) per item."""
        answers = tuple(answers)
        if len(answers) != len(self.items):
            raise InvalidAnswers(f"{self.code}: {len(answers)} answers for {len(self.items)} items")
        if any(type(value) is not int or value not in ANSWER_VALUES for value in answers):
            raise InvalidAnswers(f"{self.code}: an answer outside 0–3")
        score = sum(answers)
        crisis = self.crisis_item is not None and answers[self.crisis_item - 1] > 0
        return Result(self, answers, score, self.band_for(score), crisis)


@dataclass(frozen=True)
class Result:
    """A scored questionnaire. ``crisis``: the crisis item was answered above 0."""

    instrument: Instrument
    answers: tuple
    score: int
    band: Band
    crisis: bool


def _bands(*ranges):
    return tuple(Band(code, lowest, highest) for code, lowest, highest in ranges)


PHQ9 = Instrument(
    code="phq9",
    name=_("抑郁症筛查量表(PHQ-9)"),
    about=_("又叫“患者健康问卷”,了解最近两周的心情、兴趣和睡眠,共 9 题。"),
    items=(
        _("做事时提不起劲或没有兴趣"),
        _("感到心情低落、沮丧或绝望"),
        _("入睡困难、睡不安稳或睡眠过多"),
        _("感觉疲倦或没有活力"),
        _("食欲不振或吃太多"),
        _("觉得自己很糟,或觉得自己很失败,或让自己或家人失望"),
        _("对事物专注有困难,例如阅读报纸或看电视时"),
        _("动作或说话速度缓慢到别人已经觉察,或正好相反,烦躁或坐立不安、动来动去的情况更胜于平常"),
        _("有不如死掉或用某种方式伤害自己的念头"),
    ),
    bands=_bands(
        (BandCode.MINIMAL, 0, 4),
        (BandCode.MILD, 5, 9),
        (BandCode.MODERATE, 10, 14),
        (BandCode.MODERATELY_SEVERE, 15, 19),
        (BandCode.SEVERE, 20, 27),
    ),
    crisis_item=9,
)

GAD7 = Instrument(
    code="gad7",
    name=_("广泛性焦虑量表(GAD-7)"),
    about=_("了解最近两周的紧张、担忧和烦躁,共 7 题。"),
    items=(
        _("感觉紧张、焦虑或急切"),
        _("不能够停止或控制担忧"),
        _("对各种各样的事情担忧过多"),
        _("很难放松下来"),
        _("由于不安而无法静坐"),
        _("变得容易烦恼或急躁"),
        _("感到似乎将有可怕的事情发生而害怕"),
    ),
    bands=_bands(
        (BandCode.MINIMAL, 0, 4),
        (BandCode.MILD, 5, 9),
        (BandCode.MODERATE, 10, 14),
        (BandCode.SEVERE, 15, 21),
    ),
)

INSTRUMENTS = {instrument.code: instrument for instrument in (PHQ9, GAD7)}

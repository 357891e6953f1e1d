"""心理自评 (PHQ-9 and GAD-7): the scoring against the published bands, the
pages one question at a time, the crisis page for item 9, tampered input, and
what is stored: anonymous counts per questionnaire, band and Shanghai month,
nothing else."""

import datetime
import html
import re
import threading
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given, settings
from hypothesis import strategies as st

from counseling import selfcheck_views
from counseling.models import SelfCheckCount
from counseling.selfcheck import GAD7, INSTRUMENTS, PHQ9, BandCode, InvalidAnswers
from portal.talks.models import TalkIndexPage, TalkPage
from tests.strategies import PROPERTY_SETTINGS, has_chinese, nasty_text

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
START = "/counseling/ziping/"
STATE = re.compile(r'name="state" value="([^"]+)"')

PHQ9_BANDS = [
    (0, BandCode.MINIMAL),
    (4, BandCode.MINIMAL),
    (5, BandCode.MILD),
    (9, BandCode.MILD),
    (10, BandCode.MODERATE),
    (14, BandCode.MODERATE),
    (15, BandCode.MODERATELY_SEVERE),
    (19, BandCode.MODERATELY_SEVERE),
    (20, BandCode.SEVERE),
    (27, BandCode.SEVERE),
]
GAD7_BANDS = [
    (0, BandCode.MINIMAL),
    (4, BandCode.MINIMAL),
    (5, BandCode.MILD),
    (9, BandCode.MILD),
    (10, BandCode.MODERATE),
    (14, BandCode.MODERATE),
    (15, BandCode.SEVERE),
    (21, BandCode.SEVERE),
]
LABELS = {
    BandCode.MINIMAL: "没有或极轻微",
    BandCode.MILD: "轻度",
    BandCode.MODERATE: "中度",
    BandCode.MODERATELY_SEVERE: "中重度",
    BandCode.SEVERE: "重度",
}


@pytest.fixture(autouse=True)
def fresh_cache():
    """The nonces of counted self-checks live in the cache."""
    cache.clear()
    yield
    cache.clear()


def answers_for(instrument, score, crisis_answer=0):
    """Answers that add up to ``score``, the crisis item answered ``crisis_answer``
    and the rest filled from the first item on."""
    answers = [0] * len(instrument)
    crisis_index = instrument.crisis_item - 1 if instrument.crisis_item else None
    left = score
    if crisis_index is not None:
        answers[crisis_index] = crisis_answer
        left -= crisis_answer
    for index in range(len(answers)):
        if index == crisis_index:
            continue
        answers[index] = min(3, left)
        left -= answers[index]
    assert left == 0 and sum(answers) == score
    return answers


def questions_url(code):
    return reverse("counseling:selfcheck_questions", args=[code])


def state_of(response):
    return html.unescape(STATE.search(response.content.decode()).group(1))


def text_of(response):
    """The page's words, without tags."""
    return re.sub(r"<[^>]+>", "", response.content.decode())


def answer_all(client, code, answers):
    """Answer every question in turn, as the pages ask; the last response."""
    url = questions_url(code)
    response = client.get(url)
    for number, value in enumerate(answers, start=1):
        assert response.status_code == 200
        response = client.post(
            url, {"state": state_of(response), "question": number, "answer": value}
        )
    return response


def counts():
    return {
        (row.month, row.instrument, row.band): row.count for row in SelfCheckCount.objects.all()
    }


def this_month():
    return SelfCheckCount.month_of(timezone.now())


def table_rows():
    """Every table's row count."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            rows[table] = cursor.fetchone()[0]
    return rows


# --- Scoring ----------------------------------------------------------------


@pytest.mark.parametrize(("score", "band"), PHQ9_BANDS)
def test_phq9_scores_fall_in_the_published_bands(score, band):
    result = PHQ9.assess(answers_for(PHQ9, score, crisis_answer=3 if score > 24 else 0))
    assert (result.score, result.band.code, result.band.label) == (score, band, LABELS[band])


@pytest.mark.parametrize(("score", "band"), GAD7_BANDS)
def test_gad7_scores_fall_in_the_published_bands(score, band):
    result = GAD7.assess(answers_for(GAD7, score))
    assert (result.score, result.band.code, result.band.label) == (score, band, LABELS[band])
    assert result.crisis is False


def test_the_bands_cover_every_possible_score_once():
    for instrument in INSTRUMENTS.values():
        covered = [
            score for band in instrument.bands for score in range(band.lowest, band.highest + 1)
        ]
        assert covered == list(range(instrument.highest_score + 1))


def test_the_questionnaires_are_the_published_chinese_versions():
    assert len(PHQ9) == 9 and len(GAD7) == 7
    assert str(PHQ9.items[8]) == "有不如死掉或用某种方式伤害自己的念头"
    assert str(GAD7.items[6]) == "感到似乎将有可怕的事情发生而害怕"
    assert (PHQ9.highest_score, GAD7.highest_score) == (27, 21)


@pytest.mark.parametrize("crisis_answer", [1, 2, 3])
def test_any_answer_above_zero_to_phq9_item_9_is_a_crisis(crisis_answer):
    assert PHQ9.assess(answers_for(PHQ9, crisis_answer, crisis_answer)).crisis is True


def test_phq9_item_9_answered_zero_is_no_crisis_whatever_the_score():
    assert PHQ9.assess(answers_for(PHQ9, 24)).crisis is False


@pytest.mark.parametrize(
    "answers",
    [[0] * 8, [0] * 10, [0] * 8 + [4], [0] * 8 + [-1], [0] * 8 + ["1"], [0] * 8 + [True]],
)
def test_assessing_the_wrong_number_or_kind_of_answers_is_refused(answers):
    with pytest.raises(InvalidAnswers):
        PHQ9.assess(answers)


# --- Counts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "month"),
    [
        # 1 October 00:30 in Shanghai is still 30 September in UTC.
        (datetime.datetime(2026, 9, 30, 16, 30, tzinfo=UTC), datetime.date(2026, 10, 1)),
        (datetime.datetime(2026, 9, 30, 15, 59, tzinfo=UTC), datetime.date(2026, 9, 1)),
        (datetime.datetime(2026, 12, 31, 16, 0, tzinfo=UTC), datetime.date(2027, 1, 1)),
    ],
)
def test_counts_are_kept_by_the_shanghai_month(instant, month):
    SelfCheckCount.record("phq9", BandCode.MILD, instant)
    assert counts() == {(month, "phq9", "mild"): 1}


def test_counts_add_up_in_one_row_per_month_instrument_and_band():
    october = datetime.datetime(2026, 10, 5, 2, tzinfo=UTC)
    for _ in range(3):
        SelfCheckCount.record("gad7", BandCode.SEVERE, october)
    SelfCheckCount.record("gad7", BandCode.MILD, october)
    SelfCheckCount.record("phq9", SelfCheckCount.CRISIS, october)
    SelfCheckCount.record("phq9", BandCode.MILD, october - datetime.timedelta(days=30))
    assert SelfCheckCount.objects.per_month() == {
        datetime.date(2026, 10, 1): {
            "gad7": {"mild": 1, "severe": 3},
            "phq9": {"crisis": 1},
        },
        datetime.date(2026, 9, 1): {"phq9": {"mild": 1}},
    }


def test_a_self_check_finished_across_midnight_at_the_month_end_counts_in_the_new_month(
    client, monkeypatch
):
    started = client.get(questions_url("gad7"))
    monkeypatch.setattr(
        timezone, "now", lambda: datetime.datetime(2026, 10, 31, 16, 0, 5, tzinfo=UTC)
    )
    response = started
    for number in range(1, 8):
        response = client.post(
            questions_url("gad7"), {"state": state_of(response), "question": number, "answer": 1}
        )
    assert "自评结果" in text_of(response)
    assert counts() == {(datetime.date(2026, 11, 1), "gad7", "mild"): 1}


@pytest.mark.django_db(transaction=True)
def test_many_self_checks_finishing_at_once_are_all_counted_in_one_row():
    """Each thread on its own connection, released together: on PostgreSQL two
    of them meet at the unique constraint, on SQLite at the write lock."""
    contenders = 8
    barrier = threading.Barrier(contenders)
    errors = []

    def finish():
        try:
            barrier.wait()
            SelfCheckCount.record("phq9", BandCode.MODERATE)
        except Exception as error:  # noqa: BLE001 - every outcome is inspected below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=finish) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert counts() == {(this_month(), "phq9", "moderate"): contenders}


# --- The pages --------------------------------------------------------------


def test_the_landing_page_offers_both_questionnaires_and_may_be_cached(client):
    response = client.get(START)
    assert response.status_code == 200
    page = text_of(response)
    assert "抑郁症筛查量表(PHQ-9)" in page and "广泛性焦虑量表(GAD-7)" in page
    assert "自评结果不是诊断" in page
    for code in INSTRUMENTS:
        assert f'href="{questions_url(code)}"' in response.content.decode()
    assert not response.cookies
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_landing_page_comes_from_the_page_cache_and_a_question_never_does(
    home, new_client, settings
):
    """``home``: a site with its settings, as a running site has them."""
    settings.PAGE_CACHE_ENABLED = True
    first, second = new_client(), new_client()
    first.get(START)
    assert second.get(START)["X-Page-Cache"] == "hit"
    asked = [visitor.get(questions_url("phq9")) for visitor in (first, second)]
    assert all("X-Page-Cache" not in response for response in asked)
    assert all("no-store" in response["Cache-Control"] for response in asked)
    # Each visitor starts a self-check of their own.
    assert state_of(asked[0]) != state_of(asked[1])


def test_each_question_is_one_screen_with_its_progress_and_four_large_answers(client):
    response = client.get(questions_url("phq9"))
    page = response.content.decode()
    assert "第 1 题,共 9 题" in text_of(response)
    legend = re.search(r"<legend>(.*?)</legend>", page, re.S).group(1)
    assert "在过去两个星期里,您有多少时候受到以下任何问题困扰?" in legend
    assert "做事时提不起劲或没有兴趣" in legend
    radios = re.findall(r'<input type="radio" name="answer" id="(answer-\d)" value="(\d)"', page)
    assert radios == [("answer-0", "0"), ("answer-1", "1"), ("answer-2", "2"), ("answer-3", "3")]
    for label in ("完全不会", "好几天", "一半以上的天数", "几乎每天"):
        assert label in page
    assert "no-store" in response["Cache-Control"]

    second = client.post(
        questions_url("phq9"), {"state": state_of(response), "question": 1, "answer": 2}
    )
    assert "第 2 题,共 9 题" in text_of(second)
    assert "感到心情低落、沮丧或绝望" in text_of(second)
    assert 'name="show" value="1"' in second.content.decode()  # 返回上一题


def test_going_back_shows_the_earlier_answer_and_it_can_be_changed(client):
    url = questions_url("gad7")
    response = client.get(url)
    response = client.post(url, {"state": state_of(response), "question": 1, "answer": 2})
    response = client.post(url, {"state": state_of(response), "question": 2, "answer": 1})
    back = client.post(url, {"state": state_of(response), "show": "1"})
    assert "第 1 题,共 7 题" in text_of(back)
    assert re.search(r'value="2" checked', back.content.decode())
    changed = client.post(url, {"state": state_of(back), "question": 1, "answer": 0})
    # On to question 2, with its answer kept.
    assert "第 2 题,共 7 题" in text_of(changed)
    assert re.search(r'value="1" checked', changed.content.decode())
    response = changed
    for number in range(2, 8):
        response = client.post(url, {"state": state_of(response), "question": number, "answer": 1})
    assert "得分:6 分" in text_of(response)  # 0 + six times 1


def test_a_question_sent_without_an_answer_is_asked_again(client):
    response = client.get(questions_url("phq9"))
    again = client.post(questions_url("phq9"), {"state": state_of(response), "question": 1})
    assert again.status_code == 400
    assert 'class="error-summary" role="alert"' in again.content.decode()
    assert "请选择一个最符合您情况的答案" in text_of(again)
    assert "第 1 题,共 9 题" in text_of(again)
    assert not SelfCheckCount.objects.exists()


@pytest.mark.parametrize(("score", "band"), PHQ9_BANDS[1:-1])
def test_phq9_result_pages_show_the_score_and_band(client, score, band):
    response = answer_all(client, "phq9", answers_for(PHQ9, score))
    assert response.status_code == 200
    page = text_of(response)
    assert f"得分:{score} 分(满分 27 分)" in page
    assert f"属于:{LABELS[band]}" in page
    assert "自评结果不是诊断" in page
    assert counts() == {(this_month(), "phq9", band.value): 1}


@pytest.mark.parametrize(("score", "band"), GAD7_BANDS)
def test_gad7_result_pages_show_the_score_and_band(client, score, band):
    response = answer_all(client, "gad7", answers_for(GAD7, score))
    page = text_of(response)
    assert f"得分:{score} 分(满分 21 分)" in page
    assert f"属于:{LABELS[band]}" in page
    assert counts() == {(this_month(), "gad7", band.value): 1}


@pytest.fixture
def talk_index(home):
    return home.add_child(instance=TalkIndexPage(title="心理讲座", slug="talks"))


def test_a_mild_result_suggests_a_recorded_talk(client, talk_index):
    response = answer_all(client, "phq9", answers_for(PHQ9, 7))
    assert f'class="button button--calm button--wide" href="{talk_index.url}"' in (
        response.content.decode()
    )


def test_a_moderate_result_suggests_booking_a_session(client):
    response = answer_all(client, "gad7", answers_for(GAD7, 12))
    page = response.content.decode()
    assert f'class="button button--calm button--wide" href="{reverse("counseling:rooms")}"' in page
    assert 'class="notice notice--important selfcheck-hotline"' not in page


@pytest.mark.parametrize(("code", "score"), [("phq9", 17), ("phq9", 22), ("gad7", 18)])
def test_a_severe_result_gives_booking_and_the_hotline_first(client, code, score):
    response = answer_all(client, code, answers_for(INSTRUMENTS[code], score))
    page = response.content.decode()
    hotline = page.index('class="notice notice--important selfcheck-hotline"')
    assert 'href="tel:12356"' in page[hotline : hotline + 400]
    assert f'href="{reverse("counseling:rooms")}"' in page[hotline:]


@pytest.mark.parametrize("crisis_answer", [1, 2, 3])
def test_any_answer_above_zero_to_item_9_goes_to_the_crisis_page_before_any_score(
    client, crisis_answer
):
    answers = answers_for(PHQ9, 12, crisis_answer)
    response = answer_all(client, "phq9", answers)
    assert response.status_code == 200
    page = response.content.decode()
    for number in ("12356", "110", "120"):
        assert f'href="tel:{number}"' in page
    assert "得分" not in text_of(response) and "12 分" not in text_of(response)
    assert counts() == {
        (this_month(), "phq9", "moderate"): 1,
        (this_month(), "phq9", "crisis"): 1,
    }

    # The score is there for whoever asks for it after the crisis page.
    result = client.post(questions_url("phq9"), {"state": state_of(response), "show": "result"})
    assert "得分:12 分" in text_of(result)
    assert result.content.decode().index('href="tel:12356"') < result.content.decode().index(
        "selfcheck-score"
    )
    assert len(counts()) == 2 and set(counts().values()) == {1}


def test_item_9_answered_zero_goes_straight_to_the_result(client):
    response = answer_all(client, "phq9", [3, 3, 3, 3, 3, 3, 3, 0, 0])
    assert "得分:21 分" in text_of(response)
    assert counts() == {(this_month(), "phq9", "severe"): 1}


def test_the_result_cannot_be_asked_for_before_the_crisis_page_is_seen(client):
    url = questions_url("phq9")
    response = client.get(url)
    for number in range(1, 9):
        response = client.post(url, {"state": state_of(response), "question": number, "answer": 1})
    before_last = state_of(response)
    crisis = client.post(url, {"state": before_last, "question": 9, "answer": 1})
    assert "得分" not in text_of(crisis)
    # The token of question 9, answered, never skips the crisis page.
    complete = token_answering(before_last, "phq9", 9, 1)
    again = client.post(url, {"state": complete, "show": "result"})
    assert "得分" not in text_of(again) and 'href="tel:12356"' in again.content.decode()


def token_answering(token, code, number, value):
    """``token`` with question ``number`` answered ``value``, signed as the site signs."""
    progress = selfcheck_views.Progress.from_token(INSTRUMENTS[code], token)
    return progress.answered(number, value).token()


def test_reloading_the_result_does_not_count_it_again(client):
    url = questions_url("gad7")
    response = client.get(url)
    for number in range(1, 7):
        response = client.post(url, {"state": state_of(response), "question": number, "answer": 2})
    last = {"state": state_of(response), "question": 7, "answer": 2}
    first = client.post(url, last)
    reloaded = client.post(url, last)
    assert text_of(first) == text_of(reloaded)
    assert counts() == {(this_month(), "gad7", "moderate"): 1}
    # A self-check started afresh is another one.
    answer_all(client, "gad7", [2] * 7)
    assert counts() == {(this_month(), "gad7", "moderate"): 2}


def test_a_self_check_stores_nothing_but_its_count(home, client):
    before = table_rows()
    answer_all(client, "phq9", answers_for(PHQ9, 16, crisis_answer=2))
    after = table_rows()
    changed = {
        table: after[table] - before[table] for table in after if after[table] != before[table]
    }
    assert changed == {SelfCheckCount._meta.db_table: 2}  # its band, and the crisis routing
    assert django_settings.SESSION_COOKIE_NAME not in client.cookies


# --- Refusals ---------------------------------------------------------------


def tampered_submissions():
    """(description, form data) that no page of ours sends, for PHQ-9."""
    start = selfcheck_views.Progress.start(PHQ9)
    good = start.token()
    eight = start
    for number in range(1, 9):
        eight = eight.answered(number, 1)
    eight_token = eight.token()
    gad = selfcheck_views.Progress.start(GAD7).token()
    payload = {"i": "phq9", "a": "0" * 10, "n": "a" * 32, "c": False}
    return {
        "bad signature": {
            "state": good[:-1] + ("A" if good[-1] != "A" else "B"),
            "question": 1,
            "answer": 1,
        },
        "signed with another salt": {
            "state": signing.dumps(payload | {"a": ""}, salt="other"),
            "question": 1,
            "answer": 1,
        },
        "ten answers": {"state": signing.dumps(payload, salt=selfcheck_views.SALT), "show": "1"},
        "an answer of 4 in the token": {
            "state": signing.dumps(payload | {"a": "4"}, salt=selfcheck_views.SALT),
            "question": 2,
            "answer": 1,
        },
        "another questionnaire's token": {"state": gad, "question": 1, "answer": 1},
        "no token": {"question": 1, "answer": 1},
        "two tokens": {"state": [good, good], "question": 1, "answer": 1},
        "answer 4": {"state": eight_token, "question": 9, "answer": 4},
        "answer -1": {"state": eight_token, "question": 9, "answer": -1},
        "answer in full-width digits": {"state": eight_token, "question": 9, "answer": "１"},
        "two answers": {"state": eight_token, "question": 9, "answer": [0, 1]},
        "a question not reached": {"state": good, "question": 3, "answer": 1},
        "question 10": {"state": eight_token, "question": 10, "answer": 1},
        "question 0": {"state": good, "question": 0, "answer": 1},
        "no question": {"state": eight_token, "answer": 1},
        "the result of an unfinished check": {"state": eight_token, "show": "result"},
        "a step back past the answers": {"state": good, "show": "5"},
    }


@pytest.mark.parametrize("name", list(tampered_submissions()))
def test_tampered_submissions_get_a_400_page_in_chinese_and_store_nothing(home, client, name):
    data = tampered_submissions()[name]
    before = table_rows()
    response = client.post(questions_url("phq9"), data)
    assert response.status_code == 400
    assert "无法继续这次自评" in text_of(response)
    assert "请重新开始自评" in text_of(response)
    assert table_rows() == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_questionnaire_gets_a_400_page_in_chinese(client, method):
    response = getattr(client, method)(questions_url("bdi2"), {"state": "x", "answer": 1})
    assert response.status_code == 400
    assert "没有找到这份问卷" in text_of(response)
    assert not SelfCheckCount.objects.exists()


def test_a_token_left_for_more_than_a_day_has_expired(client, monkeypatch):
    response = client.get(questions_url("gad7"))
    token = state_of(response)
    later = datetime.datetime.now().timestamp() + selfcheck_views.VALID_FOR + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    expired = client.post(questions_url("gad7"), {"state": token, "question": 1, "answer": 0})
    assert expired.status_code == 400
    assert "已经超过一天" in text_of(expired)


# --- Links ------------------------------------------------------------------


def test_the_rooms_list_links_to_the_self_check(client):
    assert f'href="{START}"' in client.get(reverse("counseling:rooms")).content.decode()


def test_the_landing_page_is_in_the_sitemap_and_its_questions_are_not(client, home):
    sitemap = client.get("/sitemap.xml").content.decode()
    assert f"{START}</loc>" in sitemap
    assert "/ziping/phq9/" not in sitemap


def test_every_talk_page_links_to_the_self_check(client, talk_index):
    talk = talk_index.add_child(
        instance=TalkPage(
            title="睡眠与压力",
            slug="sleep",
            summary="睡眠与压力的内容简介。",
            recorded_on=datetime.date(2026, 5, 1),
        )
    )
    for page in (talk, talk_index):
        assert f'href="{START}"' in client.get(page.url).content.decode()


# --- Any input --------------------------------------------------------------

# Mostly the two questionnaires, sometimes a name no page links to.
instrument_codes = st.sampled_from(["phq9", "gad7"] * 4 + ["PHQ9", "phq-9", "bdi2", "心理", ".."])
form_values = nasty_text | st.integers(min_value=-3, max_value=12).map(str) | st.just("result")
# The answer to the next question as the page sends it ...
answering_next = st.fixed_dictionaries(
    {
        "state": st.just("current"),
        "question": st.just("next"),
        "answer": st.sampled_from(["0", "1", "2", "3"]),
        "show": st.just("missing"),
    }
)
# ... or anything at all in any field: symbolic values are filled in from the
# page last shown (submitted_form), "missing" leaves the field out.
arbitrary_submission = st.fixed_dictionaries(
    {
        "state": st.sampled_from(["current", "tampered", "missing", "twice"]) | nasty_text,
        "question": st.sampled_from(["next", "same", "missing"]) | form_values,
        "answer": st.sampled_from(["0", "1", "2", "3", "missing"])
        | form_values
        | st.lists(st.sampled_from(["0", "3"]), min_size=2, max_size=3),
        "show": st.just("missing") | form_values,
    }
)
submissions = answering_next | arbitrary_submission


def submitted_form(submission, token, answered):
    """Form data for a submission drawn by Hypothesis, the symbolic values
    filled in from the page last shown."""
    data = {}
    state = submission["state"]
    if state == "current":
        data["state"] = token
    elif state == "tampered":
        data["state"] = token[:-2] + "xx"
    elif state == "twice":
        data["state"] = [token, token]
    elif state != "missing":
        data["state"] = state
    question = submission["question"]
    if question == "next":
        data["question"] = str(answered + 1)
    elif question == "same":
        data["question"] = str(max(answered, 1))
    elif question != "missing":
        data["question"] = question
    if submission["answer"] != "missing":
        data["answer"] = submission["answer"]
    if submission["show"] != "missing":
        data["show"] = submission["show"]
    return data


def completes_a_check(data, token, instrument, answered):
    """Whether ``data`` is a well-formed last answer to a check our own page
    sent ``token`` for."""
    return (
        instrument is not None
        and data.get("state") == token
        and "show" not in data
        and answered >= len(instrument) - 1
        and data.get("question") == str(len(instrument))
        and data.get("answer") in ("0", "1", "2", "3")
    )


@settings(PROPERTY_SETTINGS, max_examples=500)
@given(
    code=instrument_codes,
    valid_answers=st.sampled_from([0, 1, 5, 9, 9, 9]),
    steps=st.lists(submissions, min_size=1, max_size=3),
)
def test_any_submission_is_answered_with_a_page_and_only_finished_checks_count(
    new_client, code, valid_answers, steps
):
    SelfCheckCount.objects.all().delete()
    cache.clear()
    client = new_client()
    url = f"{START}{quote(code, safe='')}/"
    instrument = INSTRUMENTS.get(code)
    response = client.get(url)
    assert response.status_code == (200 if instrument else 400)
    token = state_of(response) if instrument else "none"
    answered, counted = 0, False
    for number in range(1, min(valid_answers, len(instrument) - 1 if instrument else 0) + 1):
        response = client.post(url, {"state": token, "question": number, "answer": number % 4})
        token, answered = state_of(response), number
    for submission in steps:
        data = submitted_form(submission, token, answered)
        completing = completes_a_check(data, token, instrument, answered)
        total_before = sum(counts().values())
        response = client.post(url, data)
        assert response.status_code in (200, 302, 400), response.status_code
        assert has_chinese(response.content.decode())
        added = sum(counts().values()) - total_before
        if completing and not counted:
            assert response.status_code == 200
            assert added in (1, 2)  # the band, and for item 9 the crisis routing
            counted = True
            event("a finished self-check counted")
        else:
            assert added == 0
        if response.status_code == 200 and STATE.search(response.content.decode()):
            token = state_of(response)
            answered = len(selfcheck_views.Progress.from_token(instrument, token).answers)

"""The resident's request pages (/suqiu/) take generated input: arbitrary
Unicode with control characters and NULs, huge strings, full-width digits,
SQL and HTML fragments, missing fields and repeated keys. Whatever arrives,
the answer is a page (never a server error); a refusal says in Chinese what is
wrong; a lookup finds the request only for its own reference and mobile; and
a rating changes the request only when it is one of the three ratings."""

import itertools
import unicodedata

import pytest
from django.core.cache import cache
from hypothesis import given

from portal.core.models import AttemptCount
from portal.core.privacy import normalise_mobile
from portal.service_requests import handling
from portal.service_requests.models import RequestEvent, ServiceRequest
from portal.service_requests.views import SESSION_KEY
from tests.factories import make_organisation
from tests.strategies import PROPERTY_SETTINGS, has_chinese, param_values

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
MARKUP = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@pytest.fixture(autouse=True)
def no_attempt_limits():
    """The attempt limits would turn later examples into "too many tries"; they
    have tests of their own. Counts are cleared before each example instead."""
    AttemptCount.objects.all().delete()
    cache.clear()


@pytest.fixture
def replied(db):
    org = make_organisation()
    request, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="楼上深夜装修",
        address="石岭路 8 号",
        mobile=MOBILE,
    )
    request = handling.accept(request, org.shiling_handler)
    return handling.reply(request, org.shiling_handler, "已约谈业主")


def assert_refused_in_chinese(response, status=400):
    assert response.status_code == status, response.status_code
    html = response.content.decode()
    assert 'class="error-summary" role="alert"' in html
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert has_chinese(summary.replace("请修改以下问题", ""))
    for markup in MARKUP:
        assert markup not in html


def last(value):
    """The value a form reads from a repeated key."""
    return value[-1] if isinstance(value, list) else value


def digits(text):
    return "".join(ch for ch in unicodedata.normalize("NFKC", text or "") if ch.isdigit())


VALID_MOBILES = [MOBILE, "+86 139 1234 5678", "１３９１２３４５６７８"]


@PROPERTY_SETTINGS
@given(
    reference=param_values(["{reference}", "{spaced}", "1234 5678", "１２３４５６７８"]),
    mobile=param_values([*VALID_MOBILES, "13700000000"]),
)
def test_a_lookup_finds_the_request_only_for_its_own_code_and_mobile(
    new_client, replied, reference, mobile
):
    AttemptCount.objects.all().delete()
    fill = {"{reference}": replied.reference, "{spaced}": replied.reference_display}

    def real(value):
        if isinstance(value, list):
            return [fill.get(item, item) for item in value]
        return fill.get(value, value)

    data = {
        key: real(value)
        for key, value in (("reference", reference), ("mobile", mobile))
        if value is not None
    }
    client = new_client()
    response = client.post("/suqiu/chaxun/", data)
    typed_reference, typed_mobile = last(data.get("reference")), last(data.get("mobile"))
    if response.status_code == 302:
        assert response["Location"] == "/suqiu/jindu/"
        assert digits(typed_reference) == replied.reference
        assert normalise_mobile(typed_mobile) == MOBILE
        assert replied.reference_display in client.get("/suqiu/jindu/").content.decode()
    else:
        assert response.status_code in (400, 404)
        assert_refused_in_chinese(response, status=response.status_code)
        assert SESSION_KEY not in client.session
        # The right pair, as people type it, is always found.
        assert not (typed_reference in fill.values() and typed_mobile in VALID_MOBILES)
    assert ServiceRequest.objects.get(pk=replied.pk).state == ServiceRequest.State.REPLIED


COMMENTS = ["", "谢谢", "还是很吵"]
examples = itertools.count()


def answered(org):
    request, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description=f"第 {next(examples)} 次反映",
        address="石岭路 8 号",
        mobile=MOBILE,
    )
    request = handling.accept(request, org.shiling_handler)
    return handling.reply(request, org.shiling_handler, "已约谈业主")


@pytest.fixture
def org(db):
    return make_organisation()


@PROPERTY_SETTINGS
@given(
    rating=param_values(ServiceRequest.Rating.values),
    comment=param_values(COMMENTS),
    website=param_values(["", "http://spam.example"]),
)
def test_a_rating_changes_the_request_only_when_it_is_a_rating(
    new_client, org, rating, comment, website
):
    AttemptCount.objects.all().delete()
    request = answered(org)
    client = new_client()
    client.post("/suqiu/chaxun/", {"reference": request.reference, "mobile": MOBILE})
    data = {
        key: value
        for key, value in (("rating", rating), ("comment", comment), ("website", website))
        if value is not None
    }
    response = client.post("/suqiu/jindu/", data)
    stored = ServiceRequest.objects.get(pk=request.pk)
    rated = RequestEvent.objects.filter(request=stored, kind=RequestEvent.Kind.RATED)
    chosen = last(data.get("rating"))
    said, trap = last(data.get("comment")), last(data.get("website"))
    if response.status_code == 302:
        if stored.rating:
            assert stored.rating == chosen and rated.count() == 1
            assert stored.rating_comment == (said or "").strip()
            assert not (trap or "").strip()
        else:  # a robot filled the hidden field: thanked, nothing kept
            assert (trap or "").strip() and stored.state == ServiceRequest.State.REPLIED
    else:
        assert_refused_in_chinese(response, status=400)
        assert (stored.state, stored.rating, rated.count()) == (
            ServiceRequest.State.REPLIED,
            "",
            0,
        )
        # A rating with one of the offered comments, from a person, always counts.
        assert not (
            chosen in ServiceRequest.Rating.values
            and said in (None, *COMMENTS)
            and trap in (None, "")
        )

"""我要反映 takes generated input in every field: arbitrary Unicode with control
characters and NULs, huge strings, full-width digits, markup, ids that do not
exist, repeated keys, and files that are not photos. Whatever arrives, the
answer is a page (never a server error); a refusal says in Chinese what is
wrong and stores nothing; and what is accepted becomes exactly one request,
with what was typed, once the SMS code is entered."""

import io
import itertools

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import event, given
from hypothesis import strategies as st
from PIL import Image

from portal.core.models import AttemptCount
from portal.core.privacy import normalise_mobile
from portal.core.sms import MemoryBackend
from portal.service_requests.models import ReportPage, RequestPhoto, ServiceRequest, Unit
from tests.factories import make_organisation, sms_code
from tests.portal.test_request_public_properties import assert_refused_in_chinese, last
from tests.strategies import PROPERTY_SETTINGS, param_values

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
DESCRIPTION = "楼上每天夜里十一点以后还在装修,电钻声很大。"


@pytest.fixture
def page(home):
    org = make_organisation()
    page = home.add_child(instance=ReportPage(title="我要反映", slug="fanying"))
    page.org = org
    return page


def small_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


files = st.one_of(
    st.none(),
    st.just([("photo.jpg", small_jpeg())]),
    st.lists(
        st.one_of(st.binary(max_size=300), st.just(b"")).map(lambda data: ("x.jpg", data))
        | st.just(("photo.jpg", small_jpeg())),
        max_size=4,
    ),
)


VALID = {
    "category": ["{category}"],
    "place": ["{district}", "{community}"],
    "address": ["石岭路 8 号 3 号楼", "  海尔路 61 号\n"],
    "description": [DESCRIPTION, "小区东门的路灯坏了一个多月,晚上很黑。"],
    "name": ["", "王阿姨"],
    "mobile": [MOBILE, "+86 139 1234 5678", "１３９１２３４５６７８"],
    "email": ["", "wang@example.com"],
    "publish_consent": ["on", ""],
    "website": [""],
}
# What any field may hold instead: generated junk, nothing, the key repeated,
# a 网格 (not offered), or the trap filled in.
JUNK = param_values(["{grid}", "http://spam.example"])
forms = st.fixed_dictionaries({key: st.sampled_from(values) for key, values in VALID.items()})
changes = st.dictionaries(st.sampled_from(sorted(VALID)), JUNK, max_size=3)


examples = itertools.count()


@PROPERTY_SETTINGS
@given(form=forms, changed=changes, photos=files)
def test_any_report_is_a_page_a_refusal_stores_nothing_and_a_valid_one_makes_one_request(
    new_client, page, form, changed, photos
):
    AttemptCount.objects.all().delete()
    cache.clear()
    MemoryBackend.outbox.clear()
    org = page.org
    fill = {
        "{category}": str(org.noise.pk),
        "{district}": str(org.first.pk),
        "{community}": str(org.shiling.pk),
        "{grid}": str(org.grid.pk),  # a grid is not offered: refused
    }

    def real(value):
        if isinstance(value, list):
            return [fill.get(item, item) for item in value]
        return fill.get(value, value)

    # Each example its own report, so only a repeat within one example is a duplicate.
    form["description"] = f"{form['description']}(第 {next(examples)} 次)"
    fields = {**form, **changed}
    data = {key: real(value) for key, value in fields.items() if value is not None}
    if photos is not None:
        data["photos"] = [SimpleUploadedFile(n, content, "image/jpeg") for n, content in photos]
    requests_before = ServiceRequest.objects.count()
    photos_before = RequestPhoto.objects.count()
    client = new_client()
    response = client.post(page.url, data)
    if response.status_code == 400:
        event("refused")
        assert_refused_in_chinese(response)
        assert ServiceRequest.objects.count() == requests_before
        assert RequestPhoto.objects.count() == photos_before
        assert not MemoryBackend.outbox
        return
    assert response.status_code == 302, response.status_code
    if response["Location"] == page.url:  # the trap was filled: nothing kept
        event("trap")
        assert last(data.get("website"))
        assert RequestPhoto.objects.count() == photos_before
        return
    assert response["Location"].endswith("/yanzheng/")
    assert ServiceRequest.objects.count() == requests_before
    typed_mobile = normalise_mobile(last(data["mobile"]))
    done = client.post(response["Location"], {"code": sms_code(typed_mobile)})
    assert done.status_code == 302 and done["Location"].endswith("/wancheng/")
    made = ServiceRequest.objects.order_by("-pk").first()
    if ServiceRequest.objects.count() == requests_before:  # the same report again: the first one
        event("same report again")
        assert "只记录一次" in client.get(done["Location"]).content.decode()
        return
    assert ServiceRequest.objects.count() == requests_before + 1
    event("made a request")
    assert made.mobile == typed_mobile
    assert made.category == org.noise
    # The place typed, or any other 管区 or 社区 a generated number happened to
    # name; never a grid, which the form does not offer.
    assert made.place.depth in (Unit.Level.DISTRICT, Unit.Level.COMMUNITY)
    assert made.description == last(data["description"]).strip()
    assert made.address == " ".join(last(data["address"]).split())
    assert (made.publish_consent_at is not None) == bool(last(data.get("publish_consent")))
    assert made.photos.count() == len([1 for _n, content in photos or [] if content])
    assert made.reference_display in client.get(done["Location"]).content.decode()

"""The Open311 GeoReport v2 API (portal/service_requests/open311.py): discovery,
services and their definition, the published answers as closed requests, and
partners posting residents' requests with a key; errors in the spec's format,
nothing the resident wrote in any answer, and an independent client (georeport,
civicbot) talking to a live server."""

import datetime
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from portal.core.privacy import mobile_digest
from portal.core.sms import MemoryBackend
from portal.service_requests import handling, open311, views
from portal.service_requests.forms import PlaceField
from portal.service_requests.models import (
    AnswersPage,
    ApiPartner,
    Category,
    PublishedAnswer,
    ServiceRequest,
)
from tests.factories import log_in_verified, make_organisation, page_tree
from tests.outages import lock_wait, writes_held

pytestmark = pytest.mark.django_db

API = "/open311/v2"
NAME = "王阿姨"
MOBILE = "13912345678"
EMAIL = "wang.ayi@example.com"
ADDRESS = "石岭路 8 号 3 号楼"
DESCRIPTION = "楼上每天夜里十一点以后还在装修,电钻声很大,老人睡不着。"
# The reply the resident got names them and their door; the published one does not.
PRIVATE_REPLY = "王阿姨您好,已约谈石岭路 8 号 3 号楼 502 的业主,夜间不再施工。"
SUMMARY = "居民反映楼上夜间装修噪音扰民。"
PUBLIC_REPLY = "社区已约谈业主,夜间不再施工,并将回访。"
Rating = ServiceRequest.Rating

# What the spec lists for each kind of record.
DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "media_url",
}
POSTED_FIELDS = {"service_request_id", "service_notice", "account_id"}
ERROR_FIELDS = {"code", "description"}


@pytest.fixture
def org(home):
    """The organisation, and 回应公开 published: what the API lists is what
    that page shows."""
    home.add_child(instance=AnswersPage(title="回应公开", slug="huiying"))
    org = make_organisation()
    org.sanitation = Category.objects.create(
        name="环境卫生", code="sanitation", description="垃圾堆放、污水外溢", sort_order=2
    )
    return org


@pytest.fixture
def partner(db):
    return ApiPartner.issue("12345 平台")


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


def closed_request(org, *, received=None, consent=True, category=None, place=None, text=""):
    """A request the resident rated satisfied, so it is closed."""
    received = received or days_ago(3)
    request, _created = handling.receive(
        category=category or org.noise,
        place=place or org.shiling,
        description=text or DESCRIPTION,
        address=ADDRESS,
        mobile=MOBILE,
        name=NAME,
        email=EMAIL,
        publish_consent=consent,
        now=received,
    )
    hour = datetime.timedelta(hours=1)
    request = handling.accept(request, org.supervisor, now=received + hour)
    request = handling.reply(request, org.supervisor, PRIVATE_REPLY, now=received + 2 * hour)
    return handling.rate(request, Rating.SATISFIED, now=received + 3 * hour)


def published(org, **options):
    request = closed_request(org, **options)
    handling.publish(request, org.supervisor, SUMMARY, PUBLIC_REPLY)
    return PublishedAnswer.objects.get(request=request)


def get_json(client, path, **params):
    response = client.get(f"{API}/{path}.json", params)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response, json.loads(response.content)


def get_xml(client, path, **params):
    response = client.get(f"{API}/{path}.xml", params)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return response, ET.fromstring(response.content)


def fields(element):
    return {child.tag: child.text or "" for child in element}


def xml_items(root, tag, item, required):
    """The records under `root`, each checked to carry every field the spec lists."""
    assert root.tag == tag
    records = [fields(element) for element in root.findall(item)]
    for record in records:
        assert required <= record.keys(), required - record.keys()
    return records


def ids(records):
    return [record["service_request_id"] for record in records]


def assert_nothing_private(content, *requests):
    text = content.decode() if isinstance(content, bytes) else content
    for secret in (NAME, MOBILE, EMAIL, ADDRESS, DESCRIPTION, "石岭路 8 号", "502 的业主"):
        assert secret not in text
    for request in requests:
        assert request.reference not in text and request.reference_display not in text


# Discovery and services.


def test_discovery_names_the_v2_endpoint_and_its_formats_in_json_and_xml(client, org):
    _response, data = get_json(client, "discovery")
    assert data.keys() >= DISCOVERY_FIELDS
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert "金家岭街道" in data["contact"] and "密钥" in data["key_service"]
    _response, root = get_xml(client, "discovery")
    assert root.tag == "discovery" and fields(root).keys() >= DISCOVERY_FIELDS
    (endpoint,) = root.find("endpoints").findall("endpoint")
    assert fields(endpoint).keys() >= ENDPOINT_FIELDS
    formats = [format.text for format in endpoint.find("formats").findall("format")]
    assert formats == ["text/xml", "application/json"]


def test_services_are_the_active_categories_in_json_and_xml(client, org):
    Category.objects.create(name="旧类别", code="retired", is_active=False)
    _response, services = get_json(client, "services")
    assert [service["service_code"] for service in services] == ["noise", "sanitation"]
    sanitation = services[1]
    assert sanitation == {
        "service_code": "sanitation",
        "service_name": "环境卫生",
        "description": "垃圾堆放、污水外溢",
        "metadata": True,
        "type": "realtime",
        "keywords": "垃圾堆放, 污水外溢",
        "group": "居民诉求",
    }
    _response, root = get_xml(client, "services")
    records = xml_items(root, "services", "service", SERVICE_FIELDS)
    assert [record["service_code"] for record in records] == ["noise", "sanitation"]
    assert records[0]["metadata"] == "true" and records[0]["type"] == "realtime"


def test_a_service_definition_offers_the_web_forms_places_and_the_consent(client, org):
    _response, definition = get_json(client, "services/noise")
    assert definition["service_code"] == "noise"
    place, consent = definition["attributes"]
    assert place.keys() >= ATTRIBUTE_FIELDS and consent.keys() >= ATTRIBUTE_FIELDS
    assert (place["code"], place["datatype"], place["required"], place["order"]) == (
        "place",
        "singlevaluelist",
        True,
        1,
    )
    assert place["values"] == [
        {"key": str(org.first.pk), "name": "第一管区(不清楚属于哪个社区)"},
        {"key": str(org.shiling.pk), "name": "第一管区 › 石岭路社区"},
        {"key": str(org.second.pk), "name": "第二管区(不清楚属于哪个社区)"},
        {"key": str(org.haian.pk), "name": "第二管区 › 海岸社区"},
    ]
    web_form = PlaceField()
    web_form.load()
    assert {value["key"] for value in place["values"]} == {str(pk) for pk in web_form.units}
    assert (consent["code"], consent["required"]) == ("publish_consent", False)
    assert [value["key"] for value in consent["values"]] == ["yes", "no"]
    _response, root = get_xml(client, "services/noise")
    assert root.tag == "service_definition" and root.findtext("service_code") == "noise"
    attributes = xml_items(root.find("attributes"), "attributes", "attribute", ATTRIBUTE_FIELDS)
    assert [attribute["required"] for attribute in attributes] == ["true", "false"]
    keys = [value.findtext("key") for value in root.find("attributes/attribute/values")]
    assert keys == [value["key"] for value in place["values"]]


@pytest.mark.parametrize("code", ["no-such-service", "retired"])
def test_an_unknown_or_retired_service_is_a_404_in_the_spec_error_format(client, org, code):
    Category.objects.create(name="旧类别", code="retired", is_active=False)
    response, data = get_json(client, f"services/{code}")
    assert response.status_code == 404
    assert data == [
        {"code": 404, "description": f"没有代码为“{code}”的服务。服务列表见 services.xml。"}
    ]
    response, root = get_xml(client, f"services/{code}")
    assert response.status_code == 404
    (error,) = xml_items(root, "errors", "error", ERROR_FIELDS)
    assert error["code"] == "404" and code in error["description"]


# The published answers.


def test_published_answers_are_closed_requests_newest_first_with_only_public_fields(client, org):
    older = published(org, received=days_ago(10), text="第一件事:" + DESCRIPTION)
    newer = published(org, received=days_ago(2), place=org.first, category=org.sanitation)
    _response, records = get_json(client, "requests")
    assert ids(records) == [str(newer.pk), str(older.pk)]
    record = records[1]
    assert set(record) == REQUEST_FIELDS  # no lat or long: a 社区 is not a point
    request = older.request
    assert record == {
        "service_request_id": str(older.pk),
        "status": "closed",
        "status_notes": PUBLIC_REPLY,
        "service_name": "噪音扰民",
        "service_code": "noise",
        "description": SUMMARY,
        "agency_responsible": "金家岭街道第一管区",
        "service_notice": "",
        # Days only, as 回应公开 shows them: the minute would help tell who.
        "requested_datetime": f"{timezone.localdate(request.received_at)}T00:00:00+08:00",
        "updated_datetime": f"{timezone.localdate(request.closed_at)}T00:00:00+08:00",
        "expected_datetime": "",
        "address": "第一管区 › 石岭路社区",
        "address_id": "",
        "zipcode": "",
        "media_url": "",
    }
    assert record["requested_datetime"].endswith("+08:00")
    assert records[0]["address"] == "第一管区" and records[0]["service_code"] == "sanitation"
    _response, root = get_xml(client, "requests")
    assert xml_items(root, "service_requests", "request", REQUEST_FIELDS) == records


def test_a_summary_left_empty_is_an_empty_description(client, org):
    request = closed_request(org)
    handling.publish(request, org.supervisor, "", PUBLIC_REPLY)
    _response, (record,) = get_json(client, "requests")
    assert record["description"] == ""


def test_a_control_character_pasted_into_a_reply_still_makes_valid_xml(client, org):
    handling.publish(closed_request(org), org.supervisor, SUMMARY, "已约谈业主\x0b,夜间不再施工。")
    _response, root = get_xml(client, "requests")
    assert root.find("request").findtext("status_notes") == "已约谈业主,夜间不再施工。"


def test_unpublished_and_open_requests_are_not_listed(client, org):
    shown = published(org)
    closed_request(org, text="另一件事:" + DESCRIPTION)  # consented, closed, never published
    closed_request(org, consent=False, text="第三件事:" + DESCRIPTION)
    handling.receive(
        category=org.noise,
        place=org.shiling,
        description="第四件事:" + DESCRIPTION,
        address=ADDRESS,
        mobile=MOBILE,
        publish_consent=True,
    )
    _response, records = get_json(client, "requests")
    assert ids(records) == [str(shown.pk)]
    handling.unpublish(shown.request, org.supervisor, "居民要求撤下。")
    _response, records = get_json(client, "requests")
    assert records == []


def test_nothing_the_resident_wrote_appears_in_any_answer(client, org, partner):
    answer = published(org)
    partner_request = post(client, partner[1], org).json()[0]["service_request_id"]
    made = ServiceRequest.objects.get(reference=partner_request)
    responses = [client.get(f"{API}/requests.{fmt}") for fmt in ("json", "xml")] + [
        client.get(f"{API}/requests/{answer.pk}.{fmt}") for fmt in ("json", "xml")
    ]
    for response in responses:
        assert response.status_code == 200
        assert_nothing_private(response.content, answer.request)
    mine = client.get(f"{API}/requests/{made.reference}.json", {"api_key": partner[1]})
    assert mine.status_code == 200
    assert_nothing_private(mine.content)


def test_requests_filter_by_service_code(client, org):
    noise = published(org)
    sanitation = published(org, category=org.sanitation)
    _response, records = get_json(client, "requests", service_code="sanitation")
    assert ids(records) == [str(sanitation.pk)]
    _response, records = get_json(client, "requests", service_code="sanitation,noise")
    assert set(ids(records)) == {str(noise.pk), str(sanitation.pk)}
    _response, records = get_json(client, "requests", service_code="unknown")
    assert records == []


def test_requests_filter_by_status_and_refuse_an_unknown_one(client, org):
    answer = published(org)
    _response, records = get_json(client, "requests", status="closed")
    assert ids(records) == [str(answer.pk)]
    _response, records = get_json(client, "requests", status="open")
    assert records == []
    _response, records = get_json(client, "requests", status="open,closed")
    assert ids(records) == [str(answer.pk)]
    response, errors = get_json(client, "requests", status="pending")
    assert response.status_code == 400
    assert errors == [{"code": 400, "description": "status 只能是 open 或 closed。"}]


def test_requests_are_from_the_last_90_days_unless_dates_say_otherwise(client, org):
    recent = published(org, received=days_ago(5))
    old = published(org, received=days_ago(120), text="旧事:" + DESCRIPTION)
    _response, records = get_json(client, "requests")
    assert ids(records) == [str(recent.pk)]
    start = timezone.localtime(days_ago(150)).isoformat("T", "seconds")
    end = timezone.localtime(days_ago(100)).isoformat("T", "seconds")
    _response, records = get_json(client, "requests", start_date=start, end_date=end)
    assert ids(records) == [str(old.pk)]
    _response, records = get_json(client, "requests", start_date=start)
    assert ids(records) == [str(old.pk)]  # 90 days from the start
    _response, records = get_json(client, "requests", end_date=end)
    assert ids(records) == [str(old.pk)]  # 90 days up to the end


def test_dates_are_iso_8601_in_any_offset_a_plain_date_or_a_plus_sent_unencoded(client, org):
    answer = published(org, received=days_ago(5))
    received = answer.request.received_at
    before = received - datetime.timedelta(minutes=1)
    after = received + datetime.timedelta(minutes=1)
    for start, end in [
        (before.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), None),
        (timezone.localtime(before).isoformat("T", "seconds").replace("+", " "), None),
        (timezone.localtime(received).date().isoformat(), None),
        (None, timezone.localtime(after).isoformat("T", "seconds")),
    ]:
        query = {name: value for name, value in [("start_date", start), ("end_date", end)] if value}
        _response, records = get_json(client, "requests", **query)
        assert ids(records) == [str(answer.pk)], query
    _response, records = get_json(
        client, "requests", start_date=timezone.localtime(after).isoformat("T", "seconds")
    )
    assert records == []


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ({"start_date": "2026-13-40"}, "start_date 的格式不对"),
        ({"end_date": "yesterday"}, "end_date 的格式不对"),
        (
            {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"},
            "相隔不能超过 90 天",
        ),
        (
            {"start_date": "2026-06-01T00:00:00+08:00", "end_date": "2026-05-01T00:00:00+08:00"},
            "end_date 不能早于 start_date",
        ),
        ({"service_request_id": "12,abc"}, "service_request_id 应是用逗号分隔的数字编号"),
        # Digits Python's isdigit() takes but int() does not, and past any id.
        ({"service_request_id": "²"}, "service_request_id 应是用逗号分隔的数字编号"),
        ({"service_request_id": "9" * 30}, "service_request_id 应是用逗号分隔的数字编号"),
        # Times no UTC conversion or 90-day window can reach.
        ({"end_date": "0001-01-02"}, "end_date 的格式不对"),
        ({"start_date": "9999-12-30"}, "start_date 的格式不对"),
    ],
)
def test_a_bad_filter_is_a_400_saying_which(client, org, query, description):
    response, errors = get_json(client, "requests", **query)
    assert response.status_code == 400
    (error,) = errors
    assert error["code"] == 400 and description in error["description"]
    response, root = get_xml(client, "requests", **query)
    assert response.status_code == 400
    assert description in xml_items(root, "errors", "error", ERROR_FIELDS)[0]["description"]


def test_service_request_ids_override_the_other_filters(client, org):
    old = published(org, received=days_ago(200), text="很早的事:" + DESCRIPTION)
    recent = published(org)
    unpublished = closed_request(org, text="没公开的事:" + DESCRIPTION)
    asked = f"{old.pk},{recent.pk},{unpublished.pk + 1000}"
    _response, records = get_json(
        client, "requests", service_request_id=asked, service_code="sanitation", status="open"
    )
    assert ids(records) == [str(recent.pk), str(old.pk)]


def test_a_list_stops_at_the_limit(client, org, monkeypatch):
    monkeypatch.setattr(open311, "MAX_REQUESTS", 2)
    answers = [
        published(org, received=days_ago(n + 1), text=f"第{n}件:" + DESCRIPTION) for n in range(3)
    ]
    _response, records = get_json(client, "requests")
    assert ids(records) == [str(answers[0].pk), str(answers[1].pk)]


def test_one_published_request_is_a_list_of_one(client, org):
    answer = published(org)
    _response, records = get_json(client, f"requests/{answer.pk}")
    assert ids(records) == [str(answer.pk)]
    _response, root = get_xml(client, f"requests/{answer.pk}")
    (record,) = xml_items(root, "service_requests", "request", REQUEST_FIELDS)
    assert record["service_request_id"] == str(answer.pk) and record["status"] == "closed"


def test_an_unpublished_or_unknown_request_is_a_404(client, org):
    answer = published(org)
    unpublished = closed_request(org, text="没公开的事:" + DESCRIPTION)
    for missing in (answer.pk + 1, unpublished.reference, "abc"):
        response, errors = get_json(client, f"requests/{missing}")
        assert response.status_code == 404
        assert errors == [{"code": 404, "description": f"没有编号为 {missing} 的公开诉求。"}]
    response, root = get_xml(client, f"requests/{answer.pk + 1}")
    assert response.status_code == 404
    assert xml_items(root, "errors", "error", ERROR_FIELDS)[0]["code"] == "404"


# Partners posting requests.


def post_data(org, **changes):
    data = {
        "service_code": "noise",
        "attribute[place]": str(org.shiling.pk),
        "attribute[publish_consent]": "yes",
        "address_string": ADDRESS,
        "description": DESCRIPTION,
        "phone": MOBILE,
        "first_name": "阿姨",
        "last_name": "王",
        "email": EMAIL,
    }
    return {name: value for name, value in {**data, **changes}.items() if value is not None}


def post(client, key, org, fmt="json", **changes):
    data = post_data(org, **changes)
    if key is not None:
        data["api_key"] = key
    return client.post(f"{API}/requests.{fmt}", data)


def test_a_partner_posts_a_request_and_the_resident_gets_the_receipt(
    client, org, partner, django_capture_on_commit_callbacks
):
    platform, key = partner
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, key, org)
    assert response.status_code == 200
    (answer,) = response.json()
    assert set(answer) == POSTED_FIELDS and answer["account_id"] == ""
    made = ServiceRequest.objects.get()
    assert answer["service_request_id"] == made.reference
    assert made.reference_display in answer["service_notice"]
    assert (made.category, made.place, made.unit, made.partner) == (
        org.noise,
        org.shiling,
        org.shiling,
        platform,
    )
    assert (made.name, made.mobile, made.email) == (NAME, MOBILE, EMAIL)
    assert (made.address, made.description) == (ADDRESS, DESCRIPTION)
    assert made.publish_consent_at is not None
    texts = [text for to, text in MemoryBackend.outbox if to == MOBILE]
    assert len(texts) == 1 and made.reference_display in texts[0]
    platform.refresh_from_db()
    assert platform.last_used_at is not None


def test_staff_see_which_platform_posted_a_request(admin_client, org, partner):
    post(Client(), partner[1], org)
    made = ServiceRequest.objects.get()
    page = admin_client.get(f"/admin/service_requests/requests/{made.pk}/").content.decode()
    assert "提交平台" in page and "12345 平台" in page


def test_a_posted_request_answers_in_xml_too(client, org, partner):
    response = post(client, partner[1], org, fmt="xml")
    assert response.status_code == 200
    (record,) = xml_items(
        ET.fromstring(response.content), "service_requests", "request", POSTED_FIELDS
    )
    assert record["service_request_id"] == ServiceRequest.objects.get().reference


@pytest.mark.parametrize("consent", ["no", "", None])
def test_consent_is_given_only_by_yes(client, org, partner, consent):
    post(client, partner[1], org, **{"attribute[publish_consent]": consent})
    assert ServiceRequest.objects.get().publish_consent_at is None


def test_a_district_stands_for_a_resident_who_does_not_know_the_community(client, org, partner):
    post(client, partner[1], org, **{"attribute[place]": str(org.second.pk)})
    assert ServiceRequest.objects.get().place == org.second


def test_the_same_report_posted_twice_makes_one_request(client, org, partner):
    first = post(client, partner[1], org).json()[0]
    again = post(client, partner[1], org).json()[0]
    assert again["service_request_id"] == first["service_request_id"]
    assert "只记录一次" in again["service_notice"]
    assert ServiceRequest.objects.count() == 1


def test_posting_needs_no_csrf_token_and_is_never_cached(org, partner):
    response = post(Client(enforce_csrf_checks=True), partner[1], org)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"attribute[place]": None}, "attribute[place]:请选择问题发生的社区或管区。"),
        ({"attribute[place]": "999999"}, "attribute[place]:请从列表中选择社区或管区。"),
        ({"address_string": None}, "address_string:请填写问题发生的详细地点,方便工作人员找到。"),
        ({"address_string": "路" * 101}, "address_string:详细地点最多 100 个字。"),
        ({"description": "太吵了"}, "description:请多写几句(至少 10 个字),说清楚是什么问题。"),
        ({"description": "吵" * 1001}, "description:最多 1000 个字,请精简一些。"),
        ({"phone": None}, "phone:请填写手机号码。"),
        ({"phone": "12345"}, "phone:请输入 11 位中国大陆手机号码,以 1 开头,例如 13912345678。"),
        ({"email": "wang@"}, "email:电子邮箱格式不对,例如 name@example.com;也可以不填。"),
        ({"last_name": "王" * 20}, "first_name/last_name:称呼最多 20 个字。"),
        ({"attribute[publish_consent]": "maybe"}, "attribute[publish_consent]:只能是 yes 或 no。"),
        ({"media_url": "http://example.com/a.jpg"}, "media_url:本接口暂不接收照片"),
        ({"service_code": None}, "service_code:请提供问题类别的代码"),
    ],
)
def test_each_invalid_parameter_is_a_400_naming_it_in_chinese_and_stores_nothing(
    client, org, partner, changes, description, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, partner[1], org, **changes)
    assert response.status_code == 400
    errors = response.json()
    assert all(error["code"] == 400 for error in errors)
    assert any(error["description"].startswith(description) for error in errors), errors
    assert not ServiceRequest.objects.exists() and not MemoryBackend.outbox


def test_several_problems_are_listed_together_in_xml(client, org, partner):
    response = post(client, partner[1], org, fmt="xml", phone="1", description="短")
    assert response.status_code == 400
    errors = xml_items(ET.fromstring(response.content), "errors", "error", ERROR_FIELDS)
    described = sorted(error["description"].split(":")[0] for error in errors)
    assert described == ["description", "phone"]


@pytest.mark.parametrize("code", ["no-such-service", "retired"])
def test_posting_to_an_unknown_or_retired_service_is_a_404(client, org, partner, code):
    Category.objects.create(name="旧类别", code="retired", is_active=False)
    response = post(client, partner[1], org, service_code=code)
    assert response.status_code == 404
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("key", "description"),
    [(None, "缺少 api_key"), ("", "缺少 api_key"), ("guessed-key", "api_key 无效或已停用")],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_without_a_valid_key_is_a_403(client, org, partner, key, description, fmt):
    response = post(client, key, org, fmt=fmt)
    assert response.status_code == 403
    if fmt == "xml":
        (error,) = xml_items(ET.fromstring(response.content), "errors", "error", ERROR_FIELDS)
    else:
        (error,) = response.json()
    assert str(error["code"]) == "403" and description in error["description"]
    assert not ServiceRequest.objects.exists()


def test_a_revoked_key_no_longer_posts(client, org, partner):
    platform, key = partner
    call_command("open311_partner", platform.name, "--revoke", stdout=io.StringIO())
    assert post(client, key, org).status_code == 403
    assert not ServiceRequest.objects.exists()


def test_a_number_may_report_five_times_an_hour_counted_with_the_web_form(client, org, partner):
    # One report on the web form (portal.service_requests.reporting counts it so).
    assert views.attempt("report", "mobile", mobile_digest(MOBILE))
    for n in range(4):
        response = post(client, partner[1], org, description=f"第 {n} 次反映:{DESCRIPTION}")
        assert response.status_code == 200
    sixth = post(client, partner[1], org, description=f"第 6 次反映:{DESCRIPTION}")
    assert sixth.status_code == 429
    assert sixth.json() == [
        {"code": 429, "description": "这个手机号码提交的次数太多了,请一小时后再试。"}
    ]
    assert ServiceRequest.objects.count() == 4
    other = post(
        client, partner[1], org, phone="13800000000", description="换一个号码:" + DESCRIPTION
    )
    assert other.status_code == 200


def test_a_partner_may_post_so_many_times_an_hour(client, org, partner, settings):
    settings.OPEN311_PARTNER_POSTS_PER_HOUR = 2
    other_partner, other_key = ApiPartner.issue("微信小程序")
    for n in range(2):
        post(client, partner[1], org, phone=f"1380000000{n}")
    third = post(client, partner[1], org, phone="13800000009")
    assert third.status_code == 429 and "本平台一小时内提交的次数已达上限" in third.content.decode()
    assert post(client, other_key, org, phone="13800000009").status_code == 200
    assert ServiceRequest.objects.filter(partner=other_partner).count() == 1


def test_a_partner_follows_its_own_request_by_reference_status_and_dates_only(client, org, partner):
    platform, key = partner
    reference = post(client, key, org).json()[0]["service_request_id"]
    response, (record,) = get_json(client, f"requests/{reference}", api_key=key)
    assert "no-store" in response["Cache-Control"]
    assert (record["service_request_id"], record["status"]) == (reference, "open")
    assert record["requested_datetime"].endswith("+08:00")
    assert record["status_notes"] == record["description"] == record["address"] == ""
    made = ServiceRequest.objects.get()
    hour = datetime.timedelta(hours=1)
    made = handling.accept(made, org.supervisor, now=made.received_at + hour)
    made = handling.reply(made, org.supervisor, PRIVATE_REPLY, now=made.received_at + 2 * hour)
    handling.rate(made, Rating.SATISFIED, now=made.received_at + 3 * hour)
    _response, root = get_xml(client, f"requests/{reference}", api_key=key)
    (record,) = xml_items(root, "service_requests", "request", REQUEST_FIELDS)
    assert record["status"] == "closed"
    assert record["updated_datetime"] == timezone.localtime(made.received_at + 3 * hour).isoformat(
        "T", "seconds"
    )


def test_a_partner_cannot_follow_another_partners_request(client, org, partner):
    reference = post(client, partner[1], org).json()[0]["service_request_id"]
    _other, other_key = ApiPartner.issue("微信小程序")
    response, _errors = get_json(client, f"requests/{reference}", api_key=other_key)
    assert response.status_code == 404
    response, _errors = get_json(client, f"requests/{reference}", api_key="guessed-key")
    assert response.status_code == 403


def test_other_methods_are_refused_in_the_spec_format(client, org):
    response = client.post(f"{API}/services.json")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response.json()[0]["code"] == 405


# Keys, caching and outages.


def test_the_partner_command_prints_the_key_once_keeps_only_its_digest_and_revokes(org):
    out = io.StringIO()
    call_command("open311_partner", "微信小程序", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    platform = ApiPartner.objects.get(name="微信小程序")
    assert key not in platform.key_hash and len(platform.key_hash) == 64
    assert ApiPartner.holding(key) == platform
    call_command("open311_partner", "微信小程序", "--revoke", stdout=io.StringIO())
    assert ApiPartner.holding(key) is None


def test_superusers_switch_a_partner_off_in_the_admin_and_no_screen_shows_a_key(
    admin_client, client, org, partner
):
    platform, key = partner
    admin = "/admin/service_requests/api-partners/"
    listing = admin_client.get(admin).content.decode()
    assert platform.name in listing
    edit = admin_client.get(f"{admin}edit/{platform.pk}/").content.decode()
    for page in (listing, edit):
        assert key not in page and platform.key_hash not in page
    admin_client.post(f"{admin}edit/{platform.pk}/", {"name": platform.name})
    platform.refresh_from_db()
    assert not platform.is_active and ApiPartner.holding(key) is None
    assert admin_client.get(f"{admin}add/").status_code == 404
    assert admin_client.get(f"{admin}delete/{platform.pk}/").status_code == 404
    log_in_verified(client, org.supervisor)
    assert client.get(admin).status_code != 200


def test_a_cached_list_answers_only_the_same_question(client, org, partner, settings):
    settings.PAGE_CACHE_ENABLED = True
    noise = published(org)
    sanitation = published(org, category=org.sanitation)
    first, _root = get_xml(client, "requests")
    again, _root = get_xml(client, "requests")
    assert again["X-Page-Cache"] == "hit" and again.content == first.content
    _response, root = get_xml(client, "requests", service_code="noise")
    assert ids(xml_items(root, "service_requests", "request", REQUEST_FIELDS)) == [str(noise.pk)]
    # A partner's reference is not answered from a public copy of the same address.
    get_xml(client, f"requests/{sanitation.pk}")
    response, _root = get_xml(client, f"requests/{sanitation.pk}", api_key=partner[1])
    assert response.status_code == 404 and "X-Page-Cache" not in response


@pytest.mark.django_db(transaction=True)
def test_a_database_that_does_not_answer_is_a_503_and_nothing_is_posted():
    org = make_organisation()
    _platform, key = ApiPartner.issue("12345 平台")
    client = Client()
    with lock_wait(0.5), writes_held():
        response = post(client, key, org)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json() == [{"code": 503, "description": "系统繁忙,诉求没有提交,请稍后再试。"}]
    assert not ServiceRequest.objects.exists()
    assert post(client, key, org).status_code == 200


# An independent client against a live server.


@pytest.mark.django_db(transaction=True)
def test_an_independent_open311_client_reads_the_services_and_requests_and_posts_one(
    live_server,
):
    from civicbot.http import HttpTransport, RateLimiter
    from civicbot.open311 import Open311Client
    from civicbot.registry import Endpoint
    from georeport import GeoReport

    page_tree().add_child(instance=AnswersPage(title="回应公开", slug="huiying"))
    org = make_organisation()
    answer = published(org)
    platform, key = ApiPartner.issue("12345 平台")
    root = f"{live_server.url}{API}"

    for output_format in ("json", "xml"):
        reader = GeoReport(root, output_format=output_format)
        services = reader.get_service_list()
        service = services[0] if isinstance(services, list) else services
        assert service["service_code"] == "noise"
        definition = reader.get_service_definition("noise")
        assert definition["service_code"] == "noise"
        listed = reader.get_service_requests(service_code="noise", status="closed")
        record = listed[0] if isinstance(listed, list) else listed
        assert record["service_request_id"] == str(answer.pk)
        assert reader.get_service_request(str(answer.pk))["status_notes"] == PUBLIC_REPLY

    writer = Open311Client(
        Endpoint(id="jinjialing", name="金家岭街道", base_url=root, write=True),
        transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)),
    )
    sent = writer.create_request(
        "noise",
        dry_run=False,
        confirm="SEND",
        api_key=key,
        validate_remote=True,  # checks the form against the live service definition
        address_string=ADDRESS,
        description="小区门口的垃圾三天没人清运,气味很大。",
        phone=MOBILE,
        attributes={"place": str(org.haian.pk), "publish_consent": "no"},
    )
    (posted,) = sent.response
    made = ServiceRequest.objects.get(reference=posted["service_request_id"])
    assert (made.place, made.partner, made.publish_consent_at) == (org.haian, platform, None)
    assert any(made.reference_display in text for _to, text in MemoryBackend.outbox)


@pytest.mark.parametrize("odd", ["²", "9" * 30])
def test_one_request_with_an_odd_id_is_a_404(client, org, odd):
    response, errors = get_json(client, f"requests/{odd}")
    assert response.status_code == 404 and errors[0]["code"] == 404


def test_nothing_is_listed_while_the_answers_page_is_unpublished(client, org):
    answer = published(org)
    AnswersPage.objects.get().unpublish()
    response, records = get_json(client, "requests")
    assert response.status_code == 200 and records == []
    response, errors = get_json(client, f"requests/{answer.pk}")
    assert response.status_code == 404


def test_a_partner_posting_what_the_web_form_took_gets_a_request_of_its_own(client, org, partner):
    platform, key = partner
    on_the_web, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description=DESCRIPTION,
        address=ADDRESS,
        mobile=post_data(org)["phone"],
    )
    response = post(client, key, org)
    assert response.status_code == 200
    reference = json.loads(response.content)[0]["service_request_id"]
    assert reference != on_the_web.reference
    followed, records = get_json(client, f"requests/{reference}", api_key=key)
    assert followed.status_code == 200 and records[0]["service_request_id"] == reference

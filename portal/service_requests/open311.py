"""The Open311 GeoReport v2 API (http://wiki.open311.org/GeoReport_v2) under
/open311/v2/, in XML and JSON: the service discovery file, the categories as
services with the place and consent a request needs, the published answers
as closed requests, and, for the platforms the sub-district trusts with a key
(ApiPartner: the city's 12345 platform, a WeChat mini-program), posting a
resident's request and following the ones they posted.

What the public reads is what 回应公开 shows (PublishedAnswer): the category,
the 社区 or 管区, the dates, and the summary and reply a supervisor checked.
The records are read field by field (``values()``), so nothing the resident
wrote is even loaded: no name, number, email, address, photo or own words.
A request posted here goes through the web form's own validation (ReportForm),
its per-number limit and handling.receive, so the resident gets the same
receipt SMS with the reference."""

import datetime
import functools
import json
import logging
import re
import xml.etree.ElementTree as ET

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from portal.core.models import SiteSettings
from portal.core.outages import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from portal.core.privacy import mobile_digest
from portal.core.ratelimit import count_attempt

from .answers import live_page
from .forms import PlaceField, ReportForm
from .models import ApiPartner, Category, PublishedAnswer, ServiceRequest, Unit
from .reporting import receive
from .views import attempt

logger = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the shape of this API last changed. Categories and units keep no time
# of change, so a client refreshes its service list by its own schedule.
CHANGESET = "2026-12-07T00:00:00+08:00"
FORMATS = ["text/xml", "application/json"]
# The spec's response volume: at most 1000 requests, from at most 90 days.
MAX_REQUESTS = 1000
WINDOW = datetime.timedelta(days=90)
PARTNER_WINDOW_SECONDS = 60 * 60
# XML names each item of a list after the list (the spec's Spark convention
# maps the JSON arrays to these).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Every field of a request the spec lists, in its order. lat and long are left
# out: the sub-district knows a request's 社区, not a point.
REQUEST_FIELDS = (
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
)
STATUSES = ("open", "closed")
# The web form's fields and the Open311 parameters that fill them, for
# messages that name what the partner sent.
PARAMETERS = {
    "category": "service_code",
    "place": "attribute[place]",
    "address": "address_string",
    "description": "description",
    "name": "first_name/last_name",
    "mobile": "phone",
    "email": "email",
    "publish_consent": "attribute[publish_consent]",
}
KEYWORD_SEPARATORS = re.compile(r"[、,,;;]\s*")
# Characters XML 1.0 cannot carry, such as a control character pasted into a reply.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A published answer's id: ASCII digits a database integer holds.
PUBLIC_ID = re.compile(r"[0-9]{1,15}")
# The years a date parameter may name: beyond them a time cannot be converted
# to UTC or moved by the 90-day window.
YEARS = (1970, 2100)
# A time's offset whose '+' was sent unencoded, and so arrived as a space.
UNENCODED_PLUS = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")

KEY_SERVICE = _(
    "提交诉求的密钥只发给街道确认的合作平台(如 12345 政务服务便民热线平台、微信小程序),"
    "请联系街道办事处申请。查询服务和公开的诉求不需要密钥。"
)
GROUP = _("居民诉求")
CONSENT_DESCRIPTION = _(
    "居民是否同意在网站上匿名公开这条诉求的办理情况和答复(不公开称呼、电话、地址和照片)。"
    "不填即不同意,不影响办理。"
)
CONSENT_NAMES = {"yes": _("同意匿名公开"), "no": _("不同意公开")}
NO_SERVICE = _("没有代码为“%(code)s”的服务。服务列表见 services.xml。")
NO_REQUEST = _("没有编号为 %(id)s 的公开诉求。")
NOT_YOURS = _("没有编号为 %(id)s、由本平台提交的诉求。")
BAD_DATE = _("%(field)s 的格式不对,请用 ISO 8601 格式,例如 2026-12-05T14:30:00+08:00。")
DATES_REVERSED = _("end_date 不能早于 start_date。")
WINDOW_TOO_LONG = _("start_date 和 end_date 相隔不能超过 90 天。")
BAD_STATUS = _("status 只能是 open 或 closed。")
BAD_IDS = _("service_request_id 应是用逗号分隔的数字编号。")
NO_CODE = _("service_code:请提供问题类别的代码,见 services.xml。")
BAD_CONSENT = _("attribute[publish_consent]:只能是 yes 或 no。")
NO_PHOTOS = _("media_url:本接口暂不接收照片,请去掉 media_url 后再提交。")
FIELD_MESSAGE = _("%(parameter)s:%(message)s")
NO_KEY = _("缺少 api_key:提交和查询本平台提交的诉求须使用街道发放的密钥。")
BAD_KEY = _("api_key 无效或已停用,请联系街道办事处。")
PARTNER_TOO_MANY = _("本平台一小时内提交的次数已达上限,请稍后再试。")
NUMBER_TOO_MANY = _("这个手机号码提交的次数太多了,请一小时后再试。")
NOT_ALLOWED = _("这个地址不支持 %(method)s 请求。")
BUSY_READING = _("系统繁忙,请稍后再试。")
BUSY_POSTING = _("系统繁忙,诉求没有提交,请稍后再试。")
RECEIVED_NOTICE = _(
    "已受理,诉求编号 %(reference)s,受理短信已发到居民手机。街道将在 %(response)d 个工作日内"
    "响应、%(resolution)d 个工作日内办结,办理结果以短信告知居民。"
)
AGAIN_NOTICE = _("这条诉求 30 分钟内已经提交过,只记录一次,诉求编号 %(reference)s。")


class ApiError(Exception):
    """A call the API refuses: the HTTP status, and one description per problem
    (the spec's errors are an array)."""

    def __init__(self, status, *descriptions):
        super().__init__(status)
        self.status = status
        self.descriptions = descriptions


# The one serializer: plain dicts and lists to JSON or to the spec's XML.


def render(data, root, fmt, status=200):
    """`data` as JSON, or as XML under the element `root`."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
        content_type = "application/json; charset=utf-8"
    else:
        element = ET.Element(root)
        _fill(element, data)
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode")
        content_type = "text/xml; charset=utf-8"
    return HttpResponse(body.encode(), content_type=content_type, status=status)


def _fill(element, value):
    if isinstance(value, dict):
        for tag, child in value.items():
            _fill(ET.SubElement(element, tag), child)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, ITEM_TAGS[element.tag]), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_IN_XML.sub("", str(value))


def errors(fmt, status, descriptions):
    data = [{"code": status, "description": str(description)} for description in descriptions]
    return render(data, "errors", fmt, status)


def endpoint(*methods):
    """An API view: only `methods`, CSRF-exempt (a key, not a cookie, proves a
    partner), refusals and a database that does not answer in time (503) as
    the spec's errors in the format asked for."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, fmt, **kwargs):
            try:
                if request.method not in methods:
                    raise ApiError(405, NOT_ALLOWED % {"method": request.method})
                response = view(request, *args, fmt=fmt, **kwargs)
            except ApiError as refused:
                response = errors(fmt, refused.status, refused.descriptions)
                if refused.status == 405:
                    response["Allow"] = ", ".join(methods)
            except DATABASE_UNAVAILABLE:
                logger.exception("Open311 call not answered: the database did not answer in time.")
                busy = BUSY_POSTING if request.method == "POST" else BUSY_READING
                response = errors(fmt, 503, [busy])
                response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            # What a partner sends or reads with its key is its own: never kept.
            if request.method == "POST" or "api_key" in request.GET:
                add_never_cache_headers(response)
            return response

        return csrf_exempt(wrapped)

    return decorate


def w3(moment):
    """A time as the spec writes it: ISO 8601 in Beijing time, 2026-12-05T14:30:00+08:00."""
    if not moment:
        return ""
    return timezone.localtime(moment, timezone.get_default_timezone()).isoformat(timespec="seconds")


def w3_day(moment):
    """A public record's time: its day only, at midnight in Beijing, as 回应公开
    shows it. The exact minute a resident reported, with the 社区 and the
    category, would help tell who they are."""
    if not moment:
        return ""
    day = timezone.localtime(moment, timezone.get_default_timezone()).date()
    return w3(timezone.make_aware(datetime.datetime.combine(day, datetime.time())))


def request_record(**fields):
    """A request with every field the spec lists, those not given empty."""
    return {name: fields.get(name, "") for name in REQUEST_FIELDS}


# Discovery and services.


@endpoint("GET", "HEAD")
def discovery(request, fmt):
    site = SiteSettings.for_request(request)
    contact = [site.organisation]
    if site.phone:
        contact.append(str(_("电话 %(phone)s") % {"phone": site.phone}))
    if site.email:
        contact.append(str(_("邮箱 %(email)s") % {"email": site.email}))
    # The endpoint is the folder services.xml is in.
    services_url = reverse("open311:services", kwargs={"fmt": "xml"})
    data = {
        "changeset": CHANGESET,
        "contact": ",".join(contact),
        "key_service": str(KEY_SERVICE),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri(services_url.rsplit("/", 1)[0]),
                "changeset": CHANGESET,
                "type": "production",
                "formats": FORMATS,
            }
        ],
    }
    return render(data, "discovery", fmt)


def active_categories():
    return Category.objects.filter(is_active=True).order_by("sort_order", "name")


@endpoint("GET", "HEAD")
def service_list(request, fmt):
    data = [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.description,
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(
                word for word in KEYWORD_SEPARATORS.split(category.description) if word
            ),
            "group": str(GROUP),
        }
        for category in active_categories()
    ]
    return render(data, "services", fmt)


@endpoint("GET", "HEAD")
def service_definition(request, code, fmt):
    category = active_categories().filter(code=code).first()
    if category is None:
        raise ApiError(404, NO_SERVICE % {"code": code})
    place = ReportForm.base_fields["place"]
    data = {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "place",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": "",
                "order": 1,
                "description": f"{place.label}。{place.help_text}",
                "values": place_values(),
            },
            {
                "variable": True,
                "code": "publish_consent",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "",
                "order": 2,
                "description": str(CONSENT_DESCRIPTION),
                "values": [{"key": key, "name": str(name)} for key, name in CONSENT_NAMES.items()],
            },
        ],
    }
    return render(data, "service_definition", fmt)


def place_values():
    """The web form's places (PlaceField): each 社区 as “管区 › 社区”, and each
    管区's “不清楚属于哪个社区”, keyed by the unit's id."""
    field = PlaceField()
    field.load()
    values = []
    for district, options in field.choices[1:]:  # after the form's “请选择”
        for pk, label in options:
            community = field.units[pk].depth == Unit.Level.COMMUNITY
            name = f"{district} › {label}" if community else str(label)
            values.append({"key": str(pk), "name": name})
    return values


# Requests: the published ones for everyone, a partner's own with its key.


class Places:
    """The public names of the units requests are about, from one query: the
    address is the 社区 or 管区 with the units above it below the 街道
    (“第一管区 › 石岭路社区”), the agency the 街道 and the 管区."""

    def __init__(self):
        self.directory = Unit.directory()
        self.by_path = dict(self.directory.values())

    def address(self, pk):
        return self.directory[pk][1]

    def agency(self, pk):
        path, step = self.directory[pk][0], Unit.steplen
        above = [path[:step], path[: 2 * step]] if len(path) > step else [path]
        return "".join(self.by_path[part] for part in above)


PUBLISHED_FIELDS = (
    "pk",
    "summary",
    "reply",
    "request__received_at",
    "request__closed_at",
    "request__place_id",
    "request__category__name",
    "request__category__code",
)


def published_record(answer, places):
    place = answer["request__place_id"]
    return request_record(
        service_request_id=str(answer["pk"]),
        status="closed",
        status_notes=answer["reply"],
        service_name=answer["request__category__name"],
        service_code=answer["request__category__code"],
        description=answer["summary"],
        agency_responsible=places.agency(place),
        requested_datetime=w3_day(answer["request__received_at"]),
        updated_datetime=w3_day(answer["request__closed_at"]),
        address=places.address(place),
    )


def listed(query, name):
    """A parameter the spec lets a client give several times or comma-delimited."""
    return [
        item.strip() for value in query.getlist(name) for item in value.split(",") if item.strip()
    ]


def moment(query, name):
    """A date parameter as an aware time, or None when not given. A date alone
    is its midnight in Beijing."""
    text = UNENCODED_PLUS.sub(r"\1+\2", query.get(name, "").strip())
    if not text:
        return None
    try:
        found = parse_datetime(text)
        if found is None and (day := parse_date(text)) is not None:
            found = datetime.datetime.combine(day, datetime.time())
    except ValueError:
        found = None
    if found is None or not YEARS[0] <= found.year <= YEARS[1]:
        raise ApiError(400, BAD_DATE % {"field": name})
    if timezone.is_naive(found):
        return timezone.make_aware(found, timezone.get_default_timezone())
    return found


def window(query):
    """The received times asked for: at most 90 days, the latest 90 by default."""
    start, end = moment(query, "start_date"), moment(query, "end_date")
    if start and end:
        if end < start:
            raise ApiError(400, DATES_REVERSED)
        if end - start > WINDOW:
            raise ApiError(400, WINDOW_TOO_LONG)
        return start, end
    if start:
        return start, start + WINDOW
    end = end or timezone.now()
    return end - WINDOW, end


def published_answers(query):
    """The published answers a GET requests.[format] asks for, newest first;
    none while 回应公开 itself is not published."""
    answers = PublishedAnswer.objects.all()
    ids = listed(query, "service_request_id")
    if ids:
        # The spec: the ids override every other argument.
        if not all(PUBLIC_ID.fullmatch(id) for id in ids):
            raise ApiError(400, BAD_IDS)
        answers = answers.filter(pk__in=[int(id) for id in ids[:MAX_REQUESTS]])
    else:
        statuses = listed(query, "status")
        if any(status not in STATUSES for status in statuses):
            raise ApiError(400, BAD_STATUS)
        start, end = window(query)
        answers = answers.filter(request__received_at__gte=start, request__received_at__lte=end)
        if codes := listed(query, "service_code"):
            answers = answers.filter(request__category__code__in=codes)
        if statuses and "closed" not in statuses:
            answers = answers.none()  # every published request is closed
    if live_page() is None:
        return []
    answers = answers.order_by("-request__received_at", "-pk")
    return list(answers.values(*PUBLISHED_FIELDS)[:MAX_REQUESTS])


def partner_of(request):
    """The partner whose api_key came with the call; 403 without a valid one."""
    key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    if not key:
        raise ApiError(403, NO_KEY)
    partner = ApiPartner.holding(key)
    if partner is None:
        raise ApiError(403, BAD_KEY)
    ApiPartner.objects.filter(pk=partner.pk).update(last_used_at=timezone.now())
    return partner


@endpoint("GET", "HEAD", "POST")
def service_requests(request, fmt):
    if request.method == "POST":
        return post_request(request, fmt)
    places = Places()
    records = [published_record(answer, places) for answer in published_answers(request.GET)]
    return render(records, "service_requests", fmt)


@endpoint("GET", "HEAD")
def service_request(request, service_request_id, fmt):
    """One request, as a list of one (the spec's shape): a published answer by
    its id, or, with a partner's key, a request it posted by its reference,
    with its status and dates only."""
    if "api_key" in request.GET:
        record = partner_request(partner_of(request), service_request_id)
    else:
        answer = (
            PublishedAnswer.objects.filter(pk=service_request_id).values(*PUBLISHED_FIELDS).first()
            if live_page() is not None and PUBLIC_ID.fullmatch(service_request_id)
            else None
        )
        if answer is None:
            raise ApiError(404, NO_REQUEST % {"id": service_request_id})
        record = published_record(answer, Places())
    return render([record], "service_requests", fmt)


def partner_request(partner, reference):
    found = (
        ServiceRequest.objects.filter(reference=reference, partner=partner)
        .values(
            "reference",
            "state",
            "received_at",
            "closed_at",
            "updated_at",
            "category__name",
            "category__code",
        )
        .first()
    )
    if found is None:
        raise ApiError(404, NOT_YOURS % {"id": reference})
    closed = found["state"] in ServiceRequest.FINAL_STATES
    return request_record(
        service_request_id=found["reference"],
        status="closed" if closed else "open",
        service_name=found["category__name"],
        service_code=found["category__code"],
        requested_datetime=w3(found["received_at"]),
        updated_datetime=w3(found["closed_at"] or found["updated_at"]),
    )


# Posting a request.


def partner_posts_per_hour():
    """Requests one partner may post in an hour: the OPEN311_PARTNER_POSTS_PER_HOUR
    setting, 600 by default (ten a minute: a busy hotline's peak, not a flood)."""
    return getattr(settings, "OPEN311_PARTNER_POSTS_PER_HOUR", 600)


def post_request(request, fmt):
    partner = partner_of(request)
    if not count_attempt(
        "open311:partner", partner.pk, partner_posts_per_hour(), PARTNER_WINDOW_SECONDS
    ):
        raise ApiError(429, PARTNER_TOO_MANY)
    posted = request.POST
    code = posted.get("service_code", "").strip()
    if not code:
        raise ApiError(400, NO_CODE)
    category = active_categories().filter(code=code).first()
    if category is None:
        raise ApiError(404, NO_SERVICE % {"code": code})
    form = ReportForm(report_data(posted, category))
    problems = [*form_problems(form), *unaccepted(posted)]
    if problems:
        raise ApiError(400, *problems)
    typed = form.cleaned_data
    # The web form's limit per number, counted on the same counter: a resident
    # reports at most so often, by whatever channel.
    if not attempt("report", "mobile", mobile_digest(typed["mobile"])):
        raise ApiError(429, NUMBER_TOO_MANY)
    made, created = receive(typed, category=category, place=typed["place"], partner=partner)
    values = {
        "reference": made.reference_display,
        "response": category.response_days,
        "resolution": category.resolution_days,
    }
    notice = (RECEIVED_NOTICE if created else AGAIN_NOTICE) % values
    record = {"service_request_id": made.reference, "service_notice": notice, "account_id": ""}
    return render([record], "service_requests", fmt)


def report_data(posted, category):
    """The web form's data from the Open311 parameters."""
    data = {
        "category": category.pk,
        "place": posted.get("attribute[place]", ""),
        "address": posted.get("address_string", ""),
        "description": posted.get("description", ""),
        "name": resident_name(posted),
        "mobile": posted.get("phone", ""),
        "email": posted.get("email", ""),
    }
    if posted.get("attribute[publish_consent]", "").strip().lower() == "yes":
        data["publish_consent"] = "on"
    return data


def resident_name(posted):
    """first_name and last_name as the 称呼: a Chinese name puts the family
    name first, without a space (王 + 阿姨 → 王阿姨)."""
    first, last = posted.get("first_name", "").strip(), posted.get("last_name", "").strip()
    if (first + last).isascii():
        return " ".join(part for part in (first, last) if part)
    return last + first


def form_problems(form):
    """The web form's own messages, each with the parameter it is about."""
    if form.is_valid():
        return []
    return [
        FIELD_MESSAGE % {"parameter": PARAMETERS.get(field, field), "message": message}
        for field, messages in form.errors.items()
        for message in messages
    ]


def unaccepted(posted):
    """What the form does not check: the consent's two values, and photos,
    which this version does not take."""
    problems = []
    if posted.get("attribute[publish_consent]", "").strip().lower() not in ("", *CONSENT_NAMES):
        problems.append(BAD_CONSENT)
    if posted.get("media_url", "").strip():
        problems.append(NO_PHOTOS)
    return problems

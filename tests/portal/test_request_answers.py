"""回应公开 (the AnswersPage): supervisors publish closed requests residents
agreed to show; the public sees the category, the place's 社区, the dates and
the texts the supervisor checked, never the resident's own words or details;
the listing filters, pages, feeds and caches; the figures page and the staff
dashboard show the monthly figures with charts and tables."""

import datetime
import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.core.groups import EDITORS
from portal.service_requests import handling
from portal.service_requests.handling import RequestRefused
from portal.service_requests.models import (
    AnswersPage,
    Category,
    PublishedAnswer,
    RequestEvent,
    ServiceRequest,
)
from tests.factories import log_in_verified, make_organisation

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
RECEIVED = datetime.datetime(2026, 11, 9, 9, 30, tzinfo=SHANGHAI)
RESIDENT = {
    "name": "王阿姨",
    "mobile": "13912345678",
    "address": "石岭路 8 号 3 单元 502",
    "description": "楼上 502 每晚十一点后还在装修,电钻声很大,王阿姨的孙子睡不着。",
}
REPLY = "网格员已上门协调,施工方承诺晚上八点后停工。"


@pytest.fixture
def org(db):
    return make_organisation()


@pytest.fixture
def page(home, org):
    answers = AnswersPage(title="回应公开", slug="huiying", intro="已办结的诉求。")
    home.add_child(instance=answers)
    return answers


def closed_request(org, *, consent=True, received=RECEIVED, category=None, place=None, n=0):
    request, _created = handling.receive(
        category=category or org.noise,
        place=place or org.shiling,
        publish_consent=consent,
        now=received,
        **{**RESIDENT, "mobile": f"139123{n:05d}", "description": f"{RESIDENT['description']}{n}"},
    )
    handler = org.haian_handler if (place or org.shiling) == org.haian else org.shiling_handler
    request = handling.accept(request, handler, now=received + datetime.timedelta(hours=2))
    request = handling.reply(request, handler, REPLY, now=received + datetime.timedelta(hours=5))
    return handling.rate(
        request, ServiceRequest.Rating.SATISFIED, now=received + datetime.timedelta(days=1)
    )


def publish(org, request, summary="居民反映夜间装修噪声。", reply=REPLY):
    return handling.publish(request, org.supervisor, summary, reply)


def text_of(response):
    return response.content.decode()


def assert_nothing_of_the_resident(text):
    for value in RESIDENT.values():
        assert value not in text
    assert "502" not in text and "13912" not in text


def test_a_published_answer_shows_category_place_dates_and_the_checked_texts_only(
    client, page, org
):
    request = closed_request(org)
    publish(org, request)
    listing = text_of(client.get(page.url))
    assert "噪音扰民" in listing and "第一管区 › 石岭路社区" in listing
    assert "居民反映夜间装修噪声。" in listing and REPLY in listing
    assert "2026-11-09" in listing and "2026-11-10" in listing  # received, closed
    assert_nothing_of_the_resident(listing)
    assert request.reference not in listing and request.reference_display not in listing
    answer = PublishedAnswer.objects.get()
    detail = client.get(f"{page.url}{answer.pk}/")
    assert detail.status_code == 200
    assert REPLY in text_of(detail)
    assert_nothing_of_the_resident(text_of(detail))


def test_only_a_supervisor_publishes_and_only_closed_consented_requests(org):
    without_consent = closed_request(org, consent=False, n=1)
    with pytest.raises(RequestRefused):
        publish(org, without_consent)
    consented = closed_request(org, n=2)
    with pytest.raises(RequestRefused):
        handling.publish(consented, org.first_head, "摘要", REPLY)
    still_open, _created = handling.receive(
        category=org.noise, place=org.shiling, publish_consent=True, now=RECEIVED, **RESIDENT
    )
    with pytest.raises(RequestRefused):
        publish(org, still_open)
    with pytest.raises(RequestRefused) as blank:
        publish(org, consented, reply="  ")
    assert (blank.value.code, blank.value.message) == ("reason_required", "请填写公开的答复。")
    assert not PublishedAnswer.objects.exists()
    publish(org, consented)
    with pytest.raises(RequestRefused):  # once
        publish(org, consented)
    assert PublishedAnswer.objects.count() == 1


def test_publishing_and_taking_down_are_lines_of_the_trail(client, page, org):
    request = publish(org, closed_request(org))
    assert PublishedAnswer.objects.count() == 1
    with pytest.raises(RequestRefused) as blank:
        handling.unpublish(request, org.supervisor, "")
    assert blank.value.message == "请写明撤下的理由。"
    handling.unpublish(request, org.supervisor, "居民要求撤下")
    assert not PublishedAnswer.objects.exists()
    kinds = list(request.events.values_list("kind", "actor_name"))
    assert (RequestEvent.Kind.PUBLISHED, "supervisor") in kinds
    assert request.events.get(kind=RequestEvent.Kind.UNPUBLISHED).text == "居民要求撤下"
    assert REPLY not in text_of(client.get(page.url))


def test_the_answer_stays_public_after_the_residents_data_is_erased(client, page, org):
    request = publish(org, closed_request(org))
    handling.erase_personal_data(timezone.now() + datetime.timedelta(days=1))
    request.refresh_from_db()
    assert request.personal_data_erased_at is not None and request.reply == ""
    assert REPLY in text_of(client.get(page.url))


def test_the_listing_filters_by_category_district_and_month(client, page, org):
    rental = Category.objects.create(name="群租房", code="group-rental")
    publish(org, closed_request(org, n=1), summary="噪声一")
    publish(org, closed_request(org, category=rental, n=2), summary="群租二")
    publish(org, closed_request(org, place=org.haian, n=3), summary="海岸三")
    october = RECEIVED - datetime.timedelta(days=30)
    publish(org, closed_request(org, received=october, n=4), summary="十月四")

    def shown(query):
        text = text_of(client.get(f"{page.url}?{query}"))
        return {word for word in ("噪声一", "群租二", "海岸三", "十月四") if word in text}

    with timezone.override("Asia/Shanghai"):
        assert shown("") == {"噪声一", "群租二", "海岸三", "十月四"}
        assert shown("category=group-rental") == {"群租二"}
        assert shown(f"district={org.second.pk}") == {"海岸三"}
        assert shown(f"district={org.first.pk}&category=noise") == {"噪声一", "十月四"}
        assert shown("month=2026-10") == {"十月四"}
        assert shown("month=2026-11&category=noise") == {"噪声一", "海岸三"}
        # As the form sends it: the choices left at 全部 are empty.
        assert shown("category=group-rental&district=&month=") == {"群租二"}
    for junk in ("category=nope", f"district={org.shiling.pk}", "month=2019-01", "month=x"):
        assert client.get(f"{page.url}?{junk}").status_code == 404


def test_the_listing_pages_through_many_answers(client, page, org):
    for n in range(23):
        publish(org, closed_request(org, n=n), summary=f"摘要第{n}条。")
    first = text_of(client.get(page.url))
    second = text_of(client.get(f"{page.url}?page=2"))
    assert "共 23 条" in first
    assert first.count('class="answer"') == 20 and second.count('class="answer"') == 3
    assert "摘要第0条。" in second and "摘要第22条。" in first  # newest first


def test_the_feed_lists_the_newest_answers_with_links_to_their_pages(client, page, org):
    for n in range(3):
        publish(org, closed_request(org, n=n), summary=f"摘要第{n}条。")
    listing = text_of(client.get(page.url))
    assert f'href="{page.url}feed/"' in listing and "application/rss+xml" in listing
    feed = feedparser.parse(client.get(f"{page.url}feed/").content)
    assert not feed.bozo
    assert len(feed.entries) == 3
    assert feed.entries[0].title == "噪音扰民:第一管区 › 石岭路社区"
    assert feed.entries[0].link.startswith("http://testserver/huiying/")
    assert "摘要第2条。" in feed.entries[0].summary
    for entry in feed.entries:
        assert client.get(entry.link.removeprefix("http://testserver")).status_code == 200
        assert_nothing_of_the_resident(entry.summary)


def test_the_sitemap_lists_the_page_and_each_answer(client, page, org):
    publish(org, closed_request(org))
    answer = PublishedAnswer.objects.get()
    root = ET.fromstring(client.get("/sitemap.xml").content)
    locations = {loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    assert "http://localhost/huiying/" in locations
    assert f"http://localhost/huiying/{answer.pk}/" in locations


def test_a_cached_listing_shows_a_new_answer_at_once(client, page, org, settings):
    settings.PAGE_CACHE_ENABLED = True
    caches[settings.PAGE_CACHE_ALIAS].clear()
    publish(org, closed_request(org, n=1), summary="第一条摘要。")
    assert client.get(page.url)["X-Page-Cache"] == "miss"
    assert client.get(page.url)["X-Page-Cache"] == "hit"
    request = publish(org, closed_request(org, n=2), summary="第二条摘要。")
    fresh = client.get(page.url)
    assert "第二条摘要。" in text_of(fresh)
    handling.unpublish(request, org.supervisor, "居民要求撤下")
    assert "第二条摘要。" not in text_of(client.get(page.url))


def queries_for(client, url):
    client.get(url)  # warm: the site, the page tree
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_listing_and_figures_take_the_same_few_queries_however_many_answers(client, page, org):
    publish(org, closed_request(org, n=0))
    few = queries_for(client, page.url), queries_for(client, f"{page.url}shuju/")
    for n in range(1, 30):
        publish(org, closed_request(org, n=n, place=org.haian if n % 2 else org.shiling))
    many = queries_for(client, page.url), queries_for(client, f"{page.url}shuju/")
    assert few == many
    assert max(many) <= 12


def test_the_figures_page_draws_each_chart_with_a_title_and_a_table_beside_it(client, page, org):
    today = timezone.localdate()
    received = timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 5)))
    closed_request(org, received=received - datetime.timedelta(days=2))
    text = text_of(client.get(f"{page.url}shuju/"))
    assert text.count("<svg") == 5
    assert text.count('role="img"') == 5
    for title in ("每月受理量", "每月响应率", "每月办结率", "每月满意率", "每月平均办理用时"):
        assert f">{title}</title>" in text
    assert "<table" in text and "<caption" in text
    assert "第一管区" in text and "噪音扰民" in text
    assert "100.0%" in text  # the one request was answered in time and rated 满意
    assert "style=" not in text.split("<main", 1)[1]  # nothing the CSP would refuse


def test_the_request_page_offers_publishing_to_the_supervisor_only(client, org, page):
    request = closed_request(org)
    log_in_verified(client, org.supervisor)
    url = f"/admin/service_requests/requests/{request.pk}/"
    text = text_of(client.get(url))
    assert "在“回应公开”中公开" in text and REPLY in text  # the reply offered for checking
    unchecked = {"publish-summary": "居民反映夜间装修。", "publish-reply": "已协调停工。"}
    client.post(f"{url}act/publish/", unchecked)
    assert not PublishedAnswer.objects.exists()  # the 我已核对 box is required
    response = client.post(f"{url}act/publish/", {**unchecked, "publish-checked": "on"})
    assert response.status_code == 302
    answer = PublishedAnswer.objects.get()
    assert (answer.summary, answer.reply, answer.published_by) == (
        "居民反映夜间装修。",
        "已协调停工。",
        org.supervisor,
    )
    text = text_of(client.get(url))
    assert "从“回应公开”撤下" in text and f"/huiying/{answer.pk}/" in text
    client.logout()
    log_in_verified(client, org.shiling_handler)
    assert "回应公开”中公开" not in text_of(client.get(url))
    assert client.post(f"{url}act/unpublish/", {"unpublish-text": "x"}).status_code == 302
    assert PublishedAnswer.objects.exists()  # refused: not their action


def test_the_dashboard_links_each_figure_to_the_orders_behind_it(client, org, page):
    today = timezone.localdate()
    received = timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 5)))
    haian = closed_request(org, place=org.haian, received=received, n=1)
    shiling = closed_request(org, received=received, n=2)
    log_in_verified(client, org.supervisor)
    text = text_of(client.get("/admin/service_requests/figures/"))
    assert "办理数据" in text and text.count('class="chart__drawing"') == 5
    first = today.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    link = (
        f"/admin/service_requests/requests/?received_at_after={first}"
        f"&amp;received_at_before={last}&amp;place={org.second.pk}"
    )
    assert link in text  # the 第二管区 row of this month
    queue = text_of(client.get(link.replace("&amp;", "&")))
    assert haian.reference_display in queue and shiling.reference_display not in queue


def test_staff_without_a_post_do_not_see_the_dashboard(client, org, django_user_model):
    editor = django_user_model.objects.create_user("editor", password="x" * 16, is_staff=True)
    editor.groups.add(Group.objects.get_or_create(name=EDITORS)[0])
    log_in_verified(client, editor)
    assert client.get("/admin/service_requests/figures/").status_code == 403


def test_site_search_finds_published_answers_by_their_words_and_forgets_taken_down_ones(
    client, page, org
):
    request = publish(org, closed_request(org, n=1), summary="居民反映夜间装修噪声。")
    publish(
        org, closed_request(org, n=2), summary="居民反映路灯不亮。", reply="已报修,路灯已修好。"
    )
    found = text_of(client.get("/search/", {"q": "装修"}))
    assert "回应公开中的相关答复" in found and "居民反映夜间装修噪声。" in found
    assert "路灯" not in found
    answer = PublishedAnswer.objects.get(request=request)
    assert f'href="/huiying/{answer.pk}/"' in found
    assert_nothing_of_the_resident(found)
    # The resident's own words are not searchable, only what was published.
    assert "回应公开中的相关答复" not in text_of(client.get("/search/", {"q": "孙子"}))
    handling.unpublish(request, org.supervisor, "居民要求撤下")
    assert "居民反映夜间装修噪声。" not in text_of(client.get("/search/", {"q": "装修"}))


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ("王阿姨您好,施工方已承诺停工。", "称呼"),
        ("王 阿姨您好,施工方已承诺停工。", "称呼"),  # spaced out
        ("已电话联系 139 1234 5678 的居民。", "手机号码"),
        ("已到石岭路 8 号 3 单元 502 核实。", "门牌号或地址"),
        ("已到 5 号楼核实。", "门牌号或地址"),
        ("诉求 {display} 已办结。", "诉求编号"),
        ("诉求{reference}已办结。", "诉求编号"),
        ("关于“每晚十一点后还在装修”,已协调停工。", "居民自己写的原话"),
        ("“楼上502每晚十一”一事已协调。", "居民自己写的原话"),  # across a space
        ("“十一点后还在装修,电钻声很大,”已协调。", "居民自己写的原话"),
        ("关于“的孙子睡不着。0”已协调。", "居民自己写的原话"),  # the last words
        ("王阿姨反映的 13912345678 已处理。", "称呼、手机号码"),
    ],
)
def test_publishing_refuses_text_that_identifies_the_resident(org, reply, named):
    request = closed_request(org)
    text = reply.format(display=request.reference_display, reference=request.reference)
    with pytest.raises(RequestRefused) as refused:
        publish(org, request, reply=text)
    assert refused.value.code == "identifying"
    assert refused.value.message == (f"公开的内容里有能认出居民的信息({named}),请删去后再公开。")
    assert not PublishedAnswer.objects.exists()
    assert not request.events.filter(kind=RequestEvent.Kind.PUBLISHED).exists()


def test_publishing_finds_a_short_name_and_a_plain_address_but_not_a_shorter_quote(org):
    request, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="广场舞音响每晚很响",
        address="海尔路 88 号院",
        mobile="13912345678",
        name="王姨",
        publish_consent=True,
        now=RECEIVED,
    )
    assert handling.identifying_text(request, "王姨您好") == "称呼"
    assert handling.identifying_text(request, "已到海尔路88号院核实") == "门牌号或地址"
    assert handling.identifying_text(request, "“舞音响每晚很响”") == ""  # seven words
    assert handling.identifying_text(request, "“场舞音响每晚很响”") == "居民自己写的原话"
    assert handling.identifying_text(request, "已协调停工。") == ""


def test_the_trail_keeps_what_was_published_and_when_after_it_is_taken_down(org):
    published_at = RECEIVED + datetime.timedelta(days=3)
    taken_down_at = RECEIVED + datetime.timedelta(days=4)
    request = handling.publish(
        closed_request(org), org.supervisor, "居民反映夜间装修噪声。", REPLY, now=published_at
    )
    assert PublishedAnswer.objects.get().published_at == published_at
    handling.unpublish(request, org.supervisor, "居民要求撤下", now=taken_down_at)
    line = request.events.get(kind=RequestEvent.Kind.PUBLISHED)
    assert line.text == f"问题摘要:居民反映夜间装修噪声。\n公开的答复:{REPLY}"
    assert line.at == published_at
    assert request.events.get(kind=RequestEvent.Kind.UNPUBLISHED).at == taken_down_at
    # Without a summary the line says so.
    other = handling.publish(closed_request(org, n=5), org.supervisor, "", REPLY)
    assert other.events.get(kind=RequestEvent.Kind.PUBLISHED).text.startswith("问题摘要:—\n")


def test_each_district_and_category_has_its_own_twelve_months(client, page, org):
    today = timezone.localdate()
    received = timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 5)))
    closed_request(org, place=org.haian, received=received, n=1)
    closed_request(org, received=received, n=2)
    closed_request(org, received=received, n=3)
    whole = text_of(client.get(f"{page.url}shuju/"))
    assert f'href="{page.url}shuju/?district={org.second.pk}"' in whole
    assert f'href="{page.url}shuju/?category=noise"' in whole
    second = text_of(client.get(f"{page.url}shuju/", {"district": org.second.pk}))
    assert "第二管区近 12 个月" in second and "查看全街道的数据" in second
    this_month = f"{today.year}年{today.month}月"
    row = second[second.index(f'<th scope="row">{this_month}</th>') :]
    assert row.split("</tr>")[0].count("<td>1</td>") == 1  # one request in 第二管区
    whole_row = whole[whole.index(f'<th scope="row">{this_month}</th>') :]
    assert "<td>3</td>" in whole_row.split("</tr>")[0]
    for junk in ({"district": org.shiling.pk}, {"category": "nope"}):
        assert client.get(f"{page.url}shuju/", junk).status_code == 404
    both = {"district": org.second.pk, "category": "noise"}
    assert client.get(f"{page.url}shuju/", both).status_code == 404


def test_figures_are_computed_by_one_process_while_the_others_serve_the_kept_ones(org, settings):
    from portal.core.pagecache import page_cache
    from portal.service_requests import answers

    cache = page_cache()
    cache.clear()
    today = timezone.localdate()
    received = timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 5)))
    closed_request(org, received=received, n=1)
    first, _at = answers.current_report(today)
    assert first.whole[today.replace(day=1)].received == 1
    closed_request(org, received=received, n=2)
    kept, _at = answers.current_report(today)
    assert kept.whole[today.replace(day=1)].received == 1  # still fresh
    report, computed_at, day = cache.get(answers.FIGURES_KEY)
    stale = computed_at - datetime.timedelta(seconds=answers.FIGURES_SECONDS + 1)
    cache.set(answers.FIGURES_KEY, (report, stale, day))
    assert cache.add(answers.FIGURES_LOCK, True)  # another process is computing
    served, _at = answers.current_report(today)
    assert served.whole[today.replace(day=1)].received == 1
    cache.delete(answers.FIGURES_LOCK)
    fresh, _at = answers.current_report(today)
    assert fresh.whole[today.replace(day=1)].received == 2
    assert not cache.get(answers.FIGURES_LOCK)


def test_search_finds_an_answer_by_its_categorys_new_name(client, page, org):
    publish(org, closed_request(org), summary="夜间施工。", reply="已协调。")
    assert "回应公开中的相关答复" not in text_of(client.get("/search/", {"q": "扰民噪声"}))
    org.noise.name = "扰民噪声"
    org.noise.save()
    assert "回应公开中的相关答复" in text_of(client.get("/search/", {"q": "扰民噪声"}))

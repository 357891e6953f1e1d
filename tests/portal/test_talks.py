"""Recorded counselling talks: the player and its captions, the transcript, the
help notice, staff-only talks behind page privacy, the index and the demo."""

import datetime
import importlib
import io
import itertools
import re
import wave
from pathlib import Path

import html5lib
import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import clear_url_caches, reverse
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction
from wagtail.test.utils.form_data import rich_text
from wagtailmedia.models import get_media_model

import demo.talks
import portal.urls
from demo.assets import FILES
from portal.core.groups import EDITORS, GRID_WORKERS, REVIEWERS
from portal.core.templatetags.display_tags import duration_display
from portal.talks.models import Speaker, TalkIndexPage, TalkPage
from portal.talks.privacy import restrict_to_staff, staff_collection
from portal.talks.queries import featured_talks
from tests.factories import log_in_verified, make_document, make_image
from tests.queries import render_queries

WEBVTT = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\n先听对方把话说完。\n".encode()
NS = {"h": "http://www.w3.org/1999/xhtml"}
slugs = (f"talk-{n}" for n in itertools.count())


def parse(response):
    return html5lib.parse(response.content.decode(), namespaceHTMLElements=True)


def make_media(kind="video"):
    Media = get_media_model()
    if kind == "video":
        media = Media(title="测试视频", type="video", duration=3.0, width=160, height=90)
        media.file.save("talk.webm", ContentFile((FILES / "talk-demo-1.webm").read_bytes()))
    else:
        media = Media(title="测试录音", type="audio", duration=0)
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(1)
            wav.setframerate(8000)
            wav.writeframes(bytes([128]) * 8000)
        media.file.save("talk.wav", ContentFile(buffer.getvalue()))
    return media


@pytest.fixture
def talk_index(home):
    index = TalkIndexPage(title="心理讲座", slug="talks", intro="专业机构录制的讲座。")
    home.add_child(instance=index)
    return index


@pytest.fixture
def speaker():
    return Speaker.objects.create(name="周静怡", title="国家二级心理咨询师")


def add_talk(index, title, *, speaker=None, recorded_on=None, tags=(), media="video", **fields):
    talk = TalkPage(
        title=title,
        slug=next(slugs),
        summary=f"{title}的内容简介。",
        recorded_on=recorded_on or datetime.date(2026, 5, 1),
        speaker=speaker,
        media=make_media(media) if media else None,
        poster=make_image(title=f"{title}封面", size=(320, 180)),
        captions=make_document(title=f"{title}字幕", content=WEBVTT, name="captions.vtt"),
        transcript="<p>睡前一小时少看手机,每天尽量在同一时间起床。</p>",
        **fields,
    )
    talk.tags.add(*tags)
    index.add_child(instance=talk)
    return talk


@pytest.fixture
def talk(talk_index, speaker):
    return add_talk(talk_index, "睡眠与压力", speaker=speaker, tags=["睡眠", "压力管理"])


@pytest.fixture
def staff_talk(talk_index, speaker):
    talk = add_talk(
        talk_index,
        "网格员压力疏导",
        speaker=speaker,
        tags=["网格员"],
        audience=TalkPage.Audience.STAFF,
        recorded_on=datetime.date(2026, 10, 1),
    )
    restrict_to_staff(talk)
    return talk


@pytest.fixture
def grid_worker(db):
    user = User.objects.create_user("wangge", password="not-used-in-tests")
    user.groups.add(Group.objects.get_or_create(name=GRID_WORKERS)[0])
    return user


def test_video_talk_has_player_with_captions_and_no_autoplay(client, talk):
    response = client.get(talk.url)
    assert response.status_code == 200
    tree = parse(response)
    video = tree.find(".//h:video", NS)
    assert video is not None
    assert "controls" in video.attrib
    assert video.get("preload") == "metadata"
    assert "autoplay" not in video.attrib
    assert video.get("poster", "").endswith(".jpg")
    source = video.find("h:source", NS)
    assert source.get("src") == talk.url + "media/"
    assert source.get("type") == "video/webm"
    track = video.find("h:track", NS)
    assert track.get("kind") == "captions"
    assert track.get("srclang") == "zh"
    assert track.get("label") == "中文字幕"
    assert "default" in track.attrib
    assert track.get("src").startswith(talk.url)
    downloads = [a.get("href") for a in tree.iterfind(".//h:figcaption//h:a", NS)]
    assert talk.url + "media/" in downloads
    assert talk.media.url not in response.content.decode()


def test_video_poster_is_a_rendition_sized_for_the_player(client, talk, settings):
    talk.poster = make_image(title="大幅封面", size=(1920, 1080))
    talk.save_revision().publish()
    poster = parse(client.get(talk.url)).find(".//h:video", NS).get("poster")
    path = Path(settings.MEDIA_ROOT) / poster.removeprefix(settings.MEDIA_URL)
    with PILImage.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (960, 540)
    assert path.stat().st_size < 0.5 * talk.poster.file.size


def test_audio_talk_uses_audio_element_with_browser_type(client, talk_index):
    talk = add_talk(talk_index, "老年人情绪调适", media="audio", duration_seconds=1800)
    tree = parse(client.get(talk.url))
    audio = tree.find(".//h:audio", NS)
    assert audio is not None and "autoplay" not in audio.attrib
    assert audio.find("h:source", NS).get("type") == "audio/wav"
    assert tree.find(".//h:video", NS) is None
    assert "30 分钟" in client.get(talk.url).content.decode()


def test_transcript_is_readable_in_details_without_playing(client, talk):
    tree = parse(client.get(talk.url))
    details = tree.find(".//h:details", NS)
    heading = details.find("h:summary/h:h2", NS)
    assert heading is not None and heading.text.strip() == "文字稿"
    assert "同一时间起床" in "".join(details.itertext())


def test_talk_page_shows_hotline_emergency_numbers_and_booking(client, talk):
    html = client.get(talk.url).content.decode()
    assert 'href="tel:12356"' in html
    assert "110" in html and "120" in html
    tree = parse(client.get(talk.url))
    booking = [
        a for a in tree.iterfind(".//h:a", NS) if a.get("href") == reverse("counseling:rooms")
    ]
    assert booking and "预约心理咨询" in "".join(booking[0].itertext())


def test_captions_are_served_same_origin_as_webvtt(client, talk):
    track_src = parse(client.get(talk.url)).find(".//h:track", NS).get("src")
    response = client.get(track_src)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "text/vtt"
    assert "attachment" not in response.get("Content-Disposition", "")
    assert response.content.startswith(b"WEBVTT")
    assert "先听对方把话说完" in response.content.decode()


def test_captions_route_is_404_without_captions(client, talk):
    talk.captions = None
    talk.save()
    assert client.get(talk.url + "captions/").status_code == 404


def test_anonymous_visitor_is_sent_to_login_for_staff_talk(client, staff_talk):
    response = client.get(staff_talk.url)
    assert response.status_code == 302
    assert "login" in response["Location"] and f"next={staff_talk.url}" in response["Location"]
    assert "网格员压力疏导" not in response.content.decode()
    assert client.get(staff_talk.url + "captions/").status_code == 302


def test_grid_worker_can_watch_staff_talk(client, staff_talk, grid_worker):
    client.force_login(grid_worker)
    response = client.get(staff_talk.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "网格员压力疏导" in html and "<video" in html
    assert client.get(staff_talk.url + "captions/").status_code == 200


def test_logged_in_user_outside_the_group_cannot_watch_staff_talk(client, staff_talk):
    client.force_login(User.objects.create_user("jumin"))
    assert client.get(staff_talk.url).status_code == 302


def media_bytes(media):
    with media.file.open("rb") as media_file:
        return media_file.read()


def test_public_talk_media_is_served_from_the_talk_address(client, talk):
    response = client.get(talk.url + "media/")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/webm"
    assert b"".join(response.streaming_content) == media_bytes(talk.media)
    # Kept by the browser for an hour instead of fetched again on every visit.
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=3600"}
    captions = client.get(talk.url + "captions/")
    assert set(captions["Cache-Control"].split(", ")) == {"public", "max-age=3600"}


def test_media_route_offers_byte_ranges(client, talk):
    response = client.get(talk.url + "media/")
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == len(media_bytes(talk.media))


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # what Safari asks first is bytes=0-1
        ("bytes=0-1", 0, 1),
        ("bytes=100-", 100, None),  # from a position to the end: seeking
        ("bytes=-50", -50, None),  # the last 50 bytes: players read the index there
        ("bytes=5000-999999999", 5000, None),  # past the end: up to the end
    ],
)
def test_media_route_answers_a_range_with_partial_content(client, talk, header, first, last):
    whole = media_bytes(talk.media)
    expected = whole[first : None if last is None else last + 1]
    start = first % len(whole)
    response = client.get(talk.url + "media/", headers={"range": header})
    assert response.status_code == 206
    assert response["Content-Type"] == "video/webm"
    assert response["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(whole)}"
    assert response["Content-Length"] == str(len(expected))
    assert response["Accept-Ranges"] == "bytes"
    assert b"".join(response.streaming_content) == expected


def test_audio_talk_answers_ranges_too(client, talk_index):
    talk = add_talk(talk_index, "老年人情绪调适", media="audio")
    whole = media_bytes(talk.media)
    response = client.get(talk.url + "media/", headers={"range": "bytes=44-"})
    assert response.status_code == 206
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content) == whole[44:]


@pytest.mark.parametrize("header", ["bytes=999999-", "bytes=-0"])
def test_media_route_refuses_a_range_outside_the_file(client, talk, header):
    size = len(media_bytes(talk.media))
    response = client.get(talk.url + "media/", headers={"range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=0-9,20-29", "items=0-9", "bytes=9-0", "bytes=x-"])
def test_media_route_sends_the_whole_file_for_ranges_it_does_not_serve(client, talk, header):
    response = client.get(talk.url + "media/", headers={"range": header})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == media_bytes(talk.media)


def test_media_range_honours_if_range(client, talk):
    """A client resuming with a copy it has validated gets the rest; one whose
    copy is out of date gets the whole file again."""
    whole = media_bytes(talk.media)
    modified = client.get(talk.url + "media/")["Last-Modified"]
    current = client.get(talk.url + "media/", headers={"range": "bytes=10-", "if-range": modified})
    assert current.status_code == 206
    assert b"".join(current.streaming_content) == whole[10:]
    stale = client.get(
        talk.url + "media/",
        headers={"range": "bytes=10-", "if-range": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )
    assert stale.status_code == 200
    assert b"".join(stale.streaming_content) == whole


def test_range_requests_for_a_staff_talk_still_need_a_login(client, staff_talk, grid_worker):
    response = client.get(staff_talk.url + "media/", headers={"range": "bytes=0-99"})
    assert response.status_code == 302
    assert "login" in response["Location"]
    client.force_login(grid_worker)
    response = client.get(staff_talk.url + "media/", headers={"range": "bytes=0-99"})
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == media_bytes(staff_talk.media)[:100]
    assert "private" in response["Cache-Control"]


def test_media_route_hands_the_file_to_nginx_when_accel_redirect_is_on(client, talk, settings):
    settings.MEDIA_ACCEL_REDIRECT = True
    response = client.get(talk.url + "media/")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == talk.media.file.url
    assert response["Content-Type"] == "video/webm"
    assert response.content == b""


def test_anonymous_visitor_gets_no_bytes_of_a_staff_talk(client, staff_talk):
    secret = media_bytes(staff_talk.media)
    for route in ("media/", "captions/"):
        response = client.get(staff_talk.url + route)
        assert response.status_code == 302
        assert "login" in response["Location"]
        assert not getattr(response, "streaming", False)
        assert secret not in response.content and b"WEBVTT" not in response.content


def test_grid_worker_gets_the_staff_talk_media_and_captions(client, staff_talk, grid_worker):
    client.force_login(grid_worker)
    response = client.get(staff_talk.url + "media/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == media_bytes(staff_talk.media)
    assert "private" in response["Cache-Control"]
    captions = client.get(staff_talk.url + "captions/")
    assert captions.status_code == 200 and captions.content.startswith(b"WEBVTT")


def test_staff_talk_captions_document_link_is_closed_to_anonymous(client, staff_talk, grid_worker):
    document = staff_talk.captions
    document.refresh_from_db()
    assert document.collection.get_view_restrictions().exists()
    response = client.get(document.url)
    assert response.status_code != 200
    assert b"WEBVTT" not in response.content
    client.force_login(grid_worker)
    response = client.get(document.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"WEBVTT")


def test_public_talk_captions_document_stays_open(client, talk):
    assert client.get(talk.captions.url).status_code == 200


def test_restrict_to_staff_is_idempotent(staff_talk):
    restrict_to_staff(staff_talk)
    restriction = PageViewRestriction.objects.get(page=staff_talk)
    assert restriction.restriction_type == PageViewRestriction.GROUPS
    assert list(restriction.groups.values_list("name", flat=True)) == [GRID_WORKERS]


def card_titles(response):
    tree = parse(response)
    section = tree.find(".//h:section[@aria-labelledby='talk-list-heading']", NS)
    return ["".join(h.itertext()).strip() for h in section.iterfind(".//h:h3", NS)]


def test_index_lists_public_talks_newest_recording_first(client, talk_index, talk, staff_talk):
    newer = add_talk(talk_index, "家庭沟通", recorded_on=datetime.date(2026, 7, 1))
    response = client.get(talk_index.url)
    assert response.status_code == 200
    assert card_titles(response) == [newer.title, talk.title]
    assert staff_talk.title not in response.content.decode()


def test_index_shows_staff_talks_to_grid_workers_only(client, talk_index, staff_talk, grid_worker):
    assert staff_talk.title not in client.get(talk_index.url).content.decode()
    client.force_login(grid_worker)
    html = client.get(talk_index.url).content.decode()
    assert "工作人员专题讲座" in html and staff_talk.title in html


def test_index_filters_by_topic(client, talk_index, talk):
    add_talk(talk_index, "青少年考试焦虑", tags=["考试焦虑"])
    response = client.get(talk_index.url, {"tag": "考试焦虑"})
    assert card_titles(response) == ["青少年考试焦虑"]
    assert client.get(talk_index.url, {"tag": "no-such-topic"}).status_code == 404


def test_card_meta_has_no_stray_separator_without_media(client, talk_index):
    add_talk(talk_index, "整理中的讲座", media=None)
    tree = parse(client.get(talk_index.url))
    meta = tree.find(".//h:p[@class='card__meta']", NS)
    assert not "".join(meta.itertext()).strip().startswith("·")


def test_index_pagination_keeps_the_topic(client, talk_index):
    for day in range(1, 14):
        add_talk(
            talk_index,
            f"睡眠讲座{day:02d}",
            recorded_on=datetime.date(2026, 1, day),
            tags=["睡眠"],
            media=None,
        )
    response = client.get(talk_index.url, {"tag": "睡眠"})
    assert "?tag=%E7%9D%A1%E7%9C%A0&amp;page=2" in response.content.decode()


def test_index_paginates_and_survives_bad_page_numbers(client, talk_index):
    for day in range(1, 14):
        add_talk(talk_index, f"讲座{day:02d}", recorded_on=datetime.date(2026, 1, day), media=None)
    assert len(card_titles(client.get(talk_index.url))) == 12
    assert card_titles(client.get(talk_index.url, {"page": 2})) == ["讲座01"]
    for bad in ["abc", "0", "-3", "999", "1.5"]:
        assert client.get(talk_index.url, {"page": bad}).status_code == 200


def test_featured_talks_are_public_featured_and_newest_first(talk_index, staff_talk):
    add_talk(talk_index, "旧的精选", featured=True, recorded_on=datetime.date(2025, 1, 1))
    add_talk(talk_index, "新的精选", featured=True, recorded_on=datetime.date(2026, 9, 1))
    add_talk(talk_index, "普通讲座", recorded_on=datetime.date(2026, 10, 1))
    staff_talk.featured = True
    staff_talk.save()
    assert [t.title for t in featured_talks()] == ["新的精选", "旧的精选"]
    assert len(featured_talks(limit=1)) == 1


def test_search_text_covers_summary_transcript_speaker_and_topics(talk):
    text = " ".join(talk.search_text_parts())
    for expected in ["内容简介", "同一时间起床", "周静怡", "睡眠", "压力管理"]:
        assert expected in text
    assert talk.get_meta_image() == talk.poster


def test_duration_prefers_the_media_file(talk_index):
    video = add_talk(talk_index, "有时长的视频", duration_seconds=600)
    audio = add_talk(talk_index, "无时长的录音", media="audio", duration_seconds=600)
    assert video.duration == 3.0
    assert audio.duration == 600


def test_index_query_count_does_not_grow_with_talks(client, talk_index, speaker):
    for n in range(3):
        add_talk(talk_index, f"讲座甲{n}", speaker=speaker, tags=["睡眠", f"话题{n}"])
    few = render_queries(client, talk_index.url)
    for n in range(4):
        add_talk(talk_index, f"讲座乙{n}", speaker=speaker, tags=["家庭", f"主题{n}", "沟通"])
    many = render_queries(client, talk_index.url)
    assert few == many
    assert render_queries(client, talk_index.url, cold=False) <= 12


def test_talk_page_query_count_is_small_and_fixed(client, talk_index, speaker):
    speaker.photo = make_image(title="主讲人照片", size=(200, 200))
    speaker.save()
    one = add_talk(talk_index, "一个话题", speaker=speaker, tags=["睡眠"])
    several = add_talk(
        talk_index, "多个话题", speaker=speaker, tags=["睡眠", "压力", "家庭", "沟通"]
    )
    assert render_queries(client, one.url) == render_queries(client, several.url)
    assert render_queries(client, several.url, cold=False) <= 12


def test_seed_twice_builds_the_same_site(client, home):
    demo.talks.seed(home)
    models = [TalkPage, TalkIndexPage, Speaker, get_media_model(), PageViewRestriction]
    models += [get_image_model(), get_document_model()]
    counts = {model: model.objects.count() for model in models}
    demo.talks.seed(home)
    assert {model: model.objects.count() for model in models} == counts
    assert counts[TalkPage] == 6 and counts[Speaker] == 4

    index = TalkIndexPage.objects.get(slug="talks")
    assert index.show_in_menus
    public = TalkPage.objects.live().public()
    assert public.count() == 4
    assert set(TalkPage.objects.not_public().values_list("slug", flat=True)) == {
        "grid-worker-stress-relief",
        "talking-with-agitated-residents",
    }
    for talk in TalkPage.objects.select_related("media", "captions"):
        assert talk.poster_id and talk.captions_id and talk.transcript
        assert talk.media.duration > 0
        with talk.media.file.open("rb") as media_file:
            head = media_file.read(12)
        assert head[:4] in (b"RIFF", b"\x1aE\xdf\xa3") or head[4:8] == b"ftyp"
        if talk.media.type == "audio":
            with talk.media.file.open("rb") as media_file, wave.open(media_file) as wav:
                assert talk.media.duration == wav.getnframes() / wav.getframerate()
    captions = client.get(public.first().url + "captions/")
    assert captions.status_code == 200 and captions.content.startswith(b"WEBVTT")
    assert len(featured_talks()) == 3


def test_saving_a_staff_audience_talk_restricts_it_to_grid_workers(talk_index):
    talk = add_talk(talk_index, "社区干部沟通培训", audience=TalkPage.Audience.STAFF)
    restriction = PageViewRestriction.objects.get(page=talk)
    assert list(restriction.groups.values_list("name", flat=True)) == [GRID_WORKERS]
    talk.captions.refresh_from_db()
    assert talk.captions.collection.get_view_restrictions().exists()
    assert not TalkPage.objects.live().public().filter(pk=talk.pk).exists()


def test_saving_a_public_talk_adds_no_restriction(talk):
    talk.save_revision().publish()
    assert not PageViewRestriction.objects.filter(page=talk).exists()
    talk.captions.refresh_from_db()
    assert not talk.captions.collection.get_view_restrictions().exists()


def test_publishing_a_staff_talk_from_the_admin_keeps_it_from_visitors(client, talk_index):
    admin = User.objects.create_superuser("admin", password="not-used-in-tests")
    log_in_verified(client, admin)
    add_url = reverse("wagtailadmin_pages:add", args=["talks", "talkpage", talk_index.pk])
    response = client.post(
        add_url,
        {
            "title": "网格员入户走访安全",
            "slug": "home-visit-safety",
            "summary": "入户走访时如何保护自己。",
            "recorded_on": "2026-11-02",
            "audience": TalkPage.Audience.STAFF,
            "tags": "网格员",
            "transcript": rich_text("<p>两人同行。</p>"),
            "action-publish": "action-publish",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    talk = TalkPage.objects.get(slug="home-visit-safety")
    assert talk.live
    client.logout()
    response = client.get(talk.url)
    assert response.status_code == 302 and "login" in response["Location"]
    assert talk.title not in client.get(talk_index.url).content.decode()


def test_staff_login_page_uses_the_site_layout_in_chinese(client, staff_talk):
    login_url = client.get(staff_talk.url)["Location"]
    response = client.get(login_url)
    assert response.status_code == 200
    tree = parse(response)
    assert tree.get("lang") == "zh-Hans"
    assert tree.find(".//h:header[@class='site-header']", NS) is not None
    assert tree.find(".//h:meta[@name='viewport']", NS) is not None
    labels = {
        label.get("for"): "".join(label.itertext()) for label in tree.iterfind(".//h:label", NS)
    }
    assert labels["id_username"] == "用户名" and labels["id_password"] == "密码"
    assert tree.find(".//h:input[@name='next']", NS).get("value") == staff_talk.url


def test_failed_staff_login_is_announced_and_a_grid_worker_reaches_the_talk(
    client, staff_talk, grid_worker
):
    login_url = reverse("wagtailcore_login")
    response = client.post(
        login_url, {"username": "wangge", "password": "wrong", "next": staff_talk.url}
    )
    assert response.status_code == 200
    tree = parse(response)
    alert = tree.find(".//h:*[@role='alert']", NS)
    assert alert is not None and "登录未成功" in "".join(alert.itertext())
    assert tree.find(".//h:title", NS).text.startswith("登录未成功")
    response = client.post(
        login_url,
        {"username": "wangge", "password": "not-used-in-tests", "next": staff_talk.url},
    )
    assert response.status_code == 302 and response["Location"] == staff_talk.url
    assert client.get(staff_talk.url).status_code == 200


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (None, ""),
        (0, ""),
        (3.0, "3 秒"),
        (1800, "30 分钟"),
        (725, "12 分 5 秒"),
        (3900, "1 小时 5 分"),
    ],
)
def test_duration_is_shown_in_words_residents_read(seconds, shown):
    assert duration_display(seconds) == shown


@pytest.fixture
def development_urls(settings):
    """The URLs `make run` serves (DEBUG on): portal.urls built again with DEBUG."""
    settings.DEBUG = True
    importlib.reload(portal.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(portal.urls)
    clear_url_caches()


def test_in_development_staff_recordings_are_not_served_by_their_file_address(
    client, staff_talk, grid_worker, development_urls
):
    secret = media_bytes(staff_talk.media)
    for path in (
        staff_talk.media.file.url,
        staff_talk.captions.file.url,
        "/media/images/../media/" + staff_talk.media.file.name.split("/", 1)[1],
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert secret not in response.content
    # As in production, the talk page is the way in, for those allowed.
    assert client.get(staff_talk.url + "media/").status_code == 302
    client.force_login(grid_worker)
    response = client.get(staff_talk.url + "media/")
    assert b"".join(response.streaming_content) == secret


def test_in_development_public_images_are_served_from_media(client, talk, development_urls):
    response = client.get(talk.poster.file.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:3] in (b"\xff\xd8\xff", b"\x89PN")


# --- Staff-only files never reach the public ------------------------------------------


def talk_form(title, slug, action, **files):
    data = {
        "title": title,
        "slug": slug,
        "summary": "内容简介。",
        "recorded_on": "2026-11-02",
        "audience": TalkPage.Audience.RESIDENTS,
        "tags": "",
        "transcript": rich_text("<p>文字稿。</p>"),
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
        "comments-MIN_NUM_FORMS": "0",
        "comments-MAX_NUM_FORMS": "1000",
        **{name: str(item.pk) for name, item in files.items()},
    }
    data[action] = "1"
    return data


@pytest.mark.parametrize("field", ["media", "captions", "poster"])
def test_an_editor_cannot_submit_a_public_talk_with_a_staff_only_file(
    client, talk_index, staff_talk, field
):
    editor = User.objects.create_user("bianji3", password="not-used-in-tests")
    editor.groups.add(Group.objects.get(name=EDITORS))
    log_in_verified(client, editor)
    add_url = reverse("wagtailadmin_pages:add", args=["talks", "talkpage", talk_index.pk])
    staff_file = getattr(staff_talk, field)

    response = client.post(
        add_url, talk_form("借用录音", "borrowed", "action-submit", **{field: staff_file})
    )

    assert response.status_code == 200
    assert "仅限网格员" in response.content.decode()
    assert not TalkPage.objects.filter(slug="borrowed").exists()


def test_publishing_a_public_talk_with_a_staff_only_recording_is_refused(talk, staff_talk):
    talk.media = staff_talk.media
    with pytest.raises(ValidationError):
        talk.save_revision()  # saving is refused
    # A draft that got past saving (the file moved into the staff collection
    # after it was written) is refused when it is published.
    revision = talk.save_revision(clean=False)

    with pytest.raises(ValidationError) as refused:
        revision.publish()

    assert "media" in refused.value.message_dict
    talk.refresh_from_db()
    assert talk.media_id != staff_talk.media_id


def test_a_staff_talk_cannot_take_a_file_a_public_talk_shows(talk, talk_index):
    staff = TalkPage(
        title="培训",
        slug="training",
        summary="培训。",
        recorded_on=datetime.date(2026, 5, 1),
        audience=TalkPage.Audience.STAFF,
        media=talk.media,
    )
    with pytest.raises(ValidationError) as refused:
        talk_index.add_child(instance=staff)
    assert "media" in refused.value.message_dict
    talk.media.refresh_from_db()
    assert not talk.media.collection.get_view_restrictions().exists()


def test_a_public_page_pointing_at_a_staff_file_serves_it_to_staff_only(
    client, talk, staff_talk, grid_worker
):
    # However it came about (a file moved into the staff collection later), the
    # public page does not hand the file out.
    TalkPage.objects.filter(pk=talk.pk).update(media=staff_talk.media, captions=staff_talk.captions)
    secret = media_bytes(staff_talk.media)
    for route in ("media/", "captions/"):
        response = client.get(talk.url + route)
        assert response.status_code == 404
        assert secret not in response.content and b"WEBVTT" not in response.content
    client.force_login(grid_worker)
    assert client.get(talk.url + "media/").status_code == 200


def test_a_staff_talks_poster_gets_a_file_name_nobody_can_guess(talk_index):
    poster = make_image(title="网格员减压封面", size=(320, 180))
    old_original = poster.file.name
    old_rendition = poster.get_rendition("fill-160x90").file.name
    storage = poster.file.storage
    assert storage.exists(old_original) and storage.exists(old_rendition)

    talk = add_talk(talk_index, "网格员心理减压", audience=TalkPage.Audience.STAFF)
    talk.poster = poster
    talk.save()

    poster.refresh_from_db()
    assert poster.collection.get_view_restrictions().exists()
    name = Path(poster.file.name).name
    assert re.fullmatch(r"staff-[0-9a-f]{32}\.jpg", name)
    # Nothing is left under the addresses that could be guessed or were seen.
    assert not storage.exists(old_original)
    assert not storage.exists(old_rendition)
    assert not poster.renditions.exclude(file__contains="staff-").exists()
    assert "staff-" in poster.get_rendition("fill-160x90").file.name
    with poster.file.open("rb") as content:
        assert content.read(3) == b"\xff\xd8\xff"
    restrict_to_staff(talk)  # again: the name stays
    poster.refresh_from_db()
    assert Path(poster.file.name).name == name


def test_a_poster_whose_name_merely_contains_staff_is_still_renamed(talk_index):
    poster = make_image(title="网格员封面")
    with poster.file.open("rb") as original:
        content = original.read()
    size = poster.width, poster.height
    poster.file.save("grid-staff-poster.jpg", ContentFile(content), save=False)
    poster.width, poster.height = size
    poster.save()
    assert Path(poster.file.name).name.startswith("grid-staff-poster")
    talk = add_talk(talk_index, "网格员沟通", audience=TalkPage.Audience.STAFF)
    talk.poster = poster
    talk.save()
    poster.refresh_from_db()
    assert re.fullmatch(r"staff-[0-9a-f]{32}\.jpg", Path(poster.file.name).name)


@pytest.mark.parametrize("dialog", [False, True])
def test_approving_a_talk_whose_recording_became_staff_only_is_refused_with_a_message(
    client, talk_index, dialog
):
    """Submitted while its recording was public; the recording moved to the staff
    collection before the reviewer approved."""
    talk = add_talk(talk_index, "公开讲座")
    talk.unpublish()
    editor = User.objects.create_user("bianji4", password="not-used-in-tests")
    editor.groups.add(Group.objects.get(name=EDITORS))
    reviewer = User.objects.create_user("shenhe4", password="not-used-in-tests")
    reviewer.groups.add(Group.objects.get(name=REVIEWERS))
    talk.save_revision(user=editor)
    talk.get_workflow().start(talk, editor)
    talk.media.collection = staff_collection()
    talk.media.save()
    log_in_verified(client, reviewer)
    task_state = TalkPage.objects.get(pk=talk.pk).current_workflow_task_state
    url = reverse("wagtailadmin_pages:workflow_action", args=[talk.pk, "approve", task_state.pk])
    headers = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"} if dialog else {}

    response = client.post(url, {"comment": "同意"}, **headers)

    edit_url = reverse("wagtailadmin_pages:edit", args=[talk.pk])
    if dialog:
        assert response.json() == {"step": "success", "redirect": edit_url}
    else:
        assert response.status_code == 302 and response["Location"] == edit_url
    talk.refresh_from_db()
    assert not talk.live
    assert talk.current_workflow_state.status == "in_progress"
    page = client.get(edit_url).content.decode()
    assert "没有发布" in page and "仅限网格员" in page

"""Captions a resident can read on a phone: over a video at reading size in both
looks, and as a line under an audio talk's player (browsers draw none there)."""

import re

import pytest
from playwright.sync_api import expect

from portal.talks.models import TalkPage

CUE = re.compile(r"(\d\d):(\d\d):(\d\d\.\d{3}) --> [\d:.]+\n(.+)")


def talk_url(kind):
    talk = TalkPage.objects.live().filter(media__type=kind).order_by("path").first()
    return talk.url


def first_cue(page):
    """The first cue of the page's captions file, read from the file itself."""
    src = page.locator(".talk-player track").get_attribute("src")
    body = page.request.get(src).text()
    hours, minutes, seconds, text = CUE.search(body).groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds), text.strip()


def seek(page, media, seconds):
    page.evaluate(
        """([selector, seconds]) => new Promise(resolve => {
            const media = document.querySelector(selector);
            media.addEventListener("seeked", resolve, {once: true});
            media.currentTime = seconds;
        })""",
        [media, seconds],
    )


def wait_for_cues(page, media):
    page.wait_for_function(
        """selector => {
            const track = document.querySelector(selector).textTracks[0];
            return track && track.cues && track.cues.length > 0;
        }""",
        arg=media,
    )


def cue_font_size(page):
    """The computed font size of the caption Chromium draws over the video: the
    cue lives in the player's own shadow tree, which the DevTools protocol opens."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    nodes = [session.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]]
    while nodes:
        node = nodes.pop()
        attributes = node.get("attributes", [])
        if dict(zip(attributes[::2], attributes[1::2], strict=True)).get("pseudo") == "cue":
            style = session.send("CSS.getComputedStyleForNode", {"nodeId": node["nodeId"]})
            size = next(p["value"] for p in style["computedStyle"] if p["name"] == "font-size")
            return float(size.removesuffix("px"))
        for key in ("children", "shadowRoots", "pseudoElements"):
            nodes.extend(node.get(key, []))
    raise AssertionError("no caption is drawn over the video")


@pytest.mark.parametrize(
    "viewport, elder, smallest",
    # On a desktop the browser's own size (about 21px there) is kept.
    [("phone", False, 16), ("phone", True, 24), ("desktop", False, 20)],
)
def test_video_captions_are_drawn_at_reading_size(new_page, db_access, viewport, elder, smallest):
    page = new_page(viewport, elder=elder)
    page.goto(talk_url("video"))
    page.wait_for_load_state("load")
    wait_for_cues(page, "video")
    start, _ = first_cue(page)
    seek(page, "video", start + 0.1)
    expect(page.locator("video")).to_be_visible()
    page.wait_for_function("() => document.querySelector('video').textTracks[0].activeCues.length")
    assert cue_font_size(page) >= smallest


def test_audio_talk_shows_the_line_being_spoken_under_the_player(new_page, db_access):
    page = new_page("phone")
    page.goto(talk_url("audio"))
    caption = page.locator(".talk-caption")
    expect(caption).to_be_visible()
    expect(caption).to_contain_text("播放时,这里显示正在讲的话。")
    wait_for_cues(page, "audio")

    start, text = first_cue(page)
    seek(page, "audio", start + 0.1)
    expect(caption.locator(".talk-caption__text")).to_have_text(text)
    assert (
        caption.evaluate("el => el.getBoundingClientRect().top")
        > page.locator("audio").evaluate("el => el.getBoundingClientRect().bottom") - 1
    )


def test_without_javascript_the_transcript_serves_instead(new_page, db_access):
    page = new_page("phone", java_script_enabled=False)
    page.goto(talk_url("audio"))
    expect(page.locator(".talk-caption")).to_be_hidden()
    expect(page.locator("details.talk-transcript summary")).to_be_visible()

"""A talk recording served by Django (no nginx in front) can be sought in a real
browser: Chromium, like Safari, lets a player seek only in a file whose server
answers byte ranges."""

import pytest
from playwright.sync_api import expect

PLAYER = "document.querySelector('.talk-player video, .talk-player audio')"


def test_resident_can_seek_in_a_talk_recording(new_page):
    page = new_page("phone")
    page.goto("/")
    page.get_by_role("link", name="全部讲座").click()
    page.locator("main .card-list a").first.click()
    expect(page.locator(".talk-player video, .talk-player audio")).to_have_count(1)
    page.wait_for_function(f"() => {PLAYER}.readyState >= 1")

    # Without Range support Chromium reports a seekable range that ends at 0.
    duration, seekable_end = page.evaluate(
        f"() => {{ const m = {PLAYER}; return [m.duration, m.seekable.end(0)]; }}"
    )
    assert duration > 1
    assert seekable_end == duration

    page.evaluate(
        f"""() => new Promise(resolve => {{
            const m = {PLAYER};
            m.addEventListener('seeked', resolve, {{once: true}});
            m.currentTime = m.duration / 2;
        }})"""
    )
    assert page.evaluate(f"() => {PLAYER}.currentTime") == pytest.approx(duration / 2, abs=0.25)

"""Screenshots of the main pages on a phone and a desktop, for the README.

Every run takes them, so the step is known to work; only with
UPDATE_SCREENSHOTS=1 do they replace the tracked files in docs/screenshots/."""

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from portal.news.models import NewsPage
from portal.talks.models import TalkPage
from tests.factories import sms_code

from .conftest import VIEWPORTS

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# A phone shot shows two screens of the page, a desktop shot one and a half.
SCREENS = {"phone": 2, "desktop": 1.5}


@pytest.fixture
def screenshot_dir(tmp_path):
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path


def shoot(page, viewport, name, directory):
    size = VIEWPORTS[viewport]
    height = min(
        int(size["height"] * SCREENS[viewport]), page.evaluate("document.body.scrollHeight")
    )
    path = directory / f"{name}-{viewport}.png"
    png = page.screenshot(
        full_page=True,
        clip={"x": 0, "y": 0, "width": size["width"], "height": height},
        animations="disabled",
        caret="hide",
    )
    # 256 colours keep text sharp and the tracked files small (about half size).
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def test_screenshots_of_the_main_pages(new_page, viewport, db_access, screenshot_dir):
    news = NewsPage.objects.live().order_by("-date").first()
    talk = TalkPage.objects.live().exclude(audience=TalkPage.Audience.STAFF).first()
    page = new_page(viewport)
    taken = []

    for name, url in [("home", "/"), ("news-page", news.url), ("talk-page", talk.url)]:
        page.goto(url, wait_until="networkidle")
        taken.append(shoot(page, viewport, name, screenshot_dir))

    page.goto("/counseling/")
    page.locator("a.room__book").first.click()
    page.locator("a.choice").first.click()
    page.locator("a.choice").first.click()
    page.get_by_label("称呼").fill("张女士")
    mobile = "13612345678" if viewport == "phone" else "13612345679"
    page.get_by_label("手机号码").fill(mobile)
    page.wait_for_load_state("networkidle")
    taken.append(shoot(page, viewport, "booking-form", screenshot_dir))

    page.get_by_role("button", name="下一步:获取短信验证码").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("输入短信验证码")
    page.get_by_label("短信验证码").fill(sms_code(mobile))
    page.wait_for_load_state("networkidle")
    taken.append(shoot(page, viewport, "booking-code", screenshot_dir))
    page.get_by_role("button", name="确认预约").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("预约成功")
    page.wait_for_load_state("networkidle")
    taken.append(shoot(page, viewport, "booking-done", screenshot_dir))

    for path in taken:
        assert path.stat().st_size > 5_000, f"{path.name} looks empty"

"""What residents and staff do on the site, in a real browser, each on a phone
(360×740) and on a desktop (1280×900)."""

import re

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from counseling.models import Booking
from portal.news.models import NewsPage
from tests.factories import authenticator_code, authenticator_for, sms_code

from .conftest import EDITOR, REVIEWER, STAFF_PASSWORD

MOBILES = {"phone": "13912340001", "desktop": "13912340002"}


def test_resident_reaches_a_news_article_from_home_and_follows_its_tag(page):
    page.goto("/")
    page.get_by_role("link", name="更多新闻").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("新闻"))

    article_link = page.locator("main .card-list a").first
    title = article_link.inner_text().strip()
    article_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    tag_link = page.locator("main .tag-list a.tag").first
    tag = tag_link.inner_text().strip()
    tag_link.click()
    expect(page).to_have_url(re.compile(r"\?tag="))
    expect(page.locator("main .tag-list a[aria-current=page]")).to_have_text(tag)
    expect(page.locator("main .card-list").get_by_role("link", name=title)).to_be_visible()


def test_resident_searches_from_the_header_and_opens_a_result(page):
    page.goto("/")
    search = page.get_by_role("search", name="全站搜索")
    search.get_by_role("searchbox").fill("心理")
    search.get_by_role("button", name="搜索").click()
    expect(page.get_by_role("status")).to_contain_text("共找到")

    result = page.locator(".search-results h2 a").first
    title = result.inner_text().strip()
    assert "心理" in page.locator(".search-results").inner_text()
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_resident_plays_a_talk_with_captions_and_reads_the_transcript(page):
    page.goto("/")
    page.get_by_role("link", name="全部讲座").click()
    page.locator("main .card-list a").first.click()

    player = page.locator(".talk-player video, .talk-player audio")
    expect(player).to_have_count(1)
    assert player.get_attribute("autoplay") is None
    # readyState ≥ 1 (HAVE_METADATA): the browser fetched and understood the file.
    page.wait_for_function(
        "() => document.querySelector('.talk-player video, .talk-player audio').readyState >= 1"
    )
    # The default captions track loads (readyState 2) and has cues.
    page.wait_for_function(
        """() => {
            const media = document.querySelector('.talk-player video, .talk-player audio');
            const track = media.querySelector('track');
            const cues = media.textTracks[0] && media.textTracks[0].cues;
            return track.readyState === 2 && cues && cues.length > 0;
        }"""
    )
    assert player.evaluate("m => m.error") is None

    transcript = page.locator("details.talk-transcript")
    expect(transcript).not_to_have_attribute("open", "")
    transcript.locator("summary").click()
    expect(transcript).to_have_attribute("open", "")
    expect(transcript.locator(".prose")).to_be_visible()


def press_tab_until(page, condition, limit=80, backwards=False):
    """Move the keyboard focus with Tab (or Shift+Tab) until the focused
    element satisfies the JavaScript condition `el => ...`."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"({condition})(document.activeElement)"):
            return
    raise AssertionError(f"{condition} never got the focus after {limit} presses of {key}")


def focus_link(page, text, css="a"):
    press_tab_until(
        page, f"el => el.matches({css!r}) && el.textContent.trim().startsWith({text!r})"
    )


def test_resident_books_by_keyboard_and_cancels_with_the_mobile_and_its_code(
    page, new_page, viewport, db_access
):
    page.goto("/")
    focus_link(page, "预约心理咨询", "main a.button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("心理咨询室")

    focus_link(page, "预约", "a.room__book")
    page.keyboard.press("Enter")
    expect(page.locator(".booking-step")).to_contain_text("选择日期")

    press_tab_until(page, "el => el.matches('a.choice')")
    page.keyboard.press("Enter")
    expect(page.locator(".booking-step")).to_contain_text("选择时间")

    press_tab_until(page, "el => el.matches('a.choice')")
    page.keyboard.press("Enter")
    expect(page.locator(".booking-step")).to_contain_text("填写信息")

    press_tab_until(page, "el => el.id === 'id_name'")
    page.keyboard.type("王阿姨")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_mobile"
    page.keyboard.type(MOBILES[viewport])
    # The visit type is already 首次咨询; choose it again with Space to prove the
    # radio group is reachable.
    press_tab_until(page, "el => el.name === 'visit_type'")
    page.keyboard.press("Space")
    press_tab_until(page, "el => el.type === 'submit' && el.closest('.booking-form')")
    page.keyboard.press("Enter")

    # The phone gets a text with a code; the resident types it in.
    expect(page.get_by_role("heading", level=1)).to_have_text("输入短信验证码")
    expect(page.locator(".booking-step")).to_contain_text("验证手机")
    press_tab_until(page, "el => el.id === 'id_code'")
    page.keyboard.type(sms_code(MOBILES[viewport]))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "确认预约"
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("预约成功")
    reference = re.sub(r"\D", "", page.locator(".reference__code [aria-hidden]").inner_text())
    assert len(reference) == 8
    booking = Booking.objects.get(reference=reference)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.mobile == MOBILES[viewport]

    # Later, on another phone: the mobile and the code sent to it show the booking.
    other = new_page(viewport)
    other.goto("/yuyue/")
    other.get_by_label("手机号码").fill(MOBILES[viewport])
    other.get_by_role("button", name="获取验证码").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("输入短信验证码")
    other.get_by_label("短信验证码").fill(sms_code(MOBILES[viewport]))
    other.get_by_role("button", name="查看我的预约").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("我的预约")
    expect(other.locator(".booking-list__item")).to_have_count(1)
    other.get_by_role("button", name=re.compile("查看或更改")).click()
    expect(other.locator(".reference__code")).to_have_text(page_reference_display(reference))
    other.get_by_role("link", name="取消预约").click()
    other.get_by_role("button", name="确认取消预约").click()
    expect(other.locator(".booking-status")).to_contain_text("取消")

    booking.refresh_from_db()
    assert booking.status in {Booking.Status.CANCELLED, Booking.Status.LATE_CANCEL}


def page_reference_display(reference):
    return re.compile(r"\s*".join(reference))


def log_in(page, username):
    page.goto("/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").click()
    # The admin then asks for the code the staff member's authenticator app shows.
    expect(page.get_by_role("heading", level=1)).to_have_text("两步验证")
    device = authenticator_for(get_user_model().objects.get(username=username))
    page.get_by_label("验证码").fill(authenticator_code(device))
    page.get_by_role("button", name="验证并进入后台").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_editor_submits_news_and_it_appears_after_a_reviewer_approves(
    new_page, viewport, db_access
):
    title = f"社区议事会通知({viewport})"
    news_index = NewsPage.objects.first().get_parent()

    editor = new_page(viewport)
    log_in(editor, EDITOR)
    editor.goto(f"/admin/pages/add/news/newspage/{news_index.pk}/")
    editor.locator("#id_title").fill(title)
    editor.locator("#id_intro").fill("本周六上午在社区服务中心召开居民议事会。")
    # 提交给先审后发 sits in the footer's 更多动作 menu, beside 保存草稿.
    editor.locator("footer .w-dropdown__toggle").click()
    editor.locator("button[name=action-submit]").click()
    expect(editor).not_to_have_url(re.compile("/add/"))
    expect(editor.locator(".messages")).to_contain_text(title)

    page_obj = NewsPage.objects.get(title=title)
    assert not page_obj.live
    assert page_obj.current_workflow_task_state is not None

    # The reviewer approves from the dashboard's 等待你的审查 list.
    reviewer = new_page(viewport)
    log_in(reviewer, REVIEWER)
    row = reviewer.locator("tr", has_text=title)
    row.get_by_role("button", name="动作").click()
    row.get_by_role("button", name="批准", exact=True).click()
    expect(reviewer.locator("tr", has_text=title)).to_have_count(0)
    page_obj.refresh_from_db()
    assert page_obj.live

    resident = new_page(viewport)
    resident.goto(news_index.url)
    expect(resident.locator("main").get_by_role("link", name=title)).to_be_visible()

"""A resident reports a problem and sees it through, in a real browser at
360 px, by keyboard alone, in the ordinary layout and in 长辈模式: fills in
我要反映 with a photo (after one mistake the page points out), types the SMS
code, reads the reference, then follows the request while staff work on it:
the grid worker's answer is rated 不满意, the request is reopened, passed up to
the 管区, answered there and rated 满意. axe finds no violation on any public
step and the CSP refuses nothing. Staff take each step in the admin, in
their own browser, with the buttons of the request's page."""

import io

import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from playwright.sync_api import expect

from portal.service_requests.models import ServiceRequest, Unit
from tests.factories import authenticator_for, sms_code

from . import test_csp
from .conftest import STAFF_PASSWORD
from .test_csp import assert_no_violations
from .test_journeys import log_in, press_tab_until
from .test_request_status import all_violations

watched_page = test_csp.watched_page  # the CSP tests' page that records violations
MOBILES = {False: "13912348001", True: "13912348002"}
GPS_IFD = 0x8825


def photo_file(tmp_path):
    """A phone photo with its GPS position in the EXIF."""
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (36.0, 6.0, 12.5), 3: "E", 4: (120.0, 28.0, 1.5)}
    path = tmp_path / "xianchang.jpg"
    Image.new("RGB", (800, 600), (90, 140, 60)).save(path, "JPEG", exif=exif)
    return path


def staff_at(unit):
    return get_user_model().objects.get(staff_post__unit=unit)


class Staff:
    """Staff members at their desks: each signs in once (password and
    authenticator code) in a browser of their own, then acts on a request
    with the buttons of its page in the admin."""

    def __init__(self, new_page):
        self.new_page = new_page
        self.pages = {}

    def page_of(self, unit):
        user = staff_at(unit)
        if user.pk not in self.pages:
            user.set_password(STAFF_PASSWORD)
            user.save()
            authenticator_for(user)  # set up, as the admin asks of every staff member
            page = self.new_page("desktop")
            log_in(page, user.username)
            self.pages[user.pk] = page
        return self.pages[user.pk]

    def act(self, request, unit, label, text=None, to_unit=None):
        """At `unit`, open the request and press `label` (签收办理, 派单, 上报上级,
        答复居民), filling in its text and the unit it goes to."""
        page = self.page_of(unit)
        page.goto(f"/admin/service_requests/requests/{request.pk}/")
        form = page.locator(f"form[aria-label='{label}']")
        if to_unit is not None:
            form.locator("select").select_option(str(to_unit.pk))
        if text is not None:
            form.locator("textarea").fill(text)
        form.get_by_role("button", name=label).click()
        expect(page.locator(".messages")).to_contain_text(label)
        return ServiceRequest.objects.get(pk=request.pk)


def submit_button(page):
    press_tab_until(page, "el => el.type === 'submit' && el.closest('.booking-form')")
    page.keyboard.press("Enter")


def rate(page, value, comment=""):
    press_tab_until(page, "el => el.name === 'rating'")
    for _ in range(3):
        if page.evaluate("document.activeElement.value") == value:
            break
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")  # focus alone does not choose
    assert page.evaluate("document.activeElement.value") == value
    assert page.evaluate("document.activeElement.checked")
    if comment:
        press_tab_until(page, "el => el.id === 'id_comment'")
        page.keyboard.type(comment)
    press_tab_until(page, "el => el.type === 'submit' && el.textContent.includes('提交评价')")
    page.keyboard.press("Enter")


@pytest.mark.parametrize("elder", [False, True], ids=["ordinary", "elder"])
def test_a_resident_reports_with_a_photo_and_sees_it_through_to_satisfied(
    watched_page, new_page, live_site, db_access, elder, tmp_path
):
    mobile = MOBILES[elder]
    page = watched_page("phone")
    if elder:  # 长辈模式, as its switch leaves it
        page.context.add_cookies([{"name": "elder", "value": "1", "url": live_site.url}])
    violations = []

    page.goto("/")
    press_tab_until(page, "el => el.tagName === 'A' && el.textContent.trim() === '我要反映'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("我要反映")
    expect(page.locator("main")).to_contain_text("12337")
    violations += all_violations(page)

    press_tab_until(page, "el => el.name === 'category'")
    page.keyboard.press("Space")
    category = page.evaluate("document.activeElement.labels[0].textContent.trim()")
    press_tab_until(page, "el => el.id === 'id_place'")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the first 管区's first 社区
    place = page.evaluate("document.activeElement.selectedOptions[0].textContent.trim()")
    press_tab_until(page, "el => el.id === 'id_address'")
    page.keyboard.type("石岭路 8 号 3 号楼")
    press_tab_until(page, "el => el.id === 'id_description'")
    page.keyboard.type("太吵了")  # too short: the page says so
    page.set_input_files("#id_photos", str(photo_file(tmp_path)))
    press_tab_until(page, "el => el.id === 'id_mobile'")
    page.keyboard.type(mobile)
    submit_button(page)

    expect(page.get_by_role("alert")).to_contain_text("至少 10 个字")
    violations += all_violations(page)
    press_tab_until(
        page, "el => el.tagName === 'A' && el.getAttribute('href') === '#id_description'"
    )
    page.keyboard.press("Enter")
    press_tab_until(page, "el => el.id === 'id_description'")
    page.keyboard.press("End")
    page.keyboard.type(",楼上每天夜里十一点以后还在装修,电钻声很大。")
    page.set_input_files("#id_photos", str(photo_file(tmp_path)))  # browsers forget files
    submit_button(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("输入短信验证码")
    expect(page.locator("main")).to_contain_text(f"{mobile[:3]}****{mobile[-4:]}")
    violations += all_violations(page)
    press_tab_until(page, "el => el.id === 'id_code'")
    page.keyboard.type(sms_code(mobile))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("已收到您反映的问题")
    request = ServiceRequest.objects.get(mobile_hash__in=_hashes(mobile))
    expect(page.locator(".reference__code [aria-hidden]")).to_have_text(request.reference_display)
    assert request.category.name == category and request.place.name == place
    with Image.open(io.BytesIO(request.photos.get().read())) as stored:
        assert not stored.getexif()  # the GPS position never reached storage
    violations += all_violations(page)

    # The 社区 sends it to its first grid, whose worker answers.
    staff = Staff(new_page)
    community = request.place
    grid = Unit.objects.filter(path__startswith=community.path, depth=4).order_by("path")[0]
    request = staff.act(request, community, "派单", text="请网格员上门了解", to_unit=grid)
    request = staff.act(request, grid, "签收办理")
    staff.act(request, grid, "答复居民", text="网格员已上门提醒,业主答应晚上九点后停工。")

    press_tab_until(page, "el => el.textContent.trim() === '查看办理进度'")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("业主答应晚上九点后停工")
    violations += all_violations(page)
    rate(page, "dissatisfied", "晚上十点还在钻墙")
    expect(page.locator("main")).to_contain_text("重新办理中")

    # Reopened: the grid cannot settle it, nor the 社区; the 管区 answers.
    request = ServiceRequest.objects.get(pk=request.pk)
    assert request.state == ServiceRequest.State.REOPENED
    while request.unit.depth > 2:
        request = staff.act(request, request.unit, "上报上级", text="需要上级协调")
    request = staff.act(request, request.unit, "签收办理")
    staff.act(request, request.unit, "答复居民", text="管区约谈了装修公司,已调整为工作日白天施工。")

    page.reload()
    expect(page.locator("main")).to_contain_text("已调整为工作日白天施工")
    violations += all_violations(page)
    rate(page, "satisfied")
    expect(page.locator("main")).to_contain_text("已办结")
    violations += all_violations(page)

    assert violations == [], "\n".join(violations)
    assert_no_violations(page)
    request = ServiceRequest.objects.get(pk=request.pk)
    assert (request.state, request.rating) == (
        ServiceRequest.State.CLOSED,
        ServiceRequest.Rating.SATISFIED,
    )
    assert request.round == 2


def _hashes(mobile):
    from portal.core.privacy import mobile_digests

    return mobile_digests(mobile)


def test_the_report_form_fits_a_small_phone(new_page, db_access):
    page = new_page("phone")
    page.goto("/fanying/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

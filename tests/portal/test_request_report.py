"""我要反映 (the ReportPage): the form, the SMS code that proves the reply number,
the confirmation and its SMS, photos stripped of their metadata and kept
private, and the refusals, limits and outages around them."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from portal.core.sms import MemoryBackend
from portal.service_requests import handling, notifications
from portal.service_requests.models import (
    ReportPage,
    RequestAccessLog,
    RequestMessage,
    RequestPhoto,
    ServiceRequest,
)
from tests.factories import enter_sms_code, log_in_verified, make_organisation, sms_code
from tests.outages import fill

MOBILE = "13912345678"
GPS_IFD = 0x8825


@pytest.fixture
def org(db):
    return make_organisation()


@pytest.fixture
def page(home, org):
    report = ReportPage(title="我要反映", slug="fanying", intro="噪音、装修、群租房都可以反映。")
    home.add_child(instance=report)
    return report


@pytest.fixture(autouse=True)
def empty_outbox():
    MemoryBackend.outbox.clear()


def photo_with_gps(name="xianchang.jpg", size=(1200, 900)):
    """A JPEG as a phone writes it: with the camera, a comment and the GPS position."""
    image = Image.new("RGB", size, (120, 160, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[GPS_IFD] = {1: "N", 2: (36.0, 6.0, 12.5), 3: "E", 4: (120.0, 28.0, 1.5)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"home of Wang")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def form_data(org, **changes):
    data = {
        "category": org.noise.pk,
        "place": org.shiling.pk,
        "address": "石岭路 8 号 3 号楼",
        "description": "楼上每天夜里十一点以后还在装修,电钻声很大,老人睡不着。",
        "name": "王阿姨",
        "mobile": MOBILE,
        "email": "",
        "website": "",
    }
    return {**data, **changes}


def submit(client, page, data):
    response = client.post(page.url, data)
    return enter_sms_code(client, response, data["mobile"])


def test_a_resident_reports_proves_the_number_and_gets_a_reference_on_screen_and_by_sms(
    client, page, org, django_capture_on_commit_callbacks
):
    response = client.post(page.url, form_data(org, photos=[photo_with_gps()]))
    assert response.status_code == 302 and response["Location"].endswith("/yanzheng/")
    assert not ServiceRequest.objects.exists()  # nothing is a request before the code
    code_page = client.get(response["Location"])
    assert "139****5678" in code_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(response["Location"], {"code": sms_code(MOBILE)})
    assert done.status_code == 302 and done["Location"].endswith("/wancheng/")
    made = ServiceRequest.objects.get()
    assert (made.category, made.place, made.unit) == (org.noise, org.shiling, org.shiling)
    assert made.mobile == MOBILE and made.name == "王阿姨"
    assert made.publish_consent_at is None  # the consent box was left unticked
    assert made.photos.count() == 1
    confirmation = client.get(done["Location"]).content.decode()
    assert made.reference_display in confirmation
    texts = [text for to, text in MemoryBackend.outbox if to == MOBILE]
    assert made.reference_display in texts[-1] and "装修" not in texts[-1]
    assert RequestMessage.objects.get(request=made).state == RequestMessage.State.SENT
    # The session may follow the request it just made.
    assert made.reference_display in client.get("/suqiu/jindu/").content.decode()


def test_the_photo_is_kept_without_gps_or_camera_details_encrypted_and_out_of_public_media(
    client, page, org, settings
):
    submit(client, page, form_data(org, photos=[photo_with_gps()]))
    photo = RequestPhoto.objects.get()
    stored = Path(photo.file.path).read_bytes()
    assert photo.file.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not photo.file.path.startswith(str(settings.MEDIA_ROOT))
    assert b"JFIF" not in stored and b"Exif" not in stored  # encrypted at rest
    data = photo.read()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (1200, 900)
        assert not image.getexif() and GPS_IFD not in image.getexif()
        assert "comment" not in image.info and "exif" not in image.info
    for trace in (b"PhoneMaker", b"Model X", b"home of Wang", b"Exif"):
        assert trace not in data


def test_publishing_needs_the_residents_own_tick(client, page, org):
    submit(client, page, form_data(org, publish_consent="on"))
    assert ServiceRequest.objects.get().publish_consent_at is not None


def test_a_number_proven_in_this_session_is_not_asked_for_again(client, page, org):
    submit(client, page, form_data(org))
    MemoryBackend.outbox.clear()
    second = client.post(
        page.url, form_data(org, description="楼道里堆满了杂物,消防通道被堵住了。")
    )
    assert second.status_code == 302 and second["Location"].endswith("/wancheng/")
    assert ServiceRequest.objects.count() == 2
    assert not any("验证码" in text for _to, text in MemoryBackend.outbox)


def test_the_same_report_sent_twice_makes_one_request(client, page, org):
    submit(client, page, form_data(org))
    again = client.post(page.url, form_data(org))
    assert ServiceRequest.objects.count() == 1
    assert "只记录一次" in client.get(again["Location"]).content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category": ""}, "请选择问题类别"),
        ({"place": ""}, "请选择问题发生的社区或管区"),
        ({"place": "999999"}, "请从列表中选择社区或管区"),
        ({"address": "   "}, "请填写问题发生的详细地点"),
        ({"description": "太吵了"}, "至少 10 个字"),
        ({"description": "吵" * 1001}, "最多 1000 个字"),
        ({"mobile": "12345"}, "11 位中国大陆手机号码"),
        ({"email": "wang@"}, "电子邮箱格式不对"),
        ({"name": "王" * 21}, "称呼最多 20 个字"),
    ],
)
def test_every_invalid_field_gets_a_chinese_message_and_nothing_is_stored(
    client, page, org, changes, message
):
    response = client.post(page.url, form_data(org, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ServiceRequest.objects.exists() and not RequestPhoto.objects.exists()
    assert not MemoryBackend.outbox


def test_a_file_that_is_not_a_photo_and_a_fourth_photo_are_refused(client, page, org):
    fake = SimpleUploadedFile("zhaopian.jpg", b"MZ\x90\x00 not an image", "image/jpeg")
    response = client.post(page.url, form_data(org, photos=[fake]))
    assert response.status_code == 400 and "不是照片" in response.content.decode()
    four = [photo_with_gps(f"{n}.jpg", (64, 48)) for n in range(4)]
    response = client.post(page.url, form_data(org, photos=four))
    assert response.status_code == 400 and "最多可以上传 3 张照片" in response.content.decode()
    assert not RequestPhoto.objects.exists()


def test_a_robot_filling_the_trap_is_shown_the_form_and_nothing_is_stored(client, page, org):
    response = client.post(page.url, form_data(org, website="http://spam.example"))
    assert response.status_code == 302
    assert not ServiceRequest.objects.exists() and not MemoryBackend.outbox


def test_reports_from_one_visitor_are_limited(client, page, org, settings):
    from portal.service_requests import views

    settings_limits = dict(views.LIMITS)
    views.LIMITS[("report", "ip")] = (2, 3600)
    try:
        for n in range(2):
            client.post(page.url, form_data(org, description=f"第 {n} 次反映:楼上装修声音太大。"))
        third = client.post(page.url, form_data(org, description="第三次反映:楼上装修声音太大。"))
    finally:
        views.LIMITS.clear()
        views.LIMITS.update(settings_limits)
    assert third.status_code == 429 and "提交的次数太多了" in third.content.decode()


def test_typing_someone_elses_number_uses_up_none_of_their_reports(client, page, org):
    from portal.service_requests import views

    saved = dict(views.LIMITS)
    views.LIMITS[("report", "mobile")] = (1, 3600)
    try:
        stranger = Client()
        for n in range(3):  # forms with the number, the code never typed
            stranger.post(page.url, form_data(org, description=f"第 {n} 次:冒用别人的号码反映。"))
        done = submit(client, page, form_data(org))
        again = submit(client, page, form_data(org, description="另一件事:楼道里堆满了杂物。"))
    finally:
        views.LIMITS.clear()
        views.LIMITS.update(saved)
    assert done.status_code == 302 and done["Location"].endswith("/wancheng/")
    assert again.status_code == 429 and "提交的次数太多了" in again.content.decode()
    assert ServiceRequest.objects.count() == 1


def test_every_step_names_the_emergency_numbers_and_12337(client, page, org):
    pages = [client.get(page.url)]
    pages.append(client.get(client.post(page.url, form_data(org))["Location"]))
    for response in pages:
        html = response.content.decode()
        for number in ("110", "119", "120", "12337"):
            assert number in html
        assert "no-cache" in response["Cache-Control"] or "private" in response["Cache-Control"]


def test_going_back_from_the_code_step_shows_what_was_typed(client, page, org):
    asked = client.post(page.url, form_data(org, photos=[photo_with_gps()]))
    back = client.get(page.url)
    html = back.content.decode()
    assert "石岭路 8 号 3 号楼" in html and "电钻声很大" in html and MOBILE in html
    assert "第 1 步,共 2 步" in html
    assert "第 2 步,共 2 步" in client.get(asked["Location"]).content.decode()


def test_a_number_proven_to_report_does_not_open_its_bookings_and_leaving_forgets_all(
    client, page, org
):
    submit(client, page, form_data(org))
    assert client.get("/yuyue/bookings/")["Location"] == "/yuyue/"  # not proven for bookings
    assert client.get("/suqiu/jindu/").status_code == 200
    client.post("/suqiu/tuichu/")
    assert client.get("/suqiu/jindu/").status_code == 302
    assert client.get(page.url + "wancheng/")["Location"] == page.url
    again = client.post(page.url, form_data(org, description="另一件事:楼道里堆满了杂物。"))
    assert again["Location"].endswith("/yanzheng/")  # the number must be proven again


def test_the_reply_reaches_the_resident_by_sms_and_email_once_approved(
    page, org, django_capture_on_commit_callbacks
):
    org.noise.reply_needs_approval = True
    org.noise.save()
    made, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="楼上每天夜里装修。",
        address="石岭路 8 号",
        mobile=MOBILE,
        email="wang@example.com",
    )
    MemoryBackend.outbox.clear()
    mail.outbox.clear()
    made = handling.accept(made, org.shiling_handler)
    with django_capture_on_commit_callbacks(execute=True):
        made = handling.reply(made, org.shiling_handler, "已约谈业主,晚上十点后停止施工。")
    assert not MemoryBackend.outbox and not mail.outbox  # waits for the supervisor
    with django_capture_on_commit_callbacks(execute=True):
        handling.approve_reply(made, org.supervisor)
    [(to, text)] = MemoryBackend.outbox
    assert to == MOBILE and made.reference_display in text and "已有答复" in text
    assert "已约谈业主" not in text  # a lock screen shows the message: not the answer
    [email] = mail.outbox
    assert email.to == ["wang@example.com"] and "已约谈业主" in email.body


def test_a_rejection_tells_the_resident_why(page, org, django_capture_on_commit_callbacks):
    made, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="想咨询社保缴费的问题。",
        address="石岭路 8 号",
        mobile=MOBILE,
    )
    MemoryBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        handling.reject(made, org.shiling_handler, "社保问题请拨打 12333 咨询。")
    [(_to, text)] = MemoryBackend.outbox
    assert "不属于街道受理范围" in text and "12333" not in text
    assert "12333" in client_status(made)


def client_status(made):
    client = Client()
    client.post("/suqiu/chaxun/", {"reference": made.reference, "mobile": MOBILE})
    return client.get("/suqiu/jindu/").content.decode()


def test_a_reply_from_a_round_since_reopened_is_not_sent(page, org, settings):
    made, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="楼上装修。",
        address="石岭路",
        mobile=MOBILE,
    )
    made = handling.accept(made, org.shiling_handler)
    settings.SMS_BACKEND = "tests.portal.test_request_report_outages.GatewayDown"
    made = handling.reply(made, org.shiling_handler, "第一次答复")
    reply = RequestMessage.objects.get(request=made, kind=RequestMessage.Kind.REPLY)
    notifications.deliver.call(reply.pk)  # the gateway is down
    handling.rate(made, ServiceRequest.Rating.DISSATISFIED)  # reopened: round 2
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    RequestMessage.objects.filter(pk=reply.pk).update(next_attempt_at=timezone.now())
    notifications.deliver.call(reply.pk)
    reply.refresh_from_db()
    assert reply.state == RequestMessage.State.FAILED and "superseded" in reply.last_error
    assert not MemoryBackend.outbox


def test_staff_who_may_see_the_request_see_its_photo_and_the_look_is_logged(client, page, org):
    submit(client, page, form_data(org, photos=[photo_with_gps()]))
    made = ServiceRequest.objects.get()
    photo = made.photos.get()
    url = f"/admin/service_requests/requests/{made.pk}/photos/{photo.pk}/"
    staff = Client()
    log_in_verified(staff, org.shiling_handler)
    detail = staff.get(f"/admin/service_requests/requests/{made.pk}/").content.decode()
    assert url in detail
    response = staff.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert response.content == photo.read()
    assert RequestAccessLog.objects.filter(
        action=RequestAccessLog.Action.PHOTO, references=made.reference
    ).exists()
    other = Client()
    log_in_verified(other, org.haian_handler)
    assert other.get(url).status_code == 404


def test_erasing_a_closed_request_deletes_its_photos_and_their_files(
    client, page, org, django_capture_on_commit_callbacks
):
    submit(client, page, form_data(org, photos=[photo_with_gps()]))
    made = ServiceRequest.objects.get()
    path = Path(made.photos.get().file.path)
    ServiceRequest.objects.filter(pk=made.pk).update(
        state=ServiceRequest.State.CLOSED, closed_at=timezone.now() - datetime.timedelta(days=400)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_requests", stdout=io.StringIO())
    assert not RequestPhoto.objects.exists() and not path.exists()


def test_photos_of_a_form_whose_code_was_never_typed_go_after_a_day(
    client, page, org, django_capture_on_commit_callbacks
):
    submit(client, page, form_data(org, photos=[photo_with_gps()]))  # a report made
    kept = RequestPhoto.objects.get()
    other = Client()
    other.post(page.url, form_data(org, mobile="13800000000", photos=[photo_with_gps()]))
    photo = RequestPhoto.objects.get(request=None)  # the code was never typed
    path = Path(photo.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_requests", stdout=io.StringIO())
    assert path.exists()
    RequestPhoto.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_requests", stdout=io.StringIO())
    assert list(RequestPhoto.objects.all()) == [kept] and not path.exists()
    assert Path(kept.file.path).exists()  # a report's photo stays while the report does


def test_a_photo_file_no_photo_refers_to_goes_at_the_next_purge(client, page, org, settings):
    submit(client, page, form_data(org, photos=[photo_with_gps()]))
    kept = Path(RequestPhoto.objects.get().file.path)
    stray = Path(settings.PRIVATE_MEDIA_ROOT) / "requests" / "2026" / "01" / "left-behind.jpg.enc"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"encrypted bytes of a photo whose row was never written")
    fresh = stray.with_name("being-written.jpg.enc")
    fresh.write_bytes(b"a photo whose row is being written right now")
    hours_ago = (timezone.now() - datetime.timedelta(hours=2)).timestamp()
    os.utime(stray, (hours_ago, hours_ago))
    os.utime(kept, (hours_ago, hours_ago))
    out = io.StringIO()
    call_command("purge_requests", stdout=out)
    assert "无主的照片文件 1 个" in out.getvalue()
    assert not stray.exists() and fresh.exists() and kept.exists()


def test_a_full_disk_keeps_the_typed_report_and_says_what_to_do(
    client, page, org, settings, media_disk
):
    settings.PRIVATE_MEDIA_ROOT = media_disk  # the real small disk, filled to the last byte
    fill(media_disk)
    response = client.post(page.url, form_data(org, photos=[photo_with_gps()]))
    assert response.status_code == 503
    html = response.content.decode()
    assert "照片暂时保存不了" in html and "楼上每天夜里十一点以后还在装修" in html
    assert not ServiceRequest.objects.exists() and not RequestPhoto.objects.exists()
    assert not list((media_disk / "requests").rglob("*.enc"))  # no truncated photo left behind

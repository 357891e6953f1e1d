"""Builders for the real objects tests need: images and documents are real files."""

import io
import re
import time

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from portal.core.privacy import normalise_mobile
from portal.core.sms import MemoryBackend

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def make_image(title="测试图片", size=(640, 360), colour=(200, 40, 40), description=""):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "JPEG")
    image = get_image_model()(title=title, description=description or title)
    image.file = ImageFile(io.BytesIO(buffer.getvalue()), name="test.jpg")
    image._set_image_file_metadata()  # as the admin upload form does
    image.save()
    return image


def make_document(title="测试文件", content=PDF_BYTES, name="file.pdf"):
    document = get_document_model()(title=title)
    document.file.save(name, ContentFile(content), save=False)
    document._set_document_file_metadata()  # as the admin upload form does
    document.save()
    return document


def make_weekday_room(
    name="测试咨询室",
    *,
    address=None,
    weekdays="MO,TU,WE,TH,FR",
    hours=(9, 12),
    starts_on=None,
    counsellor="",
):
    """A counselling room open on `weekdays` during `hours` with a counsellor on duty
    (by default Monday to Friday 9:00–12:00)."""
    import datetime

    from counseling.models import Counsellor, DutyShift, OpeningHours, Room

    room = Room.objects.create(name=name, address=address or f"{name}地址")
    counsellor = Counsellor.objects.create(name=counsellor or f"{name}咨询师")
    times = {
        "weekdays": weekdays,
        "start_time": datetime.time(hours[0]),
        "end_time": datetime.time(hours[1]),
        "starts_on": starts_on or datetime.date(2026, 1, 1),
    }
    OpeningHours.objects.create(room=room, **times)
    DutyShift.objects.create(room=room, counsellor=counsellor, **times)
    return room


def make_open_room():
    """A counselling room open every day 8:00–20:00 with a counsellor on duty,
    from yesterday on: whatever day a test runs, it has free slots."""
    import datetime

    from django.utils import timezone

    return make_weekday_room(
        "云岭心理咨询室",
        address="崂山区云岭路 18 号二楼 204 室",
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(8, 20),
        starts_on=timezone.localdate() - datetime.timedelta(days=1),
        counsellor="王老师",
    )


def authenticator_for(user):
    """The staff member's authenticator app, set up and confirmed (as after enrolment)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=True)


def authenticator_code(device):
    """The code the authenticator app shows now. A code is accepted only once, so
    when this time step's code was used already, the next step's (which the server
    also accepts) is returned."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if device.last_t + 1 > totp.t() + device.tolerance:
        # One test logged this person in several times within a minute: move the
        # device's memory back, as waiting for the next codes would (no sleeps).
        device.last_t = totp.t() - 1
        device.save(update_fields=["last_t"])
    # The next unused step, in the device's own time (django-otp adds its drift,
    # which grows when a code from the next step was accepted).
    totp.time = max(totp.time, device.t0 + (device.last_t + 1 - device.drift) * device.step)
    return f"{totp.token():0{device.digits}d}"


def log_in_verified(client, user):
    """Log `user` in as after the password and an authenticator code: the state the
    admin asks for (ADMIN_REQUIRE_2FA). Returns the authenticator."""
    client.force_login(user)
    device = authenticator_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


SMS_CODE = re.compile(r"验证码 (\d{6})")


def sms_code(mobile):
    """The code in the latest SMS to `mobile`, read as the resident reads the phone."""
    mobile = normalise_mobile(mobile)
    for to, text in reversed(MemoryBackend.outbox):
        found = SMS_CODE.search(text)
        if to == mobile and found:
            return found.group(1)
    raise AssertionError(f"no verification code was sent to {mobile[:3]}****")


def enter_sms_code(client, response, mobile):
    """After a form that asked for an SMS code: type the code the phone got, and
    return the response to that (or `response` itself when no code was asked)."""
    if response.status_code != 302 or not response["Location"].endswith(
        ("/verify/", "/code/", "/yanzheng/")
    ):
        return response
    return client.post(response["Location"], {"code": sms_code(mobile)})


def prove_mobile(client, mobile):
    """Prove `mobile` in this client's session through /yuyue/, as a resident does;
    returns the response that lists the number's bookings."""
    response = client.post("/yuyue/", {"mobile": mobile})
    return enter_sms_code(client, response, mobile)


def demo_page_urls():
    """After seed_demo: one address of every public page type, by name."""
    from portal.campaigns.models import CampaignPage
    from portal.news.models import NewsPage
    from portal.service_requests.models import PublishedAnswer
    from portal.talks.models import TalkPage

    news = NewsPage.objects.live().filter(document_number__gt="").first()
    answer = PublishedAnswer.objects.select_related("request__category").first()
    return {
        "home": "/",
        "news index": "/news/",
        "news filtered": f"/news/?category={news.category.slug}",
        "news year": f"/news/{news.date.year}/",
        "news page": news.url,
        "talk index": "/talks/",
        "talk page": TalkPage.objects.live().public().first().url,
        "campaign index": "/saohei/",
        "campaign page": CampaignPage.objects.live().first().url,
        "standard page": "/accessibility/",
        "search": "/search/?q=心理",
        "counselling rooms": "/counseling/",
        "answers": "/huiying/",
        "answers filtered": f"/huiying/?category={answer.request.category.code}",
        "answer": f"/huiying/{answer.pk}/",
        "answers figures": "/huiying/shuju/",
    }


def make_organisation():
    """A small organisation with a member of staff at each post: 街道 (a
    supervisor) → 第一管区 (a head) → 石岭路社区 (a handler) → 第1网格 and
    第2网格 (a grid worker each), and 第二管区 → 海岸社区 (a handler). Returns a
    namespace of units and users, and the category 噪音扰民."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from portal.core.groups import GRID_WORKERS, REQUEST_HANDLERS
    from portal.service_requests.models import Category, StaffPost, Unit

    org = SimpleNamespace()
    org.subdistrict = Unit.add_root(name="金家岭街道")
    org.first = org.subdistrict.add_child(name="第一管区")
    org.shiling = org.first.add_child(name="石岭路社区")
    org.grid = org.shiling.add_child(name="第1网格")
    org.other_grid = org.shiling.add_child(name="第2网格")
    org.second = org.subdistrict.add_child(name="第二管区")
    org.haian = org.second.add_child(name="海岸社区")
    Role = StaffPost.Role
    users = get_user_model().objects
    for name, unit, role in [
        ("supervisor", org.subdistrict, Role.SUPERVISOR),
        ("first_head", org.first, Role.HEAD),
        ("shiling_handler", org.shiling, Role.HANDLER),
        ("grid_worker", org.grid, Role.GRID_WORKER),
        ("other_grid_worker", org.other_grid, Role.GRID_WORKER),
        ("haian_handler", org.haian, Role.HANDLER),
    ]:
        user = users.create_user(username=name, password="x" * 16, is_staff=True)
        # get_or_create: a transactional test may run after another emptied the tables
        group = GRID_WORKERS if role == Role.GRID_WORKER else REQUEST_HANDLERS
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        StaffPost.objects.create(user=user, unit=unit, role=role)
        setattr(org, name, user)
    org.noise = Category.objects.create(
        name="噪音扰民", code="noise", response_days=1, resolution_days=5
    )
    return org


def page_tree(slug="jinjialing-outage"):
    """The home page of the default site, made from nothing: an earlier
    transactional test may have emptied every table, the tree's root with it."""
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page, Site

    from portal.core.models import SiteSettings
    from portal.home.models import HomePage

    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    home = root.add_child(instance=HomePage(title="金家岭街道", slug=slug))
    site, _created = Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home}
    )
    SiteSettings.for_site(site)  # created up front, as a running site has them
    return home


def make_full_room(name="候补测试室", mobiles="1370000", now=None):
    """A room with one session a day (9:00) from today for three more days, all
    booked by different residents (mobiles `mobiles` + 4 digits): a room to
    wait for. Returns (room, the bookings in time order)."""
    from counseling import booking as service
    from counseling.availability import Availability

    room = make_weekday_room(name, weekdays="MO,TU,WE,TH,FR,SA,SU", hours=(9, 10))
    room.horizon_days = 3
    room.save()
    booked = [
        service.create_booking(
            room=room,
            starts_at=slot.start,
            name=f"居民{n}",
            mobile=f"{mobiles}{n:04d}",
            visit_type="first",
            now=now,
        )
        for n, slot in enumerate(Availability([room], now).slots(room))
    ]
    assert booked and Availability([room], now).slots(room) == []
    return room, booked

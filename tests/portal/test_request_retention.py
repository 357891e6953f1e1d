"""`manage.py purge_requests`: a year after a request closes, what the resident
wrote and who they are is erased, from the request and from every line of its
trail; what the figures count stays."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from PIL import Image

from portal.service_requests import handling, photos
from portal.service_requests.models import RequestEvent, ServiceRequest
from tests.factories import make_organisation

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"


@pytest.fixture
def org(db):
    return make_organisation()


def closed_request(org, days_ago, description):
    at = timezone.now() - datetime.timedelta(days=days_ago)
    request, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description=description,
        address="石岭路 8 号 502 室",
        mobile=MOBILE,
        name="王阿姨",
        email="wang@example.com",
        now=at,
    )
    request = handling.accept(request, org.shiling_handler, now=at)
    handling.add_note(request, org.shiling_handler, "王阿姨说晚上十点后最吵", now=at)
    request = handling.reply(request, org.shiling_handler, "已约谈 502 室业主", now=at)
    return handling.rate(request, ServiceRequest.Rating.SATISFIED, "谢谢王书记", now=at)


def purge(*args):
    out = io.StringIO()
    call_command("purge_requests", *args, stdout=out)
    return out.getvalue()


def test_a_year_after_closing_the_residents_details_and_words_are_erased_and_the_counts_stay(
    org,
):
    old = closed_request(org, 400, "楼上深夜装修")
    recent = closed_request(org, 200, "楼下烧烤店外放音乐")
    assert "已删除 1 条诉求的个人信息(办结超过 365 天)" in purge()

    old.refresh_from_db()
    assert (old.name, old.mobile, old.email, old.address, old.description) == (
        "已删除",
        "",
        "",
        "",
        "",
    )
    assert (old.reply, old.rating_comment, old.mobile_hash, old.submission_hash) == ("", "", "", "")
    assert old.personal_data_erased_at is not None
    assert old.updated_at == old.personal_data_erased_at
    assert set(RequestEvent.objects.filter(request=old).values_list("text", flat=True)) == {""}
    # What the figures count is kept.
    assert (old.state, old.rating, old.category, old.unit, old.round) == (
        ServiceRequest.State.CLOSED,
        ServiceRequest.Rating.SATISFIED,
        org.noise,
        org.shiling,
        1,
    )
    assert RequestEvent.objects.filter(request=old).count() == 5
    assert list(ServiceRequest.objects.for_mobile(MOBILE)) == [recent]
    recent.refresh_from_db()
    assert recent.description == "楼下烧烤店外放音乐"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM service_requests_requestevent WHERE request_id = %s"
            " AND text != ''",
            [recent.pk],
        )
        assert cursor.fetchone()[0] == 3

    assert "已删除 0 条" in purge()


def test_open_requests_are_kept_however_old_and_the_period_is_a_setting(org, settings):
    waiting, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="两年前反映、至今未办结",
        address="石岭路",
        mobile=MOBILE,
        now=timezone.now() - datetime.timedelta(days=800),
    )
    closed = closed_request(org, 40, "上个月的事")
    rejected, _created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="不归街道管的事",
        address="石岭路",
        mobile=MOBILE,
        now=timezone.now() - datetime.timedelta(days=50),
    )
    handling.reject(
        rejected,
        org.shiling_handler,
        "请拨打 12345,王阿姨",
        now=timezone.now() - datetime.timedelta(days=50),
    )
    settings.SERVICE_REQUESTS_RETENTION_DAYS = 30
    assert "已删除 2 条诉求的个人信息(办结超过 30 天)" in purge()
    assert ServiceRequest.objects.get(pk=rejected.pk).rejection_reason == ""
    assert ServiceRequest.objects.get(pk=waiting.pk).description == "两年前反映、至今未办结"
    assert ServiceRequest.objects.get(pk=closed.pk).description == ""
    with pytest.raises(CommandError):
        purge("--days", "-1")


def test_an_erased_requests_page_says_so_instead_of_showing_blanks(client, org):
    from tests.factories import log_in_verified

    old = closed_request(org, 400, "楼上深夜装修")
    purge()
    log_in_verified(client, org.supervisor)
    page = client.get(f"/admin/service_requests/requests/{old.pk}/").content.decode()
    assert "居民的个人信息已于" in page and MOBILE not in page


def a_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, "JPEG")
    return out.getvalue()


def test_rotating_keys_reencrypts_and_rehashes_every_request_and_its_trail(org, settings):
    from tests.counseling.test_privacy import new_fernet_key

    request = closed_request(org, 3, "楼下烧烤店外放音乐")
    photo_bytes = a_jpeg()
    photos.attach(photos.store_pending([(photo_bytes, 40, 30)]), request)
    old_data, old_lookup = settings.BOOKING_DATA_KEYS[0], settings.BOOKING_LOOKUP_KEYS[0]
    settings.BOOKING_DATA_KEYS = [new_fernet_key("rotated data key"), old_data]
    settings.BOOKING_LOOKUP_KEYS = ["rotated lookup key", old_lookup]
    handling.receive(  # a second request, still open
        category=org.noise,
        place=org.shiling,
        description="楼道灯坏了",
        address="石岭路",
        mobile=MOBILE,
    )
    out = io.StringIO()
    call_command("rotate_request_keys", stdout=out)
    # Trail lines with text: the closed request's three; the new one's receipt has none.
    assert out.getvalue().strip() == "已用新密钥重新加密 2 条诉求和 3 条办理记录。"

    settings.BOOKING_DATA_KEYS = settings.BOOKING_DATA_KEYS[:1]
    settings.BOOKING_LOOKUP_KEYS = settings.BOOKING_LOOKUP_KEYS[:1]
    rotated = ServiceRequest.objects.for_mobile(MOBILE).get(pk=request.pk)
    assert rotated == request
    assert (rotated.name, rotated.description, rotated.reply) == (
        "王阿姨",
        "楼下烧烤店外放音乐",
        "已约谈 502 室业主",
    )
    texts = set(RequestEvent.objects.filter(request=request).values_list("text", flat=True))
    assert "王阿姨说晚上十点后最吵" in texts
    assert rotated.photos.get().read() == photo_bytes  # readable under the new key alone
    # The same report again is still recognised under the new lookup key.
    again, created = handling.receive(
        category=org.noise,
        place=org.shiling,
        description="楼下烧烤店外放音乐",
        address="石岭路",
        mobile=MOBILE,
        now=request.received_at + datetime.timedelta(minutes=5),
    )
    assert (again.pk, created) == (request.pk, False)

"""A media disk that is full or read-only, made so for real: a small tmpfs
mounted as MEDIA_ROOT, filled to the last byte or remounted read-only. Pages
whose pictures still need a rendition show the original instead of failing;
an upload gets a clear Chinese message and leaves no row and no partial file;
once the disk takes files again, renditions are made as usual.

Mounting needs root (as CI and the development machines run); elsewhere these
tests are skipped, except in CI, where they fail."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Collection

from portal.news.models import NewsIndexPage, NewsPage
from tests.factories import make_image
from tests.outages import fill, read_only, writable
from tests.portal.test_uploads import (
    add_image,
    add_images_multiple,
    log_in_to_admin,
    nothing_stored,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.django_db

FULL_MESSAGE = "服务器的存储空间已满或暂时不能写入,文件没有保存"


@pytest.fixture
def news_with_picture(home, media_disk):
    """A published news item whose picture has no renditions yet."""
    index = NewsIndexPage(title="政策新闻", slug="news")
    home.add_child(instance=index)
    index.save_revision().publish()
    image = make_image("社区活动照片")
    news = NewsPage(
        title="社区开展心理健康讲座",
        slug="talk-day",
        date=datetime.date(2026, 11, 20),
        featured_image=image,
        intro="导语。",
    )
    index.add_child(instance=news)
    news.save_revision().publish()
    return news, image


def noisy_jpeg(size=(800, 600)):
    """A photo that does not compress away: a few hundred kilobytes."""
    buffer = io.BytesIO()
    PILImage.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(
        buffer, "JPEG", quality=95
    )
    return buffer.getvalue()


def rendition_files(disk):
    return (
        sorted(path.name for path in (disk / "images").glob("*"))
        if (disk / "images").exists()
        else []
    )


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_pages_show_the_original_picture_while_the_disk_refuses_renditions(
    client, news_with_picture, media_disk, fault
):
    news, image = news_with_picture
    filler = fill(media_disk) if fault == "full" else read_only(media_disk)

    pages = {url: client.get(url) for url in ("/", "/news/", news.url)}

    for url, response in pages.items():
        assert response.status_code == 200, url
    original = image.file.url
    assert original in pages[news.url].content.decode()
    assert original in pages["/news/"].content.decode()
    assert image.renditions.count() == 0 and rendition_files(media_disk) == []

    # The disk takes files again: the next render makes the renditions.
    if fault == "full":
        filler.unlink()
    else:
        writable(media_disk)
    again = client.get(news.url).content.decode()
    assert image.renditions.exists() and rendition_files(media_disk)
    assert image.renditions.first().url in again


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "x-pass-123")


@pytest.fixture
def collections():
    """The root collection uploads go into (a transactional test starts empty)."""
    if not Collection.objects.exists():
        Collection.add_root(name="Root")


@pytest.mark.parametrize("fault", ["full", "read-only"])
@pytest.mark.django_db(transaction=True)  # as in production: no transaction around the upload
@pytest.mark.usefixtures("collections", "nothing_stored")
def test_an_upload_the_disk_refuses_gets_a_chinese_message_and_leaves_nothing(
    client,
    superuser,
    media_disk,
    fault,
):
    log_in_to_admin(client, superuser)
    # Room for part of the photo: a full disk cuts the write off half-way.
    filler = fill(media_disk) if fault == "full" else None
    if filler is not None:
        os.truncate(filler, filler.stat().st_size - 40 * 1024)
    else:
        read_only(media_disk)
    photo = noisy_jpeg()
    assert len(photo) > 200 * 1024

    single = add_image(client, "photo.jpg", photo)
    multiple = add_images_multiple(client, "photo.jpg", photo)

    assert single.status_code == 507
    assert FULL_MESSAGE in single.content.decode()
    assert multiple.status_code == 200
    reply = multiple.json()
    assert reply["success"] is False and FULL_MESSAGE in reply["error_message"]
    assert get_image_model().objects.count() == 0
    assert not list(Path(media_disk).rglob("photo*"))

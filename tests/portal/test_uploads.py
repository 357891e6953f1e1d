"""Staff uploads through the real admin views: good images, documents and talk
recordings are accepted; a file over its limit, a decompression bomb, or a file
whose content is not what its extension says is refused with a Chinese message
and leaves no row and no file behind. Documents download as attachments."""

import io
import json
import struct
import wave
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, UploadedFile
from wagtailmedia.models import get_media_model

from demo.assets import FILES
from portal.core import groups
from portal.core.uploads import DOCUMENT_SIGNATURES, MEDIA_SIGNATURES, TEXT_EXTENSIONS
from tests.factories import PDF_BYTES, log_in_verified

pytestmark = pytest.mark.django_db

WEBVTT = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\n<v 主讲人>先听对方把话说完。\n".encode()
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"PE\x00\x00"
HTML_WITH_SCRIPT = (
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
)
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
)
MISMATCH = "文件内容与扩展名"


def log_in_to_admin(client, user):
    """Every test reaches the admin through here, so a change to how staff log
    in (a second factor, say) is made once."""
    log_in_verified(client, user)


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "x-password-123")


@pytest.fixture
def editor():
    user = get_user_model().objects.create_user("editor", "editor@example.com", "x-password-123")
    user.groups.add(Group.objects.get(name=groups.EDITORS))
    return user


@pytest.fixture(params=["superuser", "editor"])
def staff_client(request, client):
    """Good files are accepted from a superuser and from an editor."""
    log_in_to_admin(client, request.getfixturevalue(request.param))
    return client


@pytest.fixture
def editor_client(client, editor):
    """Bad files are refused to everyone; the editor is the usual uploader."""
    log_in_to_admin(client, editor)
    return client


def stored_files():
    return {path for path in Path(django_settings.MEDIA_ROOT).rglob("*") if path.is_file()}


@pytest.fixture
def nothing_stored():
    """Asserts after the test that no upload left a row or a file behind."""
    models = [get_document_model(), get_image_model(), get_media_model(), UploadedFile]
    counts = {model: model.objects.count() for model in models}
    files = stored_files()
    yield
    assert {model: model.objects.count() for model in models} == counts
    assert stored_files() == files


# Real files -----------------------------------------------------------------


def jpeg_bytes(size=(320, 180)):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def png_bytes(size=(64, 64)):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width, height):
    """A real decompression bomb: a black 1-bit PNG of width x height pixels,
    a few kilobytes on disk that expand to width x height / 8 bytes."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>扫黑除恶宣传'
            "材料</w:t></w:r></w:p></w:body></w:document>",
        )
    return buffer.getvalue()


def odt_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:'
            'oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:'
            'opendocument:xmlns:text:1.0"><office:body><office:text><text:p>社区通知</text:p>'
            "</office:text></office:body></office:document-content>",
        )
    return buffer.getvalue()


def plain_zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是 Word 文档")
    return buffer.getvalue()


def wav_bytes():
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(1)
        audio.setframerate(8000)
        audio.writeframes(bytes([128]) * 8000)
    return buffer.getvalue()


def mp3_bytes():
    """An ID3v2 tag and ten silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz)."""
    tag = b"ID3\x04\x00\x00" + bytes(4)
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    return tag + frame * 10


def ogg_bytes():
    """The first page of an Ogg stream (the container of .ogg, .oga and .opus)."""
    return (
        b"OggS\x00\x02"
        + bytes(20)
        + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
    )


def upload(name, content):
    return SimpleUploadedFile(name, content)


# Posting through the admin ---------------------------------------------------


def root_collection_id():
    return Collection.get_first_root_node().pk


def add_document(client, name, content, title="测试文件"):
    return client.post(
        reverse("wagtaildocs:add"),
        {"title": title, "file": upload(name, content), "collection": root_collection_id()},
    )


def add_documents_multiple(client, name, content):
    return client.post(
        reverse("wagtaildocs:add_multiple"),
        {"files[]": upload(name, content), "collection": root_collection_id()},
        headers={"x-requested-with": "XMLHttpRequest"},
    )


def add_image(client, name, content):
    return client.post(
        reverse("wagtailimages:add"),
        {"title": "测试图片", "file": upload(name, content), "collection": root_collection_id()},
    )


def add_images_multiple(client, name, content):
    return client.post(
        reverse("wagtailimages:add_multiple"),
        {"files[]": upload(name, content), "collection": root_collection_id()},
        headers={"x-requested-with": "XMLHttpRequest"},
    )


def add_media(client, media_type, name, content, thumbnail=None):
    data = {
        "title": "测试讲座录音",
        "file": upload(name, content),
        "collection": root_collection_id(),
        "duration": "3",
    }
    if thumbnail:
        data["thumbnail"] = upload(*thumbnail)
    return client.post(reverse("wagtailmedia:add", args=[media_type]), data)


def form_errors(response):
    return response.content.decode()


# Documents -------------------------------------------------------------------

GOOD_DOCUMENTS = [
    ("通知.pdf", PDF_BYTES),
    ("宣传材料.docx", docx_bytes()),
    ("社区通知.odt", odt_bytes()),
    ("说明.txt", "扫黑除恶举报渠道:12337 平台。".encode()),
    ("说明-gbk.txt", "扫黑除恶举报渠道:12337 平台。".encode("gbk")),
    ("字幕.vtt", WEBVTT),
]


@pytest.mark.parametrize(("name", "content"), GOOD_DOCUMENTS)
def test_good_documents_are_accepted(staff_client, name, content):
    response = add_document(staff_client, name, content)
    assert response.status_code == 302, form_errors(response)
    document = get_document_model().objects.get()
    with document.file.open("rb") as stored:
        assert stored.read() == content


BAD_DOCUMENTS = [
    ("程序改名.pdf", EXE_BYTES, MISMATCH),
    ("网页改名.pdf", HTML_WITH_SCRIPT, MISMATCH),
    ("压缩包改名.docx", plain_zip_bytes(), MISMATCH),
    ("网页改名.docx", HTML_WITH_SCRIPT, MISMATCH),
    ("网页接压缩包.docx", HTML_WITH_SCRIPT + docx_bytes(), MISMATCH),
    ("网页接压缩包.odt", HTML_WITH_SCRIPT + odt_bytes(), MISMATCH),
    ("网页.txt", HTML_WITH_SCRIPT, "网页代码"),
    ("矢量图.txt", SVG_WITH_SCRIPT, "网页代码"),
    ("程序.txt", EXE_BYTES, MISMATCH),
    ("没有文件头.vtt", "1\n00:00:00.000 --> 00:00:02.000\n字幕\n".encode(), MISMATCH),
    ("字幕带脚本.vtt", WEBVTT + b"\n<script>alert(1)</script>\n", "网页代码"),
    ("网页.html", HTML_WITH_SCRIPT, "html"),
    ("矢量图.svg", SVG_WITH_SCRIPT, "svg"),
    ("程序.exe", EXE_BYTES, "exe"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_DOCUMENTS)
def test_bad_documents_are_refused_with_a_message(
    editor_client, nothing_stored, name, content, message
):
    response = add_document(editor_client, name, content)
    assert response.status_code == 200
    assert message in form_errors(response)


@pytest.mark.parametrize(("name", "content", "message"), BAD_DOCUMENTS)
def test_multiple_upload_refuses_bad_documents(
    editor_client, nothing_stored, name, content, message
):
    response = add_documents_multiple(editor_client, name, content)
    result = json.loads(response.content)
    assert result["success"] is False
    assert message in result["error_message"]


def test_multiple_upload_refuses_a_bad_document_even_when_its_title_is_invalid(
    editor_client, nothing_stored
):
    """A title Wagtail cannot use sends a good file to a holding area to be
    finished later; a bad file must be refused before it gets there."""
    response = editor_client.post(
        reverse("wagtaildocs:add_multiple"),
        {
            "files[]": upload("程序改名.pdf", EXE_BYTES),
            "title": "长" * 300,
            "collection": root_collection_id(),
        },
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    result = json.loads(response.content)
    assert result["success"] is False
    assert MISMATCH in result["error_message"]


def test_multiple_upload_accepts_a_good_document(staff_client):
    response = add_documents_multiple(staff_client, "通知.pdf", PDF_BYTES)
    assert json.loads(response.content)["success"] is True
    assert get_document_model().objects.get().file_size == len(PDF_BYTES)


def test_document_over_the_size_limit_is_refused(editor_client, nothing_stored, settings):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = len(PDF_BYTES) - 1
    response = add_document(editor_client, "通知.pdf", PDF_BYTES)
    assert response.status_code == 200
    assert "文件过大" in form_errors(response)


def test_replacing_a_document_file_is_checked_too(editor_client):
    add_document(editor_client, "通知.pdf", PDF_BYTES)
    document = get_document_model().objects.get()
    files = stored_files()
    response = editor_client.post(
        reverse("wagtaildocs:edit", args=[document.pk]),
        {
            "title": document.title,
            "file": upload("通知.pdf", HTML_WITH_SCRIPT),
            "collection": root_collection_id(),
        },
    )
    assert response.status_code == 200
    assert MISMATCH in form_errors(response)
    document.refresh_from_db()
    with document.file.open("rb") as stored:
        assert stored.read() == PDF_BYTES
    assert stored_files() == files


def test_every_allowed_document_extension_has_a_content_check():
    checked = set(DOCUMENT_SIGNATURES) | TEXT_EXTENSIONS
    assert set(django_settings.WAGTAILDOCS_EXTENSIONS) <= checked


def test_documents_download_as_attachments_pdf_included(editor_client):
    for name, content in [("通知.pdf", PDF_BYTES), ("说明.txt", "举报渠道".encode())]:
        add_document(editor_client, name, content, title=name)
    visitor = Client()
    for document in get_document_model().objects.all():
        response = visitor.get(document.url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content) in (PDF_BYTES, "举报渠道".encode())


# Images ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"), [("封面.jpg", jpeg_bytes()), ("海报.png", png_bytes())]
)
def test_good_images_are_accepted(staff_client, name, content):
    response = add_image(staff_client, name, content)
    assert response.status_code == 302, form_errors(response)
    assert get_image_model().objects.get().width > 0


BAD_IMAGES = [
    ("网页改名.jpg", HTML_WITH_SCRIPT, "扩展名与文件格式不匹配"),
    ("程序改名.png", EXE_BYTES, "请上传一张有效的图片"),
    ("格式不符.jpg", png_bytes(), "扩展名与文件格式不匹配"),
    ("矢量图.svg", SVG_WITH_SCRIPT, "不支持的图片格式"),
    # 8000 x 8000 = 64 million pixels: over our limit, under Pillow's.
    ("炸弹.png", png_bomb(8000, 8000), "图片像素过多,超过上限 50000000 像素"),
    # 14000 x 14000 = 196 million pixels: Pillow itself refuses to open it.
    ("大炸弹.png", png_bomb(14000, 14000), "图片像素过多"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_IMAGES)
def test_bad_images_are_refused_with_a_message(
    editor_client, nothing_stored, name, content, message
):
    response = add_image(editor_client, name, content)
    assert response.status_code == 200
    assert message in form_errors(response)


@pytest.mark.parametrize(("name", "content", "message"), BAD_IMAGES)
def test_multiple_upload_refuses_bad_images(editor_client, nothing_stored, name, content, message):
    response = add_images_multiple(editor_client, name, content)
    result = json.loads(response.content)
    assert result["success"] is False
    assert message in result["error_message"]


def test_decompression_bombs_are_small_files():
    """The bombs above are what an attacker sends: tiny uploads, huge images."""
    assert len(png_bomb(14000, 14000)) < django_settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE / 100


def test_image_over_the_size_limit_is_refused(editor_client, nothing_stored, settings):
    content = jpeg_bytes()
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = len(content) - 1
    response = add_image(editor_client, "封面.jpg", content)
    assert response.status_code == 200
    assert "文件过大" in form_errors(response)


# Talk recordings (wagtailmedia) ---------------------------------------------

GOOD_MEDIA = [
    ("video", "讲座.webm", (FILES / "talk-demo-1.webm").read_bytes()),
    ("video", "讲座.mp4", (FILES / "talk-demo-2.mp4").read_bytes()),
    ("audio", "讲座.wav", wav_bytes()),
    ("audio", "讲座.mp3", mp3_bytes()),
    ("audio", "讲座.opus", ogg_bytes()),
]


@pytest.mark.parametrize(("media_type", "name", "content"), GOOD_MEDIA)
def test_good_recordings_are_accepted(staff_client, media_type, name, content):
    response = add_media(staff_client, media_type, name, content)
    assert response.status_code == 302, form_errors(response)
    media = get_media_model().objects.get()
    assert media.type == media_type
    with media.file.open("rb") as stored:
        assert stored.read() == content


def test_recording_with_a_real_thumbnail_is_accepted(staff_client):
    webm = (FILES / "talk-demo-1.webm").read_bytes()
    response = add_media(staff_client, "video", "讲座.webm", webm, ("缩略图.png", png_bytes()))
    assert response.status_code == 302, form_errors(response)
    assert get_media_model().objects.get().thumbnail.name.endswith(".png")


BAD_MEDIA = [
    ("audio", "图片改名.mp3", png_bytes(), MISMATCH),
    ("audio", "网页改名.wav", HTML_WITH_SCRIPT, MISMATCH),
    ("audio", "程序改名.m4a", EXE_BYTES, MISMATCH),
    ("audio", "视频改名.ogg", (FILES / "talk-demo-1.webm").read_bytes(), MISMATCH),
    ("video", "网页改名.mp4", HTML_WITH_SCRIPT, MISMATCH),
    ("video", "音频改名.webm", wav_bytes(), MISMATCH),
    ("video", "程序.exe", EXE_BYTES, "exe"),
]


@pytest.mark.parametrize(("media_type", "name", "content", "message"), BAD_MEDIA)
def test_bad_recordings_are_refused_with_a_message(
    editor_client, nothing_stored, media_type, name, content, message
):
    response = add_media(editor_client, media_type, name, content)
    assert response.status_code == 200
    assert message in form_errors(response)


def test_media_chooser_upload_in_the_page_editor_is_checked_too(editor_client, nothing_stored):
    """Editors often upload a recording from the talk page's media chooser."""
    prefix = "media-chooser-upload"
    response = editor_client.post(
        reverse("wagtailmedia:chooser_upload", args=["audio"]),
        {
            f"{prefix}-title": "测试讲座录音",
            f"{prefix}-file": upload("图片改名.mp3", png_bytes()),
            f"{prefix}-collection": root_collection_id(),
            f"{prefix}-duration": "3",
        },
    )
    assert response.status_code == 200
    assert MISMATCH in json.loads(response.content)["html"]


def test_recording_form_tells_the_size_limit(editor_client):
    response = editor_client.get(reverse("wagtailmedia:add", args=["video"]))
    assert "文件不超过 500.0\xa0MB" in response.content.decode()


def test_recording_over_the_size_limit_is_refused(editor_client, nothing_stored, settings):
    webm = (FILES / "talk-demo-1.webm").read_bytes()
    settings.MEDIA_MAX_UPLOAD_SIZE = len(webm) - 1
    response = add_media(editor_client, "video", "讲座.webm", webm)
    assert response.status_code == 200
    assert "音视频文件不能超过" in form_errors(response)


@pytest.mark.parametrize(
    "thumbnail",
    [
        ("缩略图.png", HTML_WITH_SCRIPT),
        ("缩略图.jpg", png_bytes()),
        ("炸弹.png", png_bomb(8000, 8000)),
    ],
)
def test_bad_thumbnails_are_refused(editor_client, nothing_stored, thumbnail):
    webm = (FILES / "talk-demo-1.webm").read_bytes()
    response = add_media(editor_client, "video", "讲座.webm", webm, thumbnail)
    assert response.status_code == 200
    content = form_errors(response)
    assert MISMATCH in content or "图片像素过多" in content


def test_every_allowed_media_extension_has_a_content_check():
    allowed = (
        django_settings.WAGTAILMEDIA["AUDIO_EXTENSIONS"]
        + django_settings.WAGTAILMEDIA["VIDEO_EXTENSIONS"]
    )
    assert set(allowed) <= set(MEDIA_SIGNATURES)

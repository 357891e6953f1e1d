"""Checks on the files staff upload in the admin: images, documents and talk
recordings. A file must be within its size limit and its content must be what
its extension claims, so an .exe or a web page renamed to .pdf, or a PNG named
.mp3, is refused with a message and nothing is stored.

Wagtail's image field already compares an image's content with its extension
(through Willow) and counts its pixels; the forms here give its pixel message a
clearer Chinese wording and add the content and size checks Wagtail's documents
and wagtailmedia do not make. The forms are installed through
WAGTAILIMAGES_IMAGE_FORM_BASE, WAGTAILDOCS_DOCUMENT_FORM_BASE and
WAGTAILMEDIA["MEDIA_FORM_BASE"], so every upload view (single, multiple and the
choosers' upload tabs) uses them."""

import os
import re
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image as PILImage
from wagtail.documents.forms import BaseDocumentForm
from wagtail.images.forms import BaseImageForm
from wagtailmedia.forms import BaseMediaForm

# Enough of the start of a file for every signature below.
HEAD_BYTES = 64

ZIP_SIGNATURE = b"PK\x03\x04"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Office 97-2003 .doc/.xls/.ppt
OFFICE_OPEN_XML_FOLDERS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
OPEN_DOCUMENT_TYPES = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
}

# Markup a browser would run if it ever treated a text file as a web page.
ACTIVE_MARKUP = re.compile(
    r"<\s*/?\s*(?:script|html|head|body|i?frame|svg|object|embed|meta|link|style|form"
    r"|img|base|math|a)\b|<!doctype|<\?xml|javascript:",
    re.IGNORECASE,
)

# Wagtail formats this with the pixel count too, but for an image Pillow refuses
# outright the count is "unknown number" in English, so the message leaves it out.
PIXEL_LIMIT_MESSAGE = _(
    "图片像素过多,超过上限 %(max_pixels_count)s 像素;这样大的图片可能是恶意构造的“解压炸弹”。"
    "请把图片缩小(例如长边不超过 6000 像素)后再上传。"
)

THUMBNAIL_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}


def extension_of(uploaded):
    return os.path.splitext(uploaded.name)[1].lower().lstrip(".")


def read_head(uploaded, size=HEAD_BYTES):
    uploaded.seek(0)
    head = uploaded.read(size)
    uploaded.seek(0)
    return head


def read_all(uploaded):
    uploaded.seek(0)
    content = uploaded.read()
    uploaded.seek(0)
    return content


def zip_names(uploaded):
    """The entry names of a ZIP container, or None when it is not one. The file
    must start as a ZIP does: zipfile alone also accepts a web page with an
    archive appended."""
    if not read_head(uploaded).startswith(ZIP_SIGNATURE):
        return None
    try:
        with zipfile.ZipFile(uploaded) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    finally:
        uploaded.seek(0)


def is_pdf(uploaded):
    # Readers accept the header anywhere in the first kilobyte, as do we.
    return b"%PDF-" in read_head(uploaded, 1024)


def is_ole2(uploaded):
    return read_head(uploaded).startswith(OLE2_SIGNATURE)


def is_office_open_xml(uploaded, extension):
    names = zip_names(uploaded)
    if not names or "[Content_Types].xml" not in names:
        return False
    folder = OFFICE_OPEN_XML_FOLDERS[extension]
    return any(name.startswith(folder) for name in names)


def is_open_document(uploaded, extension):
    """An OpenDocument file names its type in a `mimetype` entry."""
    if not read_head(uploaded).startswith(ZIP_SIGNATURE):
        return False
    try:
        with zipfile.ZipFile(uploaded) as archive, archive.open("mimetype") as entry:
            declared = entry.read(100).strip()
    except (zipfile.BadZipFile, KeyError, OSError):
        return False
    finally:
        uploaded.seek(0)
    return declared == OPEN_DOCUMENT_TYPES[extension]


def decoded_text(uploaded):
    """The text of a plain-text file (UTF-8 or the GB18030 family Chinese
    Windows editors save), or None when the file is not text."""
    content = read_all(uploaded)
    if b"\x00" in content:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


DOCUMENT_SIGNATURES = {
    "pdf": is_pdf,
    "doc": is_ole2,
    "xls": is_ole2,
    "ppt": is_ole2,
    "docx": lambda uploaded: is_office_open_xml(uploaded, "docx"),
    "xlsx": lambda uploaded: is_office_open_xml(uploaded, "xlsx"),
    "pptx": lambda uploaded: is_office_open_xml(uploaded, "pptx"),
    "odt": lambda uploaded: is_open_document(uploaded, "odt"),
    "ods": lambda uploaded: is_open_document(uploaded, "ods"),
}
TEXT_EXTENSIONS = {"txt", "vtt"}


def is_mp3(head):
    # An ID3 tag, or straight into an MPEG audio frame (11 set sync bits).
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0)


def is_iso_media(head):
    return head[4:8] == b"ftyp"


def is_ogg(head):
    return head.startswith(b"OggS")


MEDIA_SIGNATURES = {
    "mp3": is_mp3,
    "m4a": is_iso_media,
    "mp4": is_iso_media,
    "ogg": is_ogg,
    "oga": is_ogg,
    "opus": is_ogg,
    "ogv": is_ogg,
    "wav": lambda head: head.startswith(b"RIFF") and head[8:12] == b"WAVE",
    "webm": lambda head: head.startswith(b"\x1a\x45\xdf\xa3"),  # EBML (Matroska/WebM)
}


def content_mismatch_error(extension):
    return ValidationError(
        _(
            "文件内容与扩展名 .%(extension)s 不符,可能是其他类型的文件改了扩展名。"
            "请上传原始的 .%(extension)s 文件。"
        ),
        code="content_mismatch",
        params={"extension": extension},
    )


def check_document(uploaded):
    """Refuse a document whose content is not what its extension says, and any
    text that carries web-page code. Extensions outside WAGTAILDOCS_EXTENSIONS
    are left to Wagtail's own extension check."""
    extension = extension_of(uploaded)
    if extension in TEXT_EXTENSIONS:
        check_text(uploaded, extension)
    elif (matches := DOCUMENT_SIGNATURES.get(extension)) and not matches(uploaded):
        raise content_mismatch_error(extension)


def check_text(uploaded, extension):
    """Plain text and WebVTT captions (which must begin with WEBVTT)."""
    text = decoded_text(uploaded)
    if text is None or (extension == "vtt" and not text.startswith("WEBVTT")):
        raise content_mismatch_error(extension)
    if ACTIVE_MARKUP.search(text):
        raise ValidationError(
            _("文本文件中含有网页代码(如 <script>、<html>、<svg>),不能作为文档上传。"),
            code="active_markup",
        )


def check_media(uploaded):
    """Refuse an audio or video file over MEDIA_MAX_UPLOAD_SIZE or whose
    container is not the one its extension names."""
    limit = settings.MEDIA_MAX_UPLOAD_SIZE
    if uploaded.size > limit:
        raise ValidationError(
            _("文件过大(%(size)s),音视频文件不能超过 %(limit)s。请压缩后再上传。"),
            code="file_too_large",
            params={"size": filesizeformat(uploaded.size), "limit": filesizeformat(limit)},
        )
    extension = extension_of(uploaded)
    matches = MEDIA_SIGNATURES.get(extension)
    if matches is not None and not matches(read_head(uploaded)):
        raise content_mismatch_error(extension)


def check_thumbnail(uploaded):
    """A media thumbnail is an image served as it is: it must be a real image of
    its extension's format, within the image size and pixel limits."""
    limit = settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE
    if uploaded.size > limit:
        raise ValidationError(
            _("缩略图过大(%(size)s),不能超过 %(limit)s。"),
            code="file_too_large",
            params={"size": filesizeformat(uploaded.size), "limit": filesizeformat(limit)},
        )
    extension = extension_of(uploaded)
    try:
        with PILImage.open(uploaded) as image:
            image_format, (width, height) = image.format, image.size
    except PILImage.DecompressionBombError as bomb:
        raise too_many_pixels_error() from bomb
    except (OSError, SyntaxError, ValueError) as unreadable:
        raise content_mismatch_error(extension) from unreadable
    finally:
        uploaded.seek(0)
    if THUMBNAIL_FORMATS.get(extension) != image_format:
        raise content_mismatch_error(extension)
    if width * height > settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS:
        raise too_many_pixels_error()


def too_many_pixels_error():
    return ValidationError(
        PIXEL_LIMIT_MESSAGE,
        code="file_too_many_pixels",
        params={"max_pixels_count": settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS},
    )


def newly_uploaded(value):
    """The uploaded file, or None when the form keeps the file already stored."""
    return value if isinstance(value, UploadedFile) else None


class ImageForm(BaseImageForm):
    """Wagtail's image form with a pixel-limit message an editor understands,
    for images over WAGTAILIMAGES_MAX_IMAGE_PIXELS and for those Pillow itself
    refuses to open as decompression bombs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "file" in self.fields:
            self.fields["file"].error_messages["file_too_many_pixels"] = PIXEL_LIMIT_MESSAGE


class DocumentForm(BaseDocumentForm):
    """Wagtail's document form, also checking the content of a new file."""

    def clean_file(self):
        value = self.cleaned_data.get("file")
        if uploaded := newly_uploaded(value):
            check_document(uploaded)
        return value


class MediaForm(BaseMediaForm):
    """wagtailmedia's form with a size limit and content checks for the
    recording and its thumbnail."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "file" in self.fields:
            self.fields["file"].help_text = _(
                "文件不超过 %(limit)s;内容须与扩展名相符,不要只改扩展名。"
            ) % {"limit": filesizeformat(settings.MEDIA_MAX_UPLOAD_SIZE)}

    def clean_file(self):
        value = self.cleaned_data.get("file")
        if uploaded := newly_uploaded(value):
            check_media(uploaded)
        return value

    def clean_thumbnail(self):
        value = self.cleaned_data.get("thumbnail")
        if uploaded := newly_uploaded(value):
            check_thumbnail(uploaded)
        return value

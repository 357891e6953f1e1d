"""Photos residents send with a request. Each is opened with Pillow and saved
again as a JPEG from its pixels alone: what a phone writes beside them (EXIF
with the GPS position, the camera's serial number, XMP, comments) is not
carried over. Then it is encrypted and stored outside the public media."""

import io
import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.core.privacy import data_cipher

from .models import RequestPhoto

MAX_PHOTOS = 3
MAX_BYTES = 10 * 1024 * 1024
# Pillow refuses to decode more pixels than this (a decompression bomb); a
# 48-megapixel phone camera stays well inside.
MAX_PIXELS = 60_000_000
# Long edge kept: enough to read a notice on a wall, a quarter of the storage.
LONG_EDGE = 2000
FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}

NOT_A_PHOTO = _("“%(name)s”不是照片,请选择 JPG、PNG 或 WebP 格式的图片。")
TOO_LARGE = _("“%(name)s”有 %(size)s,超过了 %(limit)s,请选小一些的照片。")
TOO_MANY_PIXELS = _("“%(name)s”像素过多,请换一张照片。")
TOO_MANY = _("最多可以上传 %(count)d 张照片,请去掉多出的照片。")


def prepare(uploaded):
    """The photo as a JPEG without metadata, with its width and height; or
    ValidationError with a message that names the file."""
    name = uploaded.name[-40:]
    if uploaded.size > MAX_BYTES:
        raise ValidationError(
            TOO_LARGE
            % {
                "name": name,
                "size": filesizeformat(uploaded.size),
                "limit": filesizeformat(MAX_BYTES),
            }
        )
    try:
        with Image.open(uploaded) as image:
            if image.format not in FORMATS:
                raise ValidationError(NOT_A_PHOTO % {"name": name})
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(TOO_MANY_PIXELS % {"name": name})
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        message = (
            TOO_MANY_PIXELS if isinstance(error, Image.DecompressionBombError) else NOT_A_PHOTO
        )
        raise ValidationError(message % {"name": name}) from error
    finally:
        uploaded.seek(0)
    upright.thumbnail((LONG_EDGE, LONG_EDGE))
    # A new image from the pixels alone: no EXIF, XMP, ICC or comment travels on.
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), clean.width, clean.height


def store_pending(prepared):
    """Store prepared photos for a form waiting for its SMS code; returns the
    token that attaches them to the request once it is made."""
    token = secrets.token_urlsafe(24)
    for data, width, height in prepared:
        photo = RequestPhoto(pending_token=token, width=width, height=height)
        photo.file.save("photo.jpg", ContentFile(data_cipher().encrypt(data)), save=False)
        try:
            photo.save()
        except BaseException:
            photo.file.delete(save=False)  # no file without its row
            raise
    return token


def attach(token, request):
    """Give the photos waiting under `token` to `request`."""
    if token:
        RequestPhoto.objects.filter(pending_token=token, request=None).update(
            request=request, pending_token=""
        )

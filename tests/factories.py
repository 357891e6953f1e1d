"""Builders for the real objects tests need: images and documents are real files."""

import io

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

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

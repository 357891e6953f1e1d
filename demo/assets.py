"""The shared asset drawer of the demo site: fonts, pictures, documents,
recordings and page bodies for every section's loader.

Pictures and PDFs are drawn with Pillow and audio is written with the standard
library at seed time; the two short videos were made once and live in files/.
Seeding needs nothing but Python. Each library item is found by its title first,
so seeding again reuses it.
"""

import io
import math
import wave
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image, ImageColor, ImageDraw, ImageFont
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.rich_text import RichText
from wagtailmedia.models import get_media_model

FILES = Path(__file__).resolve().parent / "files"
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

# Every demo recording lasts three seconds; the captions are spread over them.
RECORDING_SECONDS = 3.0

NEWS_PICTURE_SIZE = (1200, 675)
TALK_POSTER_SIZE = (1280, 720)
CAMPAIGN_POSTER_SIZE = (600, 850)
CAMPAIGN_BANNER_SIZE = (1200, 600)
LEAFLET_SIZE = (827, 1169)  # A4 at 100 dpi
NOTICE_SIZE = (595, 842)  # A4 at 72 dpi
WHITE = (255, 255, 255)


def font(size):
    """The Chinese font at `size` points, or None where it is not installed:
    the pictures are then drawn without their words."""
    if FONT_PATH.exists():
        return ImageFont.truetype(str(FONT_PATH), size)
    return None


def rgb(colour):
    """A data file's "#rrggbb" colour as an (r, g, b) tuple."""
    return ImageColor.getrgb(colour)


# The Wagtail libraries: images, documents, audio and video


def image(title, filename, draw, description=""):
    """The image called `title`, drawn by `draw()` (JPEG bytes) the first time."""
    model = get_image_model()
    existing = model.objects.filter(title=title).first()
    if existing:
        return existing
    data = draw()
    picture = model(title=title, description=description)
    picture.file = ImageFile(io.BytesIO(data), name=filename)
    picture.file_size = len(data)
    picture.save()
    return picture


def document(title, filename, write):
    """The document called `title`, written by `write()` (bytes) the first time."""
    model = get_document_model()
    existing = model.objects.filter(title=title).first()
    if existing:
        return existing
    saved = model(title=title)
    saved.file.save(filename, ContentFile(write()), save=False)
    saved._set_document_file_metadata()
    saved.save()
    return saved


def recording(title, filename, write, **fields):
    """The audio or video called `title`, written by `write()` (bytes) the first
    time, with its type, duration and size in `fields`."""
    model = get_media_model()
    existing = model.objects.filter(title=title).first()
    if existing:
        return existing
    media = model(title=title, **fields)
    media.file.save(filename, ContentFile(write()), save=False)
    media.save()
    return media


# Page bodies: the data files' blocks as the shared StreamField's values


def rich_text(paragraphs):
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def body(blocks, document_for=None):
    """StreamField values for a list of data-file blocks, each an object with one
    of the keys heading, paragraphs, list, quote, table or document (a key that
    `document_for` turns into a Document)."""
    return [_block(block, document_for) for block in blocks]


def _block(block, document_for):
    if "heading" in block:
        return ("heading", {"text": block["heading"], "level": "h2"})
    if "paragraphs" in block:
        return ("paragraph", RichText(rich_text(block["paragraphs"])))
    if "list" in block:
        items = "".join(f"<li>{item}</li>" for item in block["list"])
        return ("paragraph", RichText(f"<ul>{items}</ul>"))
    if "quote" in block:
        return ("quote", {"text": block["quote"], "attribution": block.get("attribution", "")})
    if "table" in block:
        return (
            "table",
            {
                "data": block["table"],
                "first_row_is_table_header": True,
                "first_col_is_header": False,
                "table_caption": block["caption"],
            },
        )
    if "document" in block:
        return ("document", {"document": document_for(block["document"]), "title": ""})
    raise ValueError(f"Unknown demo block: {block}")


# Pictures


def _jpeg(picture):
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def news_picture(background, accent, motif, label):
    """A news item's featured image: a plain colour, a simple motif and a label."""
    background, accent = rgb(background), rgb(accent)
    width, height = NEWS_PICTURE_SIZE
    picture = Image.new("RGB", NEWS_PICTURE_SIZE, background)
    draw = ImageDraw.Draw(picture)
    if motif == "grid":
        for x in range(0, width, 75):
            draw.line([(x, 0), (x, height)], fill=accent, width=3)
        for y in range(0, height, 75):
            draw.line([(0, y), (width, y)], fill=accent, width=3)
        draw.rectangle([(675, 225), (825, 375)], fill=accent)
    elif motif == "houses":
        for i, x in enumerate(range(120, width - 100, 260)):
            top = 200 + (i % 2) * 60
            draw.rectangle([(x, top + 90), (x + 170, 480)], fill=accent)
            draw.polygon([(x - 20, top + 90), (x + 85, top), (x + 190, top + 90)], fill=accent)
            draw.rectangle([(x + 60, top + 150), (x + 110, top + 200)], fill=background)
    elif motif == "circles":
        for radius in (230, 160, 90):
            box = [(860 - radius, 260 - radius), (860 + radius, 260 + radius)]
            draw.ellipse(box, outline=accent, width=10)
        draw.ellipse([(825, 225), (895, 295)], fill=accent)
    elif motif == "sun":
        draw.ellipse([(780, 70), (1020, 310)], fill=accent)
        for y in range(360, 500, 45):
            draw.line([(0, y), (width, y)], fill=accent, width=6)
    elif motif == "shield":
        draw.polygon(
            [(860, 60), (1020, 120), (1000, 330), (860, 470), (720, 330), (700, 120)],
            fill=accent,
        )
    label_font = font(72)
    if label_font is not None:
        draw.rectangle([(0, 520), (width, height)], fill=background)
        draw.text((70, 555), label, font=label_font, fill=WHITE)
    return _jpeg(picture)


def talk_poster(top, bottom):
    """A talk's poster: a vertical gradient with soft overlapping circles, a calm,
    text-free motif that reads at any size."""
    (r1, g1, b1), (r2, g2, b2) = rgb(top), rgb(bottom)
    width, height = TALK_POSTER_SIZE
    picture = Image.new("RGB", TALK_POSTER_SIZE)
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / (height - 1)
        colour = (round(r1 + (r2 - r1) * t), round(g1 + (g2 - g1) * t), round(b1 + (b2 - b1) * t))
        draw.line([(0, y), (width, y)], fill=colour)
    for i, (cx, cy, radius) in enumerate([(980, 240, 260), (1120, 520, 180), (240, 600, 220)]):
        shade = 255 - 18 * i
        draw.ellipse(
            [cx - radius, cy - radius, cx + radius, cy + radius],
            outline=(shade, shade, shade),
            width=6,
        )
    return _jpeg(picture)


def _centred_lines(draw, lines, line_font, top, width, spacing=1.35):
    y = top
    for line in lines:
        line_width = draw.textlength(line, font=line_font)
        draw.text(((width - line_width) / 2, y), line, font=line_font, fill=WHITE)
        y += int(line_font.size * spacing)
    return y


def campaign_poster(background, accent, slogan, motif):
    """A portrait campaign poster: a bold background, a simple motif and, when a
    Chinese font is installed, the slogan's lines."""
    background, accent = rgb(background), rgb(accent)
    width, height = CAMPAIGN_POSTER_SIZE
    picture = Image.new("RGB", CAMPAIGN_POSTER_SIZE, background)
    draw = ImageDraw.Draw(picture)
    draw.rectangle([24, 24, width - 24, height - 24], outline=accent, width=8)
    if motif == "shield":
        cx, top = width // 2, 90
        draw.polygon(
            [
                (cx - 150, top),
                (cx + 150, top),
                (cx + 150, top + 170),
                (cx, top + 300),
                (cx - 150, top + 170),
            ],
            fill=accent,
        )
        draw.polygon(
            [
                (cx - 60, top + 130),
                (cx - 20, top + 190),
                (cx + 80, top + 80),
                (cx + 95, top + 95),
                (cx - 20, top + 220),
                (cx - 75, top + 145),
            ],
            fill=background,
        )
    elif motif == "rings":
        for radius, colour in ((170, accent), (120, background), (70, accent)):
            draw.ellipse(
                [width // 2 - radius, 230 - radius, width // 2 + radius, 230 + radius],
                fill=colour,
            )
    elif motif == "stripes":
        for offset in range(-height, width, 70):
            draw.line([(offset, 420), (offset + 400, 20)], fill=accent, width=22)
        draw.rectangle([60, 60, width - 60, 400], outline=accent, width=6)
    elif motif == "coins":  # stacked coins with a warning bar
        for index in range(6):
            y = 360 - index * 38
            draw.ellipse([190, y, 410, y + 60], fill=accent, outline=background, width=4)
        draw.rectangle([60, 430, width - 60, 460], fill=accent)
    slogan_font = font(52)
    if slogan_font is not None:
        _centred_lines(draw, slogan, slogan_font, 500, width)
        _centred_lines(draw, ["金家岭街道"], font(26), height - 90, width)
    return _jpeg(picture)


def campaign_banner(background, accent, slogan):
    """A wide campaign banner: rings on the right, the slogan on the left."""
    background, accent = rgb(background), rgb(accent)
    width, height = CAMPAIGN_BANNER_SIZE
    picture = Image.new("RGB", CAMPAIGN_BANNER_SIZE, background)
    draw = ImageDraw.Draw(picture)
    for index, radius in enumerate((420, 320, 220)):
        colour = accent if index % 2 == 0 else background
        draw.ellipse(
            [width - radius - 80, height // 2 - radius, width + radius - 80, height // 2 + radius],
            fill=colour,
        )
    slogan_font = font(72)
    if slogan_font is not None:
        draw.text((80, height // 2 - 60), slogan, font=slogan_font, fill=WHITE)
    return _jpeg(picture)


# Documents


def _pdf(pages, resolution):
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=resolution, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def notice_pdf(office, number, title):
    """A one-page official notice: the issuing office in red, the document
    number, the title and grey lines for the text."""
    red, black = (180, 20, 20), (0, 0, 0)
    page = Image.new("RGB", NOTICE_SIZE, "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle([(60, 60), (535, 66)], fill=red)
    draw.rectangle([(60, 150), (535, 153)], fill=red)
    large, small = font(22), font(16)
    if large is not None:
        draw.text((60, 90), office, font=large, fill=red)
        draw.text((60, 125), number, font=small, fill=black)
        draw.text((60, 180), title, font=small, fill=black)
    for y in range(230, 760, 28):
        draw.line([(60, y), (535 if y % 140 else 380, y)], fill=(170, 170, 170), width=2)
    return _pdf([page], resolution=72)


def _wrap(draw, text, text_font, max_width):
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=text_font) > max_width:
            lines.append(line)
            line = char
        else:
            line += char
    if line:
        lines.append(line)
    return lines


def leaflet_pdf(title, sections):
    """A printable leaflet: one A4 page per section, each an object with a
    heading and its paragraphs."""
    red, dark_red, ink = (164, 22, 26), (122, 15, 18), (31, 35, 40)
    width, height = LEAFLET_SIZE
    heading_font, text_font = font(40), font(26)
    pages = []
    for number, section in enumerate(sections, start=1):
        page = Image.new("RGB", LEAFLET_SIZE, WHITE)
        draw = ImageDraw.Draw(page)
        draw.rectangle([0, 0, width, 110], fill=red)
        draw.rectangle([0, height - 50, width, height], fill=red)
        if heading_font is not None:
            draw.text((60, 32), title, font=heading_font, fill=WHITE)
            draw.text((60, 160), section["heading"], font=heading_font, fill=dark_red)
            y = 240
            for paragraph in section["paragraphs"]:
                for line in _wrap(draw, paragraph, text_font, width - 120):
                    draw.text((60, y), line, font=text_font, fill=ink)
                    y += 42
                y += 24
            draw.text((60, height - 44), f"第 {number} 页", font=text_font, fill=WHITE)
        pages.append(page)
    return _pdf(pages, resolution=100)


def webvtt(cues, seconds=RECORDING_SECONDS):
    """WebVTT captions with the cues spread evenly over the recording."""
    step = seconds / len(cues)
    lines = ["WEBVTT", ""]
    for number, text in enumerate(cues):
        start, end = number * step, (number + 1) * step
        lines += [str(number + 1), f"{_timestamp(start)} --> {_timestamp(end)}", text, ""]
    return "\n".join(lines).encode("utf-8")


def _timestamp(seconds):
    minutes, secs = divmod(seconds, 60)
    return f"00:{int(minutes):02d}:{secs:06.3f}"


# Recordings


def tone_wav(frequency, seconds=RECORDING_SECONDS, rate=8000):
    """A soft tone that fades in and out: 8 kHz, 8-bit mono, about 24 KB."""
    frames = int(seconds * rate)
    fade = rate // 2
    samples = bytearray()
    for n in range(frames):
        envelope = min(1.0, n / fade, (frames - n) / fade)
        value = 0.25 * envelope * math.sin(2 * math.pi * frequency * n / rate)
        samples.append(128 + round(127 * value))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(rate)
        sound.writeframes(bytes(samples))
    return buffer.getvalue()


def video_file(name):
    """One of the short demo videos in files/."""
    return (FILES / name).read_bytes()

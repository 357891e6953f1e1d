"""Build the page benchmark's dataset: the demo site plus many news items and
talks, added in bulk, and residents' requests with their trails
(bench/request_data.py).

Wagtail's ``add_child`` validates, saves and re-reads the parent for every page
(about 15 ms each here), so 20,000 news items would take minutes. The bulk path
writes what ``add_child`` followed by a publish would leave behind: the
treebeard path and depth, the url_path, live and first-published fields, the
page row and the page type's own row, then the tags. Pages get no revision,
which public pages never read.
"""

import contextlib
import datetime
import io
import time
from io import StringIO

import request_data
from django.contrib.contenttypes.models import ContentType
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Page
from wagtail.rich_text import RichText

from portal.news.models import NewsCategory, NewsIndexPage, NewsPage, NewsPageTag
from portal.talks.models import Speaker, TalkIndexPage, TalkPage, TalkPageTag

NEWS_PREFIX = "bench-news-"
TALK_PREFIX = "bench-talk-"
BATCH = 1000
IMAGE_COUNT = 12

TOPICS = [
    "心理咨询室开放时间调整",
    "出租房屋消防安全排查",
    "扫黑除恶常态化宣传进社区",
    "长者食堂助餐服务",
    "网格员培训",
    "青少年心理健康讲座",
    "垃圾分类志愿服务",
    "居民议事会",
    "防范电信诈骗",
    "社区义诊",
]
TAGS = [
    "心理健康", "网格治理", "出租房屋", "消防安全", "扫黑除恶", "养老服务", "助餐",
    "志愿服务", "反诈", "青少年", "家庭教育", "社区活动", "政策解读", "就业", "医疗",
    "环境整治", "平安建设", "老旧小区", "文明创建", "便民服务",
]  # fmt: skip
TALK_TAGS = ["睡眠", "考试焦虑", "家庭沟通", "情绪管理", "老年心理", "压力", "亲子关系"]
SENTENCES = [
    "街道各管区按照统一部署,结合辖区实际细化工作方案,明确责任人和完成时限。",
    "居民如有疑问,可在工作日到所在社区服务中心咨询,也可拨打街道服务热线。",
    "网格员将逐户上门走访,登记有关情况,入户时佩戴工作证,不收取任何费用。",
    "心理咨询室由专业机构的咨询师值班,预约后按约定时间到场即可,咨询内容严格保密。",
    "活动期间请注意出行安全,老年人和行动不便的居民可请家属或网格员陪同。",
    "街道将定期通报工作进展,对居民反映集中的问题建立台账,逐项跟踪办理。",
]


class Timer:
    """Named durations of the build steps, in seconds."""

    def __init__(self, report):
        self.report = report
        self.seconds = {}

    def step(self, name, function, *args, **kwargs):
        started = time.perf_counter()
        with contextlib.redirect_stdout(StringIO()):  # demo booking texts and mails
            result = function(*args, **kwargs)
        self.seconds[name] = time.perf_counter() - started
        self.report(f"  {name}: {self.seconds[name]:.1f} s")
        return result


def build(news_count, talk_count, request_count=0, report=print):
    """Migrate, seed the demo site, add news, talks and residents' requests up
    to the given counts (counting those an earlier run added) and rebuild the
    search index. Returns the duration of each step."""
    from wagtail.models import Page
    from wagtail.search.models import IndexEntry

    timer = Timer(report)
    timer.step("migrate", call_command, "migrate", "--noinput", "--verbosity=0")
    pages_before = Page.objects.count()
    timer.step("seed_demo", call_command, "seed_demo", "--no-admin", "--verbosity=0")
    timer.step(f"add {news_count} news", add_news, news_count)
    timer.step(f"add {talk_count} talks", add_talks, talk_count)
    added_requests = 0
    if request_count:
        added_requests = timer.step(
            f"add {request_count} requests", request_data.add_requests, request_count
        )
    # A kept work folder whose pages and published answers are all indexed
    # already skips the longest step (7 minutes for 20,000 news on PostgreSQL).
    if Page.objects.count() != pages_before or added_requests or not IndexEntry.objects.exists():
        timer.step("update_index", call_command, "update_index", stdout=StringIO())
    from django.db import connection

    from portal.core.management.commands.backup import analyze

    timer.step("analyze", analyze, connection)  # as after any bulk load
    return timer.seconds


def add_news(count):
    index = NewsIndexPage.objects.get()
    existing = NewsPage.objects.filter(slug__startswith=NEWS_PREFIX).count()
    categories = list(NewsCategory.objects.all())
    tags = tags_named(TAGS)
    images = bench_images()
    today = timezone.localdate()
    pages, page_tags = [], []
    for number in range(existing, count):
        date = today - datetime.timedelta(days=number // 3)
        topic = TOPICS[number % len(TOPICS)]
        pages.append(
            NewsPage(
                title=f"{topic}(第 {number + 1} 期)",
                slug=f"{NEWS_PREFIX}{number + 1:05d}",
                date=date,
                category=categories[number % len(categories)],
                intro=f"{topic}:{SENTENCES[number % len(SENTENCES)]}",
                featured_image=images[number % len(images)] if number % 3 != 2 else None,
                body=body(number),
                first_published_at=published_at(date),
            )
        )
        page_tags.append([tags[(number + k * 7) % len(tags)] for k in range(3)])
    add_children(index, pages)
    NewsPageTag.objects.bulk_create(
        [
            NewsPageTag(content_object_id=page.pk, tag=tag)
            for page, chosen in zip(pages, page_tags, strict=True)
            for tag in chosen
        ],
        batch_size=BATCH,
    )


def add_talks(count):
    index = TalkIndexPage.objects.get()
    existing = TalkPage.objects.filter(slug__startswith=TALK_PREFIX).count()
    # Reuse the demo talks' recordings, posters and captions: the page shows
    # their metadata, not their bytes.
    models = list(TalkPage.objects.child_of(index).public().exclude(media=None))
    speakers = list(Speaker.objects.all())
    tags = tags_named(TALK_TAGS)
    today = timezone.localdate()
    pages, page_tags = [], []
    for number in range(existing, count):
        model = models[number % len(models)]
        recorded_on = today - datetime.timedelta(days=number * 3 + 400)
        pages.append(
            TalkPage(
                title=f"{TOPICS[number % len(TOPICS)]}专题讲座(第 {number + 1} 讲)",
                slug=f"{TALK_PREFIX}{number + 1:04d}",
                summary=SENTENCES[number % len(SENTENCES)],
                media_id=model.media_id,
                poster_id=model.poster_id,
                captions_id=model.captions_id,
                speaker=speakers[number % len(speakers)],
                recorded_on=recorded_on,
                transcript="".join(f"<p>{sentence}</p>" for sentence in SENTENCES),
                first_published_at=published_at(recorded_on),
            )
        )
        page_tags.append([tags[number % len(tags)], tags[(number + 3) % len(tags)]])
    add_children(index, pages)
    TalkPageTag.objects.bulk_create(
        [
            TalkPageTag(content_object_id=page.pk, tag=tag)
            for page, chosen in zip(pages, page_tags, strict=True)
            for tag in chosen
        ],
        batch_size=BATCH,
    )


def add_children(parent, pages):
    """Append ``pages`` (unsaved, all of one type) as live children of
    ``parent``: one page row and one type row per page, in batches."""
    if not pages:
        return
    model = type(pages[0])
    content_type = ContentType.objects.get_for_model(model)
    depth = parent.depth + 1
    last = parent.get_last_child()
    step = Page._str2int(last.path[-Page.steplen :]) if last else 0
    page_fields = [f.attname for f in Page._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        for start in range(0, len(pages), BATCH):
            chunk = pages[start : start + BATCH]
            for page in chunk:
                step += 1
                page.path = Page._get_path(parent.path, depth, step)
                page.depth = depth
                page.numchild = 0
                page.content_type = content_type
                page.locale_id = parent.locale_id
                page.draft_title = page.title
                page.url_path = f"{parent.url_path}{page.slug}/"
                page.live = True
                page.has_unpublished_changes = False
                page.last_published_at = page.first_published_at
            rows = Page.objects.bulk_create(
                [Page(**{name: getattr(page, name) for name in page_fields}) for page in chunk]
            )
            for page, row in zip(chunk, rows, strict=True):
                page.pk = page.page_ptr_id = row.pk
            model._base_manager._insert(chunk, fields=model._meta.local_concrete_fields)
        Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + len(pages))


def body(number):
    paragraphs = [SENTENCES[(number + k) % len(SENTENCES)] for k in range(4)]
    return [
        ("heading", {"text": "工作安排", "level": "h2"}),
        ("paragraph", RichText("".join(f"<p>{text}</p>" for text in paragraphs))),
    ]


def published_at(date):
    return datetime.datetime.combine(date, datetime.time(9), timezone.get_current_timezone())


def tags_named(names):
    return [Tag.objects.get_or_create(name=name, defaults={"slug": name})[0] for name in names]


def bench_images():
    """A dozen featured images shared by the benchmark's news items."""
    Image = get_image_model()
    images = list(Image.objects.filter(title__startswith="基准测试题图").order_by("pk"))
    for number in range(len(images), IMAGE_COUNT):
        picture = PILImage.new("RGB", (1200, 675), (30 + number * 15, 90, 140))
        ImageDraw.Draw(picture).rectangle((200, 150, 1000, 525), fill=(250, 214, 102))
        content = io.BytesIO()
        picture.save(content, "JPEG", quality=80)
        image = Image(title=f"基准测试题图 {number + 1}")
        image.file = ImageFile(content, name=f"bench-{number + 1}.jpg")
        image.save()
        images.append(image)
    return images

"""Demo talks: the talk index, four speakers from a partner counselling centre and
six recorded talks, two of them for grid workers only. Every talk has a real,
tiny media file, a poster, WebVTT captions and a transcript. Audio is generated
here with the standard library; the two short videos were made once and live in
demo_assets/, so seeding needs nothing but Python."""

import datetime
import io
import math
import wave
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtailmedia.models import get_media_model

from .models import Speaker, TalkIndexPage, TalkPage
from .privacy import restrict_to_staff

ASSETS = Path(__file__).resolve().parent / "demo_assets"

# Video files shipped in demo_assets/: (file name, seconds, width, height).
VIDEOS = {
    "webm": ("talk-demo-1.webm", 3.008, 160, 90),
    "mp4": ("talk-demo-2.mp4", 3.0, 160, 90),
}

INSTITUTION = "青岛安澜心理咨询服务中心"

INDEX = {
    "slug": "talks",
    "title": "心理讲座",
    "intro": (
        "街道与合作的专业心理咨询机构共同录制的讲座,按不同季节和人群选题,"
        "可以在线收听收看,每期都配有中文字幕和文字稿。"
    ),
}

SPEAKERS = [
    {
        "name": "周静怡",
        "title": f"国家二级心理咨询师,{INSTITUTION}",
        "bio": "从事社区心理服务十余年,长期为老年人和照护者提供情绪支持与团体辅导。",
    },
    {
        "name": "陈明远",
        "title": f"心理治疗师,{INSTITUTION}",
        "bio": "关注青少年学业压力与亲子关系,定期到辖区中小学开展心理健康讲座。",
    },
    {
        "name": "林晓岚",
        "title": f"婚姻家庭咨询师,{INSTITUTION}",
        "bio": "擅长家庭沟通与冲突调解,带领过多期社区家长成长小组。",
    },
    {
        "name": "高志强",
        "title": f"国家二级心理咨询师、中级社会工作师,{INSTITUTION}",
        "bio": "为基层工作人员开展压力管理和沟通技巧培训,熟悉社区矛盾调处一线工作。",
    },
]

TALKS = [
    {
        "slug": "elderly-emotional-wellbeing",
        "title": "老年人情绪调适:退休以后如何过得舒心",
        "speaker": "周静怡",
        "recorded_on": datetime.date(2026, 9, 18),
        "tags": ["老年人", "情绪调适"],
        "featured": True,
        "staff": False,
        "media": "audio",
        "tone": 392.0,
        "colours": ((233, 196, 106), (244, 162, 97)),
        "summary": "退休、子女离家、身体变化都会让情绪起伏。讲座介绍几种在家就能做的调适方法,也提醒家人留意需要求助的信号。",
        "cues": ["退休以后,时间突然多了出来。", "先把每天的作息安排好,情绪也会跟着稳下来。"],
        "transcript": [
            "大家好。很多老朋友退休以后跟我说,刚开始挺轻松,过了几个月反而觉得空落落的,晚上睡不踏实,看什么都提不起兴趣。这是很常见的适应过程,不是“想不开”。",
            "第一个建议是给每天定一个大致的作息:几点起床、几点出门走走、几点午休。有规律的生活能给情绪一个稳定的底子。",
            "第二个建议是保持和人的联系。到社区活动室下下棋、参加合唱队,或者每周给老同事打个电话,都比一个人待在家里好。",
            "最后提醒家人:如果老人连续两周以上情绪低落、吃不下睡不着,或者说出“活着没意思”这样的话,请及时陪同就医,或拨打心理援助热线。",
        ],
    },
    {
        "slug": "exam-anxiety-teenagers",
        "title": "青少年考试焦虑:家长可以做什么",
        "speaker": "陈明远",
        "recorded_on": datetime.date(2026, 5, 20),
        "tags": ["青少年", "考试焦虑", "亲子关系"],
        "featured": True,
        "staff": False,
        "media": "webm",
        "colours": ((42, 157, 143), (138, 201, 188)),
        "summary": "中考、高考前,孩子紧张、失眠、发脾气都可能是焦虑的表现。讲座帮助家长分辨正常的紧张和需要帮助的焦虑,并给出陪伴的办法。",
        "cues": ["适度的紧张能帮助孩子集中注意力。", "家长先稳住自己,孩子才能稳下来。"],
        "transcript": [
            "每到考试季,总有家长问我:孩子最近特别烦躁,是不是心理出了问题?其实适度的紧张是正常的,它能让人更专注。",
            "需要留意的是持续的、影响生活的焦虑:比如连续失眠、头痛胃痛查不出原因、一提考试就哭,或者完全不愿意去学校。",
            "家长能做的第一件事,是管理好自己的焦虑。少问分数,多问“今天累不累”;饭桌上聊点轻松的事情。",
            "也可以教孩子一个简单的呼吸练习:用四秒吸气,停一下,再用六秒慢慢呼气,重复几次,身体会放松下来。",
        ],
    },
    {
        "slug": "family-communication",
        "title": "家庭沟通:把话说到对方心里",
        "speaker": "林晓岚",
        "recorded_on": datetime.date(2026, 7, 9),
        "tags": ["家庭沟通", "亲子关系"],
        "featured": True,
        "staff": False,
        "media": "audio",
        "tone": 349.2,
        "colours": ((231, 111, 81), (244, 162, 97)),
        "summary": "家里的争吵,常常不是因为事情本身,而是因为说话的方式。讲座用几个日常场景,练习“先听完、再表达”的沟通方法。",
        "cues": ["先听对方把话说完。", "说出自己的感受,而不是指责对方。"],
        "transcript": [
            "我们先想一个场景:孩子放学回家把书包一扔就去玩手机,家长脱口而出“你就知道玩”。接下来多半就是一场争吵。",
            "换一种说法试试:“我看你今天挺累的,先歇十分钟,然后我们一起看看作业好吗?”先描述看到的事实,再说自己的期待。",
            "夫妻之间也是一样。用“我觉得……”开头,说出自己的感受,比“你总是……”更容易被听进去。",
            "如果家里的矛盾已经持续很久,自己化解不了,可以预约街道的心理咨询室,和咨询师一起梳理。",
        ],
    },
    {
        "slug": "sleep-and-stress",
        "title": "睡眠与压力:睡不好的时候怎么办",
        "speaker": "周静怡",
        "recorded_on": datetime.date(2026, 3, 12),
        "tags": ["睡眠", "压力管理"],
        "featured": False,
        "staff": False,
        "media": "mp4",
        "colours": ((38, 70, 83), (42, 157, 143)),
        "summary": "压力大的时候,最先受影响的往往是睡眠。讲座讲解压力和失眠的关系,介绍睡前放松和改善睡眠习惯的实用方法。",
        "cues": ["躺下二十分钟还睡不着,就先起来。", "困了再回到床上。"],
        "transcript": [
            "很多人都有过这样的经历:白天事情一多,晚上躺在床上脑子停不下来,越想睡越睡不着。",
            "一个有效的办法是:躺下二十分钟还睡不着,就起来到客厅,开一盏暗一点的灯,看看书,困了再回到床上。这样床就重新和“睡觉”联系在一起。",
            "睡前一小时少看手机,晚饭后不喝浓茶和咖啡,每天尽量在同一时间起床,哪怕前一晚没睡好。",
            "如果失眠持续一个月以上,或者伴随明显的情绪低落,建议到医院睡眠门诊或精神心理科就诊。",
        ],
    },
    {
        "slug": "grid-worker-stress-relief",
        "title": "网格员压力疏导:照顾好居民,也照顾好自己",
        "speaker": "高志强",
        "recorded_on": datetime.date(2026, 10, 15),
        "tags": ["网格员", "压力管理"],
        "featured": False,
        "staff": True,
        "media": "audio",
        "tone": 293.7,
        "colours": ((69, 123, 157), (168, 218, 220)),
        "summary": "网格员每天面对大量入户走访和居民诉求,容易积累疲惫和委屈。讲座介绍识别职业倦怠的信号和几种下班后的减压方法。",
        "cues": ["感到累和委屈,并不说明你做得不好。", "给自己留一点下班后的缓冲时间。"],
        "transcript": [
            "各位网格员同事,大家辛苦了。我们的工作琐碎又要求细致,一天下来接了几十个电话、走了十几户,累是正常的。",
            "要留意倦怠的信号:对原本在意的事变得麻木,一听到电话铃就心烦,下班后还反复想着白天的争执。",
            "建议给自己设一个“下班仪式”:换下工作服,散步十分钟,或者听一首喜欢的歌,让大脑知道工作已经结束。",
            "遇到特别难处理的个案,及时向管区和同事求助,不必一个人扛。街道的心理咨询室同样向工作人员开放。",
        ],
    },
    {
        "slug": "talking-with-agitated-residents",
        "title": "与情绪激动群众沟通的技巧",
        "speaker": "高志强",
        "recorded_on": datetime.date(2026, 8, 26),
        "tags": ["网格员", "沟通技巧"],
        "featured": False,
        "staff": True,
        "media": "webm",
        "colours": ((109, 89, 122), (181, 131, 141)),
        "summary": "上门调解噪音、装修、群租等纠纷时,常会遇到情绪激动的居民。讲座讲解先稳情绪、再谈事情的沟通步骤和保护自身安全的要点。",
        "cues": ["先处理情绪,再处理事情。", "保持安全距离,必要时请同事陪同。"],
        "transcript": [
            "调解邻里纠纷时,对方一开口就很冲,这时候讲道理往往没用。我们要先处理情绪,再处理事情。",
            "第一步是倾听和复述:“您的意思是,楼上装修从早到晚都有噪音,已经影响老人休息了,对吧?”让对方感到被听见。",
            "第二步是说明我们能做什么、什么时候给回复,不轻易许诺做不到的事情。",
            "同时要注意自身安全:入户时两人同行,站在靠近门口的位置;对方有过激行为时先离开现场,必要时拨打 110。",
        ],
    },
]


def seed(home):
    """Create the talk index, speakers and talks under the home page; running it
    again changes nothing."""
    index = TalkIndexPage.objects.child_of(home).filter(slug=INDEX["slug"]).first()
    if index is None:
        index = TalkIndexPage(
            title=INDEX["title"],
            slug=INDEX["slug"],
            intro=INDEX["intro"],
            search_description=INDEX["intro"],
            show_in_menus=True,
        )
        home.add_child(instance=index)
    speakers = {data["name"]: _speaker(data) for data in SPEAKERS}
    for data in TALKS:
        talk = TalkPage.objects.child_of(index).filter(slug=data["slug"]).first()
        if talk is None:
            talk = _create_talk(index, data, speakers[data["speaker"]])
        if data["staff"]:
            restrict_to_staff(talk)
    return index


def _speaker(data):
    speaker, _created = Speaker.objects.get_or_create(
        name=data["name"], defaults={"title": data["title"], "bio": data["bio"]}
    )
    return speaker


def _create_talk(index, data, speaker):
    talk = TalkPage(
        title=data["title"],
        slug=data["slug"],
        summary=data["summary"],
        search_description=data["summary"],
        speaker=speaker,
        recorded_on=data["recorded_on"],
        featured=data["featured"],
        audience=TalkPage.Audience.STAFF if data["staff"] else TalkPage.Audience.RESIDENTS,
        media=_media(data),
        poster=_poster(data),
        captions=_captions(data),
        transcript="".join(f"<p>{paragraph}</p>" for paragraph in data["transcript"]),
    )
    talk.tags.add(*data["tags"])
    index.add_child(instance=talk)
    talk.save_revision().publish()
    return talk


def _media(data):
    Media = get_media_model()
    title = f"讲座录音录像:{data['title']}"
    media = Media.objects.filter(title=title).first()
    if media:
        return media
    if data["media"] == "audio":
        content, seconds = _tone_wav(data["tone"])
        media = Media(title=title, type="audio", duration=seconds)
        media.file.save(f"{data['slug']}.wav", ContentFile(content), save=False)
    else:
        filename, seconds, width, height = VIDEOS[data["media"]]
        media = Media(title=title, type="video", duration=seconds, width=width, height=height)
        extension = filename.rsplit(".", 1)[1]
        content = (ASSETS / filename).read_bytes()
        media.file.save(f"{data['slug']}.{extension}", ContentFile(content), save=False)
    media.save()
    return media


def _tone_wav(frequency, seconds=3.0, rate=8000):
    """A soft tone that fades in and out: 8 kHz, 8-bit mono, about 24 KB."""
    frames = int(seconds * rate)
    fade = rate // 2
    samples = bytearray()
    for n in range(frames):
        envelope = min(1.0, n / fade, (frames - n) / fade)
        value = 0.25 * envelope * math.sin(2 * math.pi * frequency * n / rate)
        samples.append(128 + round(127 * value))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(rate)
        wav.writeframes(bytes(samples))
    return buffer.getvalue(), frames / rate


def _poster(data):
    Image = get_image_model()
    title = f"讲座封面:{data['title']}"
    image = Image.objects.filter(title=title).first()
    if image:
        return image
    width, height = 1280, 720
    (r1, g1, b1), (r2, g2, b2) = data["colours"]
    picture = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / (height - 1)
        colour = (round(r1 + (r2 - r1) * t), round(g1 + (g2 - g1) * t), round(b1 + (b2 - b1) * t))
        draw.line([(0, y), (width, y)], fill=colour)
    # Soft overlapping circles: a calm, text-free motif that reads at any size.
    for i, (cx, cy, radius) in enumerate([(980, 240, 260), (1120, 520, 180), (240, 600, 220)]):
        shade = 255 - 18 * i
        draw.ellipse(
            [cx - radius, cy - radius, cx + radius, cy + radius],
            outline=(shade, shade, shade),
            width=6,
        )
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=80)
    image = Image(title=title, description="")
    image.file = ImageFile(io.BytesIO(buffer.getvalue()), name=f"{data['slug']}-poster.jpg")
    image.save()
    return image


def _captions(data):
    Document = get_document_model()
    title = f"讲座字幕:{data['title']}"
    document = Document.objects.filter(title=title).first()
    if document:
        return document
    document = Document(title=title)
    document.file.save(f"{data['slug']}.vtt", ContentFile(_webvtt(data["cues"])), save=False)
    document.save()
    return document


def _webvtt(cues):
    """Cues spread evenly over the three-second demo recording."""
    step = 3.0 / len(cues)
    lines = ["WEBVTT", ""]
    for number, text in enumerate(cues):
        start, end = number * step, (number + 1) * step
        lines += [str(number + 1), f"{_timestamp(start)} --> {_timestamp(end)}", text, ""]
    return "\n".join(lines).encode("utf-8")


def _timestamp(seconds):
    minutes, secs = divmod(seconds, 60)
    return f"00:{int(minutes):02d}:{secs:06.3f}"

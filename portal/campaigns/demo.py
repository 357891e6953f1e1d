"""Demo content for the 扫黑除恶 section: an index and two campaign pages with
posters and a PDF leaflet drawn with Pillow at seed time, so seeding needs
nothing but Python. Running seed() again changes nothing."""

import io
import os
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.rich_text import RichText

from .models import (
    CampaignDocument,
    CampaignFAQ,
    CampaignIndexPage,
    CampaignPage,
    CampaignPoster,
)

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
POSTER_SIZE = (600, 850)
BANNER_SIZE = (1200, 600)
LEAFLET_SIZE = (827, 1169)  # A4 at 100 dpi

MAIL_ADDRESS = "崂山区扫黑除恶专项斗争领导小组办公室\n(通信地址以崂山区官方公布的为准)"


def _font(size):
    if os.path.exists(FONT_PATH):
        return ImageFont.truetype(FONT_PATH, size)
    return None


def _jpeg(image):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def _centred_lines(draw, lines, font, top, width, fill, spacing=1.35):
    y = top
    for line in lines:
        line_width = draw.textlength(line, font=font)
        draw.text(((width - line_width) / 2, y), line, font=font, fill=fill)
        y += int(font.size * spacing)
    return y


def draw_poster(background, accent, slogan_lines, motif):
    """A portrait poster: a bold background, a simple motif and, when a Chinese
    font is installed, the slogan."""
    width, height = POSTER_SIZE
    image = Image.new("RGB", POSTER_SIZE, background)
    draw = ImageDraw.Draw(image)
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
    else:  # "coins": stacked coins with a warning bar
        for index in range(6):
            y = 360 - index * 38
            draw.ellipse([190, y, 410, y + 60], fill=accent, outline=background, width=4)
        draw.rectangle([60, 430, width - 60, 460], fill=accent)

    font = _font(52)
    if font is not None:
        _centred_lines(draw, slogan_lines, font, 500, width, (255, 255, 255))
        small = _font(26)
        _centred_lines(draw, ["金家岭街道"], small, height - 90, width, (255, 255, 255))
    return _jpeg(image)


def draw_banner(background, accent, slogan):
    width, height = BANNER_SIZE
    image = Image.new("RGB", BANNER_SIZE, background)
    draw = ImageDraw.Draw(image)
    for index, radius in enumerate((420, 320, 220)):
        colour = accent if index % 2 == 0 else background
        draw.ellipse(
            [width - radius - 80, height // 2 - radius, width + radius - 80, height // 2 + radius],
            fill=colour,
        )
    font = _font(72)
    if font is not None:
        draw.text((80, height // 2 - 60), slogan, font=font, fill=(255, 255, 255))
    return _jpeg(image)


def _wrap(draw, text, font, max_width):
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > max_width:
            lines.append(line)
            line = char
        else:
            line += char
    if line:
        lines.append(line)
    return lines


def draw_leaflet(title, sections):
    """A multi-page PDF leaflet: one page per (heading, paragraphs) section."""
    pages = []
    heading_font, text_font = _font(40), _font(26)
    for number, (heading, paragraphs) in enumerate(sections, start=1):
        page = Image.new("RGB", LEAFLET_SIZE, (255, 255, 255))
        draw = ImageDraw.Draw(page)
        width, height = LEAFLET_SIZE
        draw.rectangle([0, 0, width, 110], fill=(164, 22, 26))
        draw.rectangle([0, height - 50, width, height], fill=(164, 22, 26))
        if heading_font is not None:
            draw.text((60, 32), title, font=heading_font, fill=(255, 255, 255))
            y = 160
            draw.text((60, y), heading, font=heading_font, fill=(122, 15, 18))
            y += 80
            for paragraph in paragraphs:
                for line in _wrap(draw, paragraph, text_font, width - 120):
                    draw.text((60, y), line, font=text_font, fill=(31, 35, 40))
                    y += 42
                y += 24
            draw.text((60, height - 44), f"第 {number} 页", font=text_font, fill=(255, 255, 255))
        pages.append(page)
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=100, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def _image(title, description, render, filename):
    model = get_image_model()
    existing = model.objects.filter(title=title).first()
    if existing:
        return existing
    data = render()
    image = model(title=title, description=description)
    image.file = ImageFile(io.BytesIO(data), name=filename)
    image.file_size = len(data)
    image.save()
    return image


def _document(title, render, filename):
    model = get_document_model()
    existing = model.objects.filter(title=title).first()
    if existing:
        return existing
    data = render()
    document = model(title=title)
    document.file.save(filename, ContentFile(data), save=False)
    document.file_size = len(data)
    document.save()
    return document


def _paragraph(*paragraphs):
    return ("paragraph", RichText("".join(f"<p>{text}</p>" for text in paragraphs)))


def _list(*items):
    return ("paragraph", RichText("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"))


def _heading(text):
    return ("heading", {"text": text, "level": "h2"})


def seed(home):
    """Create the 扫黑除恶 index and two campaign pages under home, once."""
    index = CampaignIndexPage.objects.child_of(home).filter(slug="saohei").first()
    if index is None:
        index = CampaignIndexPage(
            title="扫黑除恶",
            slug="saohei",
            show_in_menus=True,
            intro="扫黑除恶常态化宣传资料:海报、资料下载和常见问题。举报线索请通过官方渠道,本网站不收集线索。",
        )
        home.add_child(instance=index)
        index.save_revision().publish()

    for build in (_normalisation_campaign, _loan_fraud_campaign):
        build(index)
    return index


def _publish(index, page, posters, documents, faqs):
    """Attach the posters, documents and questions to a new page and publish it."""
    page.posters = [
        CampaignPoster(image=image, alt_text=alt, caption=caption)
        for image, alt, caption in posters
    ]
    page.documents = [
        CampaignDocument(document=document, description=description)
        for document, description in documents
    ]
    page.faqs = [CampaignFAQ(question=q, answer=a) for q, a in faqs]
    index.add_child(instance=page)
    page.save_revision().publish()
    return page


def _normalisation_campaign(index):
    if CampaignPage.objects.child_of(index).filter(slug="changtaihua").exists():
        return
    red, gold, blue, navy = (164, 22, 26), (230, 180, 40), (20, 80, 150), (20, 40, 80)
    poster_specs = [
        (
            "扫黑除恶海报:人人有责",
            red,
            gold,
            ["扫黑除恶", "人人有责"],
            "shield",
            "红底海报,金色盾牌图案,标语“扫黑除恶 人人有责”。",
            "张贴在楼道和社区宣传栏的主题海报。",
        ),
        (
            "扫黑除恶海报:线索请找12337",
            blue,
            gold,
            ["发现线索", "请找 12337"],
            "rings",
            "蓝底海报,同心圆图案,标语“发现线索 请找 12337”,提示通过全国扫黑办 12337 平台举报。",
            "提示居民使用官方举报平台。",
        ),
        (
            "扫黑除恶海报:平安金家岭",
            navy,
            red,
            ["平安金家岭", "共建共享"],
            "stripes",
            "深蓝底海报,红色斜纹图案,标语“平安金家岭 共建共享”。",
            "适合沿街商户门口张贴。",
        ),
        (
            "扫黑除恶海报:依法严惩",
            red,
            navy,
            ["依法严惩", "保护群众"],
            "shield",
            "红底海报,深蓝色盾牌图案,标语“依法严惩 保护群众”。",
            "说明依法打击、保护群众的宣传海报。",
        ),
    ]
    posters = [
        (
            _image(
                title,
                alt,
                lambda b=bg, a=ac, s=slogan, m=motif: draw_poster(b, a, s, m),
                f"saohei-poster-{n}.jpg",
            ),
            alt,
            caption,
        )
        for n, (title, bg, ac, slogan, motif, alt, caption) in enumerate(poster_specs, start=1)
    ]
    banner = _image(
        "扫黑除恶常态化宣传横幅",
        "红色横幅,写有“扫黑除恶 人人有责”。",
        lambda: draw_banner(red, gold, "扫黑除恶 人人有责"),
        "saohei-banner.jpg",
    )
    leaflet = _document(
        "扫黑除恶居民宣传手册",
        lambda: draw_leaflet(
            "扫黑除恶居民宣传手册",
            [
                (
                    "什么是黑恶势力",
                    [
                        "黑恶势力是指以暴力、威胁或者其他手段,在一定区域或行业内多次实施违法犯罪活动,"
                        "欺压群众、扰乱经济和社会秩序的组织或团伙。",
                        "常见表现包括:强揽工程、欺行霸市,收取“保护费”,暴力讨债,"
                        "以“软暴力”手段滋扰他人生活等。",
                    ],
                ),
                (
                    "线索怎样举报",
                    [
                        "网络:登录全国扫黑办 12337 智能化举报平台 www.12337.gov.cn,"
                        "或使用“12337”手机客户端、微信小程序。",
                        "电话:拨打 110 向当地公安机关举报。",
                        "信件:寄往当地扫黑办;当面:到就近的公安派出所反映。",
                        "本街道网站只做宣传,不收集、不受理线索。",
                    ],
                ),
            ],
        ),
        "saohei-shouce.pdf",
    )
    page = CampaignPage(
        title="扫黑除恶常态化宣传",
        slug="changtaihua",
        date=timezone.localdate() - timedelta(days=3),
        intro="扫黑除恶转入常态化以后,街道持续做好线索核查和宣传工作。这里汇集宣传海报、"
        "居民手册和常见问题,并告诉您如何通过官方渠道举报。",
        is_current=True,
        banner_text="扫黑除恶 人人有责:发现线索请登录 12337 平台或拨打 110",
        banner_image=banner,
        report_mail_address=MAIL_ADDRESS,
        body=[
            _heading("街道怎样办理线索"),
            _paragraph(
                "金家岭街道对上级交办和群众反映的涉黑涉恶线索实行“移交—办理—反馈”闭环管理:"
                "线索按职责移交有关部门,办理过程有人盯、有时限,办理结果逐件反馈。",
                "每一条线索都单独建档,做到一案一卷,台账清楚,随时可查。",
            ),
            _heading("办结以后还要“回头看”"),
            _paragraph(
                "对已经办结的线索,街道定期组织“回头看”,重新核对核查结论和整改情况,"
                "看问题是否真正解决、有没有反弹,确保件件有着落。"
            ),
            _heading("哪些情况值得警惕"),
            _list(
                "以暴力、威胁等手段强揽工程、垄断经营、欺行霸市;",
                "在市场、工地、小区收取“保护费”“管理费”;",
                "以“套路贷”、暴力或“软暴力”手段讨债,滋扰当事人及其家人;",
                "操纵、破坏基层选举,侵占集体资产;",
                "为黑恶势力通风报信、充当“保护伞”。",
            ),
            _paragraph(
                "发现上述线索,请通过本页“如何举报”中的官方渠道反映。请不要自行调查取证,"
                "也不要与对方正面冲突,注意保护自身安全。"
            ),
        ],
    )
    faqs = [
        (
            "可以在这个网站上举报吗?",
            "<p>不可以。本网站只发布宣传资料,不收集、不受理任何举报线索。请登录全国扫黑办 12337 "
            "智能化举报平台(www.12337.gov.cn)、使用“12337”客户端或微信小程序,或拨打 110 举报。</p>",
        ),
        (
            "举报后我的个人信息会泄露吗?",
            "<p>有关部门依法对举报人信息严格保密。实名举报便于核实情况和反馈结果,"
            "您也可以按平台提示选择举报方式。</p>",
        ),
        (
            "举报线索需要准备哪些材料?",
            "<p>尽量写清楚时间、地点、涉及的人员或单位、发生了什么事情,有照片、录音、"
            "票据等材料的可以一并提供。不掌握的情况不必猜测。</p>",
        ),
        (
            "街道收到线索后怎么办?",
            "<p>街道按“移交—办理—反馈”机制把线索转交有权处理的部门,办理结果逐件反馈,"
            "每条线索一案一卷;办结后还会“回头看”,检查问题是否真正解决。</p>",
        ),
        (
            "遇到有人上门暴力讨债怎么办?",
            "<p>人身安全第一。请立即拨打 <strong>110</strong> 报警,不要与对方发生肢体冲突,"
            "有条件的记下对方体貌特征和车牌号码。</p>",
        ),
        (
            "宣传海报可以打印张贴吗?",
            "<p>可以。点击海报下方的“下载原图”即可保存原始图片,适合社区、物业、商户打印张贴。</p>",
        ),
    ]
    _publish(
        index,
        page,
        posters,
        [(leaflet, "两页,介绍黑恶势力的常见表现和官方举报渠道,可打印发放。")],
        faqs,
    )


def _loan_fraud_campaign(index):
    if CampaignPage.objects.child_of(index).filter(slug="fangfan-taoludai").exists():
        return
    orange, green, purple, dark = (200, 80, 0), (15, 95, 92), (90, 40, 120), (40, 40, 40)
    poster_specs = [
        (
            "防范套路贷海报:低息诱惑",
            orange,
            dark,
            ["低息放款", "小心是套"],
            "coins",
            "橙色海报,叠放的硬币和警示条,标语“低息放款 小心是套”。",
            "“低息”“无抵押”往往是套路贷的开头。",
        ),
        (
            "防范套路贷海报:空白合同",
            green,
            orange,
            ["不签空白合同", "不交“保证金”"],
            "stripes",
            "绿色海报,橙色斜纹,标语“不签空白合同 不交保证金”。",
            "签字之前看清合同每一页。",
        ),
        (
            "防范非法集资海报:高息陷阱",
            purple,
            orange,
            ["高息保本", "必是陷阱"],
            "rings",
            "紫色海报,同心圆图案,标语“高息保本 必是陷阱”。",
            "承诺保本高收益的“理财”要警惕。",
        ),
    ]
    posters = [
        (
            _image(
                title,
                alt,
                lambda b=bg, a=ac, s=slogan, m=motif: draw_poster(b, a, s, m),
                f"taoludai-poster-{n}.jpg",
            ),
            alt,
            caption,
        )
        for n, (title, bg, ac, slogan, motif, alt, caption) in enumerate(poster_specs, start=1)
    ]
    card = _document(
        "防范套路贷和非法集资提示卡",
        lambda: draw_leaflet(
            "防范套路贷和非法集资提示卡",
            [
                (
                    "记住这几条",
                    [
                        "借钱找银行等正规金融机构,不轻信“低息”“秒到账”“无抵押”的广告。",
                        "不签空白合同,不签与实际借款金额不符的借条,不交各种名目的“保证金”。",
                        "承诺保本保息、高额回报、拉人头返利的“投资”“养老项目”,多半是非法集资。",
                        "遭遇暴力或“软暴力”催收,保留证据并拨打 110;"
                        "涉黑涉恶线索可登录 12337 平台举报。",
                    ],
                )
            ],
        ),
        "taoludai-tishika.pdf",
    )
    page = CampaignPage(
        title="防范“套路贷”和非法集资",
        slug="fangfan-taoludai",
        date=timezone.localdate() - timedelta(days=40),
        intro="“套路贷”和非法集资专盯急需用钱、想让积蓄增值的人。认清常见套路,守好自己的钱袋子。",
        banner_text="低息放款、高息保本,都可能是陷阱",
        report_mail_address=MAIL_ADDRESS,
        body=[
            _heading("“套路贷”是怎么设套的"),
            _list(
                "以“低息”“无抵押”“当天放款”为诱饵吸引借款;",
                "诱导签订虚高金额的借款合同或空白合同,再制造银行流水“坐实”借款;",
                "以“逾期”“违约”为名不断垒高债务,要求借新还旧;",
                "用堵门、喷漆、电话轰炸、骚扰家人等“软暴力”手段催收。",
            ),
            _heading("非法集资的常见说法"),
            _paragraph(
                "“保本保息”“月月分红”“拉人头有奖励”“投资养老公寓送床位”“数字货币稳赚”,"
                "这些说法往往是非法集资的幌子。前期给一点甜头,等投入变多就卷款跑路。"
            ),
            _heading("怎样保护自己"),
            _paragraph(
                "借款请找正规金融机构,合同逐页看清再签字,保管好借条、转账记录和聊天记录。"
                "家里老人是这类骗局的常见目标,子女要多提醒、多陪伴。",
                "已经被骗或遭遇暴力催收,请保留证据,拨打 110 报警。",
            ),
        ],
    )
    faqs = [
        (
            "怎样分辨正规借贷和“套路贷”?",
            "<p>正规借贷合同金额与实际到手金额一致,利率公开透明,不会要求签空白合同。"
            "到手金额少于合同金额、要求先交“手续费”“保证金”的,都要提高警惕。</p>",
        ),
        (
            "已经签了虚高的借条怎么办?",
            "<p>保留实际转账记录、聊天记录等证据,及时向公安机关报案,不要继续“借新还旧”。</p>",
        ),
        (
            "收到催收人员的威胁短信怎么办?",
            "<p>截图保存短信和来电记录。对方上门滋扰或威胁人身安全时,立即拨打 110。</p>",
        ),
        (
            "亲戚拉我投资“养老项目”,年收益很高,可信吗?",
            "<p>承诺保本、高收益、拉人头返利的项目风险极高,很可能是非法集资。"
            "投资前可以向金融监管部门核实对方是否具有相关资质。</p>",
        ),
        (
            "可以把线索发给街道网站吗?",
            "<p>不可以,本网站不收集线索。涉黑涉恶线索请通过全国扫黑办 12337 智能化举报平台举报,"
            "或拨打 110 向公安机关反映。</p>",
        ),
    ]
    _publish(
        index,
        page,
        posters,
        [(card, "一页,列出防范“套路贷”和非法集资的要点,适合贴在家中或转发给老人。")],
        faqs,
    )

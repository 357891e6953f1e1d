"""Demo content shared by the whole site: the home page, site settings and the
plain pages (about, privacy notice, accessibility statement)."""

from urllib.parse import urlsplit

from django.conf import settings
from wagtail.models import Page, Site

from portal.home.models import HomePage

from .models import SiteSettings, StandardPage

HOME = {
    "title": "金家岭街道",
    "slug": "jinjialing",
    "hero_title": "欢迎访问金家岭街道",
    "hero_text": "在这里查看街道政策新闻、收听心理讲座、了解扫黑除恶宣传资料,并预约离您最近的心理咨询室。",
    "booking_text": "街道办事处和五个管区各设有一处心理咨询室,配备专业设备,由合作机构的咨询师值班。",
    "search_description": "青岛市崂山区金家岭街道门户:政策新闻、心理讲座、扫黑除恶宣传和心理咨询室预约。",
}

PAGES = [
    {
        "slug": "about",
        "title": "走进金家岭",
        "intro": "金家岭街道位于青岛市崂山区,下设五个管区,以网格化方式为居民提供服务。",
        "paragraphs": [
            (
                "网格化服务",
                "街道以“街道—管区—社区—网格”四级组织开展基层治理。两百多名网格员分片联系楼栋和商户,居民遇到邻里纠纷、噪音扰民等问题,可以先找所在网格的网格员。",
            ),
            (
                "社会心理服务",
                "街道与专业心理咨询机构合作,在街道办事处和五个管区各设一处心理咨询室,并把专家讲座录制下来,放在本站“心理讲座”栏目,方便居民随时收听。",
            ),
            (
                "平安建设",
                "街道常态化开展扫黑除恶宣传,对上级交办的线索逐条核查、一案一卷。居民举报请使用全国 12337 平台等官方渠道。",
            ),
        ],
    },
    {
        "slug": "privacy",
        "title": "隐私政策",
        "intro": "本站尽量少地收集个人信息,只在提供服务所必需时收集,并按期删除。",
        "paragraphs": [
            (
                "浏览本站",
                "浏览新闻、讲座和宣传资料不需要注册,本站不使用第三方统计或广告代码,不从其他网站加载字体或脚本。",
            ),
            (
                "心理咨询预约",
                "预约心理咨询时,只需填写称呼(可用化名)、手机号码、可选的电子邮箱和就诊类型。关于困扰的简要说明是可选项,需要您单独勾选同意后才会保存。预约信息仅心理咨询协调员可以查看,每次查看和导出都有记录,并在咨询日期后的规定期限内删除,只保留不含个人信息的统计数字。",
            ),
            (
                "您的权利",
                "您可以凭预约编号和手机号码查看、修改或取消预约;如需查询或删除个人信息,请联系街道办事处。",
            ),
        ],
    },
    {
        "slug": "accessibility",
        "title": "无障碍声明",
        "intro": "我们希望每一位居民,包括老年人和残障人士,都能方便地使用本站。",
        "paragraphs": [
            (
                "本站的做法",
                "本站以《Web 内容无障碍指南》(WCAG)2.1 AA 级为目标:页面可以只用键盘操作,图片提供替代文字,讲座视频配有中文字幕和文字稿,且不会自动播放;页面在小屏手机上也能正常阅读,关闭 JavaScript 时仍可使用。",
            ),
            (
                "遇到困难怎么办",
                "如果您在使用本站时遇到困难,请拨打街道服务电话,我们会在工作日内回复,并提供所需内容的其他形式。",
            ),
        ],
    },
]

SITE_SETTINGS = {
    "organisation": "青岛市崂山区金家岭街道办事处",
    "address": "青岛市崂山区云岭路 18 号",
    "postcode": "266061",
    "phone": "0532-8899 0000",
    "email": "service@jinjialing.example",
    "office_hours": "工作日 9:00–12:00,13:30–17:30",
    "counselling_hotline": "12356",
    "report_hotline": "0532-8899 0110",
    "icp_number": "鲁ICP备00000000号-1(示例)",
    "police_record_number": "鲁公网安备 37021200000000号(示例)",
}


def _paragraph_body(paragraphs):
    body = []
    for heading, text in paragraphs:
        body.append(("heading", {"text": heading, "level": "h2"}))
        body.append(("paragraph", f"<p>{text}</p>"))
    return body


def seed_home():
    """The home page as the root of the default site; Wagtail's welcome page goes."""
    root = Page.get_first_root_node()
    home = HomePage.objects.first()
    if home is None:
        home = root.add_child(instance=HomePage(**HOME))
    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    base = urlsplit(settings.WAGTAILADMIN_BASE_URL)
    site.hostname = base.hostname or "localhost"
    site.port = base.port or (443 if base.scheme == "https" else 80)
    site.site_name = "金家岭街道"
    site.root_page = home
    site.save()
    Page.objects.child_of(root).exclude(pk=home.pk).filter(content_type__model="page").delete()
    SiteSettings.objects.update_or_create(site=site, defaults=SITE_SETTINGS)
    return home


def seed_pages(home):
    for data in PAGES:
        if StandardPage.objects.child_of(home).filter(slug=data["slug"]).exists():
            continue
        page = StandardPage(
            title=data["title"],
            slug=data["slug"],
            intro=data["intro"],
            body=_paragraph_body(data["paragraphs"]),
            search_description=data["intro"],
        )
        home.add_child(instance=page)

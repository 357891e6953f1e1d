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
                "我们的目标",
                "本站以《Web 内容无障碍指南》(WCAG)2.1 AA 级为目标,在手机和电脑上都经过检查。如果发现做得不够的地方,请告诉我们。",
            ),
            (
                "长辈模式",
                "每个页面顶部都有“开启长辈模式”按钮。开启后,文字放大到 1.5 倍,行距加大,文字和按钮采用黑白等高对比颜色,链接一律带下划线,按钮和链接更大、更好点,页面内容排成一列,从上往下读即可。页面顶部只留站名和一个大“菜单”按钮,栏目导航、搜索框和“关闭长辈模式”都在菜单里,点一下打开,再点一下收起(不开启 JavaScript 也能用)。本站会在您的浏览器里记住这个选择一年,换页面、下次再来都有效;打开菜单,点击“关闭长辈模式”即可恢复。这项设置只保存“已开启”一项,不用于识别您的身份。",
            ),
            (
                "键盘和读屏软件",
                "所有功能,包括预约心理咨询,都可以只用键盘完成:按 Tab 键逐项移动,当前所在位置有清楚的蓝色或白色框线;页面开头的“跳到主要内容”链接可以跳过导航。页面有规范的标题、导航区域和表单标签,可以配合读屏软件使用。填写表单出错时,页面顶部会列出需要修改的内容,点击即可跳到对应的输入框,读屏软件也会读出错误。信息不只靠颜色区分,例如当前所在栏目同时有下划线标出。",
            ),
            (
                "讲座音视频",
                "讲座视频配有中文字幕和完整文字稿,部分讲座另有音频版本;视频字幕随长辈模式一起放大,收听音频讲座时,播放器下方逐句显示正在讲的话。音视频不会自动播放。本站没有闪烁或自动滚动的内容,并遵从您在系统中“减少动态效果”的设置。",
            ),
            (
                "手机、放大和网络",
                "页面在 360 像素宽的小屏手机上也能完整阅读和预约,浏览器放大到 200% 时内容不会被截断。关闭 JavaScript 时,浏览、搜索、收听讲座和预约仍然可用。本站不加载其他网站的字体、统计或广告代码。",
            ),
            (
                "已知不足",
                "部分附件(如 PDF 文件)可能无法被读屏软件完整读出。如需某份资料的文字版或其他形式,请联系我们。",
            ),
            (
                "遇到困难怎么办",
                "如果您在使用本站时遇到困难,或发现无障碍方面的问题,请拨打页面底部的街道服务电话或发送邮件,说明您访问的页面和遇到的问题。我们会在工作日内回复,并提供所需内容的其他形式,例如电话告知或纸质材料。",
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

"""Demo content for the news section: the news index, five categories and two
dozen news items from 2025 and 2026. Running seed() again changes nothing."""

import datetime
import io
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.rich_text import RichText

from .models import NewsCategory, NewsIndexPage, NewsPage, NewsPageRelatedNews

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

OFFICE = "金家岭街道办事处"
PARTY_OFFICE = "中共青岛市崂山区金家岭街道工作委员会"

INDEX = {
    "slug": "news",
    "title": "政策新闻",
    "intro": "街道发布的通知公告、政策解读和工作动态。正式文件标注发文机关和文号,可下载全文。",
    "search_description": "金家岭街道通知公告、政策解读、街道动态、民生服务和平安建设新闻。",
}

CATEGORIES = [
    ("tongzhi", "通知公告", "街道办事处发布的正式通知、公告和工作安排。"),
    ("jiedu", "政策解读", "用通俗的话讲清楚与居民相关的政策和工作机制。"),
    ("dongtai", "街道动态", "管区、社区和网格的工作进展与活动报道。"),
    ("minsheng", "民生服务", "养老、助餐、心理健康等便民服务信息。"),
    ("pingan", "平安建设", "出租房屋治理、消防安全和扫黑除恶常态化宣传。"),
]

# Featured images: a background colour, an accent colour, a motif and a label.
IMAGES = {
    "grid": ((28, 86, 140), (255, 214, 102), "grid", "网格治理"),
    "housing": ((150, 58, 46), (255, 236, 210), "houses", "出租房屋治理"),
    "counselling": ((34, 120, 110), (232, 246, 240), "circles", "心理咨询室"),
    "elderly": ((164, 96, 28), (255, 247, 230), "sun", "关爱老年人"),
    "safety": ((40, 52, 90), (230, 64, 64), "shield", "扫黑除恶 平安建设"),
    "talk": ((88, 60, 128), (240, 230, 255), "circles", "心理健康讲座"),
    "meal": ((92, 112, 38), (250, 250, 225), "sun", "长者食堂"),
    "fire": ((176, 40, 36), (255, 200, 80), "shield", "消防安全"),
}


def h(text, level="h2"):
    return ("heading", {"text": text, "level": level})


def p(*paragraphs):
    return ("paragraph", RichText("".join(f"<p>{text}</p>" for text in paragraphs)))


def ul(*items):
    return ("paragraph", RichText("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"))


def quote(text, attribution=""):
    return ("quote", {"text": text, "attribution": attribution})


def table(caption, header, *rows):
    return (
        "table",
        {
            "data": [list(header), *[list(row) for row in rows]],
            "first_row_is_table_header": True,
            "first_col_is_header": False,
            "table_caption": caption,
        },
    )


def doc(key):
    """A placeholder resolved to a generated PDF when the page is created."""
    return ("document", key)


NEWS = [
    {
        "slug": "rental-housing-survey-2025",
        "date": "2025-01-10",
        "title": "关于开展2025年度出租房屋集中排查的通知",
        "category": "tongzhi",
        "tags": ["群租房", "出租房屋", "消防安全"],
        "intro": "1月至3月,街道组织网格员对辖区出租房屋逐户排查,完善一户一档台账。",
        "office": OFFICE,
        "number": "崂金政发〔2025〕1号",
        "image": "housing",
        "body": [
            p(
                "各管区、各社区,街道各有关科室:为消除出租房屋特别是群租房存在的消防、治安隐患,"
                "经研究,决定在全街道开展出租房屋集中排查,现将有关事项通知如下。"
            ),
            h("一、排查范围"),
            p(
                "辖区内所有住宅小区、城中村改造回迁楼和沿街商住楼中用于出租的房屋,重点是"
                "一套房屋内居住人数较多、隔断改造或用作员工宿舍的房屋。"
            ),
            h("二、时间安排"),
            table(
                "排查工作安排",
                ["阶段", "时间", "主要内容"],
                ["动员部署", "1月10日—1月20日", "各社区明确网格责任人,培训排查要点"],
                ["入户排查", "1月21日—3月10日", "逐户登记房屋结构、居住人数和消防设施"],
                ["整改复核", "3月11日—3月31日", "对发现的问题限期整改并上门复核"],
            ),
            h("三、有关要求"),
            p(
                "排查做到房屋底数清、房屋结构清、居住人员清。入户时网格员须佩戴工作证,"
                "不得收取任何费用。居民对排查工作有疑问的,可向所在社区咨询。"
            ),
            doc("rental-survey-notice"),
        ],
    },
    {
        "slug": "three-level-handling-explained",
        "date": "2025-02-18",
        "title": "一图读懂“三级办理”:群租房问题谁来管、怎么管",
        "category": "jiedu",
        "tags": ["群租房", "三级办理", "基层治理"],
        "intro": "社区发现、管区协调、街道联合整治,群租房投诉按问题大小分级办理。",
        "body": [
            p(
                "群租房带来的噪音、消防和环境卫生问题,是居民反映较多的事项。"
                "街道按照“依法依规、属地为主、行业联动、联合整治”的原则,把处置分为三级。"
            ),
            h("第一级:社区当场处置"),
            p(
                "居民向网格员或社区反映后,社区工作人员上门核实,能够当场协调的,"
                "如作息冲突、公共区域堆物,由社区组织房东、租户和邻居面对面沟通解决。"
            ),
            h("第二级:管区协调"),
            p(
                "涉及房屋隔断、居住人数明显超标等需要多方配合的问题,由管区牵头,"
                "约谈房东和承租单位,督促限期整改。"
            ),
            h("第三级:街道联合整治"),
            p("存在严重消防隐患或拒不整改的,由街道协调公安、消防、市场监管等部门联合执法。"),
            quote(
                "堵不如疏。多数群租问题通过沟通就能化解,执法是最后一道关口。", "街道社会治理办公室"
            ),
        ],
    },
    {
        "slug": "spring-grid-visits-2025",
        "date": "2025-03-05",
        "title": "200余名网格员完成春季入户走访",
        "category": "dongtai",
        "tags": ["网格治理", "网格员"],
        "intro": "网格员分片走访楼栋和沿街商户,收集居民意见,更新人员台账。",
        "image": "grid",
        "body": [
            p(
                "春节过后,街道200余名网格员陆续走进各自负责的楼栋和商户,开展春季入户走访。"
                "走访中,网格员重点了解独居老人、困难家庭的近况,核对出租房屋居住人员信息。"
            ),
            p(
                "对居民提出的楼道照明、车辆乱停等问题,网格员当场记录,能解决的当天协调,"
                "需要多部门处理的按流程上报,办理结果再回访告知居民。"
            ),
            quote("小事不出社区,大事不出街道,靠的就是网格员一趟趟跑出来的熟悉。"),
        ],
    },
    {
        "slug": "counselling-rooms-open",
        "date": "2025-03-20",
        "title": "关于街道心理咨询室对外开放的公告",
        "category": "tongzhi",
        "tags": ["心理咨询", "心理健康"],
        "intro": "街道办事处和五个管区的六处心理咨询室即日起对居民开放,可在线预约。",
        "office": OFFICE,
        "number": "崂金政发〔2025〕3号",
        "image": "counselling",
        "body": [
            p(
                "为加强社会心理服务体系建设,街道与专业心理咨询机构合作,在街道办事处和五个管区"
                "各设立一处心理咨询室,按要求配备专业设备,现对辖区居民开放。"
            ),
            h("一、咨询室分布"),
            table(
                "心理咨询室分布",
                ["咨询室", "所在位置", "服务对象"],
                ["街道心理咨询室", "街道办事处", "全街道居民"],
                ["第一至第五管区心理咨询室", "各管区服务站", "本管区居民优先"],
            ),
            h("二、预约方式"),
            p(
                "居民可通过本站“心理咨询预约”栏目选择咨询室和时段,也可拨打街道服务电话预约。"
                "预约只需留下称呼(可用化名)和手机号码,个人信息严格保密。"
            ),
            h("三、温馨提示"),
            p(
                "如遇紧急心理危机,请立即拨打全国心理援助热线 12356;如有人身安全危险,请拨打 110 或 120。"
            ),
        ],
    },
    {
        "slug": "how-to-report-gang-crime",
        "date": "2025-04-12",
        "title": "发现涉黑涉恶线索,通过哪些官方渠道举报?",
        "category": "jiedu",
        "tags": ["扫黑除恶", "平安建设"],
        "intro": "请通过全国12337智能化举报平台等官方渠道实名或匿名举报,本站不收集线索。",
        "body": [
            p(
                "扫黑除恶转入常态化后,群众举报仍是发现线索的重要来源。为保护举报人,"
                "本站不接收任何线索,请通过以下官方渠道反映。"
            ),
            h("官方举报渠道"),
            ul(
                "全国扫黑办12337智能化举报平台(网站、微信公众号和手机客户端);",
                "所在地公安机关报警电话 110,情况紧急时请立即拨打;",
                "到就近的派出所当面反映。",
            ),
            h("线索如何办理"),
            p(
                "对上级交办的线索,街道按照“移交—办理—反馈”的流程逐条核查,做到一案一卷、台账完善,"
                "办理结果按规定向交办单位反馈。"
            ),
            quote("举报人的个人信息受法律保护,任何单位和个人不得泄露。"),
        ],
    },
    {
        "slug": "renovation-noise-mediation",
        "date": "2025-04-28",
        "title": "网格员上门调解装修噪音 邻里约定施工时段",
        "category": "dongtai",
        "tags": ["网格治理", "邻里调解"],
        "intro": "一位居民反映楼上装修影响休息,网格员当天协调,双方约定避开午休和夜间施工。",
        "body": [
            p(
                "4月下旬,一位退休居民向所在网格反映,楼上住户装修时常在中午施工,"
                "家中老人难以休息。网格员接到反映后,当天下午先后走访了两户人家。"
            ),
            p(
                "网格员没有简单“传话”,而是把双方请到楼下的议事角,从邻里多年相处讲起。"
                "装修户表示此前不了解楼下情况,主动提出调整工期。"
            ),
            table(
                "双方约定的施工时段",
                ["日期", "可施工时间"],
                ["工作日", "8:30—12:00,14:00—18:00"],
                ["周末及节假日", "不进行噪音较大的作业"],
            ),
            p(
                "一周后网格员回访,楼下居民说家里清静了不少。这类邻里纠纷,街道提倡先找网格员,"
                "把矛盾化解在萌芽状态。"
            ),
        ],
    },
    {
        "slug": "anti-gang-crime-in-communities",
        "date": "2025-05-15",
        "title": "扫黑除恶宣传走进社区广场",
        "category": "pingan",
        "tags": ["扫黑除恶", "平安建设", "宣传"],
        "intro": "街道在各管区设置宣传点,用案例讲解识别“套路贷”和非法催收。",
        "image": "safety",
        "body": [
            p(
                "5月中旬,街道联合派出所、司法所在五个管区的社区广场设置宣传点,"
                "向居民发放宣传资料,讲解常见的涉黑涉恶违法手段。"
            ),
            h("居民最关心的问题"),
            ul(
                "借款合同中出现“砍头息”、虚增债务,可能是“套路贷”;",
                "以滋扰、跟踪、辱骂等方式催收债务属于违法行为;",
                "遇到强迫交易、欺行霸市,可以向公安机关报案。",
            ),
            p(
                "宣传点还向老年居民重点讲解了以“投资养老”为名的非法集资手法。"
                "举报请通过12337平台或拨打110。"
            ),
        ],
    },
    {
        "slug": "summer-visits-for-elderly-living-alone",
        "date": "2025-06-03",
        "title": "关于做好夏季独居老人关爱巡访工作的通知",
        "category": "tongzhi",
        "tags": ["养老服务", "独居老人"],
        "intro": "高温期间,网格员对独居、高龄老人每周至少电话问候两次、上门探访一次。",
        "office": OFFICE,
        "number": "崂金政办发〔2025〕12号",
        "body": [
            p(
                "各管区、各社区:为防范高温天气对老年人健康的影响,现就做好夏季独居老人关爱巡访工作通知如下。"
            ),
            h("一、巡访对象"),
            p(
                "辖区内独居、空巢、高龄及失能半失能老年人,以社区登记的名册为准,"
                "各社区在6月10日前完成名册核对。"
            ),
            h("二、巡访频次"),
            table(
                "巡访频次要求",
                ["对象", "电话问候", "上门探访"],
                ["独居、空巢老人", "每周2次", "每周1次"],
                ["高龄、失能半失能老人", "每天1次", "每周2次"],
            ),
            h("三、工作要求"),
            p(
                "巡访时关注老人饮水、用电和用药情况,发现身体不适的及时联系家属并协助就医。"
                "巡访情况如实记录,不得代填、漏填。"
            ),
        ],
    },
    {
        "slug": "elderly-canteens-expand",
        "date": "2025-06-20",
        "title": "长者助餐点扩容 新增两处社区食堂",
        "category": "minsheng",
        "tags": ["养老服务", "助餐"],
        "intro": "两处新的社区食堂投入使用,老人在家门口就能吃上热乎饭,行动不便的可预约送餐。",
        "image": "meal",
        "body": [
            p(
                "6月下旬,街道新增的两处社区食堂开门迎客。食堂提供午餐和晚餐,"
                "菜品少油少盐,每天有软烂易咀嚼的菜品供老人选择。"
            ),
            h("谁可以用餐"),
            p(
                "辖区居民均可就餐,60周岁以上老年人凭本人身份证享受助餐优惠;"
                "行动不便的老人,可由家属或网格员代为预约送餐上门。"
            ),
            quote("以前一个人懒得做饭,现在下楼走几分钟就能和老邻居一块吃。", "一位就餐的老人"),
        ],
    },
    {
        "slug": "group-rental-follow-up",
        "date": "2025-07-08",
        "title": "群租房整治“回头看”:一户一档台账动态更新",
        "category": "pingan",
        "tags": ["群租房", "出租房屋", "消防安全"],
        "intro": "对春季排查发现的问题房屋逐一复查,已整改的销号,反弹的重新纳入整治。",
        "body": [
            p(
                "春季集中排查结束后,街道组织各社区对建立台账的出租房屋开展“回头看”。"
                "复查重点是拆除的隔断是否恢复、居住人数是否反弹、消防通道是否畅通。"
            ),
            table(
                "“回头看”发现问题的处置方式",
                ["复查情况", "处置方式"],
                ["已按要求整改", "台账销号,纳入日常巡查"],
                ["部分整改", "约谈房东,明确最后期限"],
                ["整改后反弹", "重新纳入整治,提请联合执法"],
            ),
            p("居民发现身边有群租扰民、违规隔断的,可以向所在网格员反映。"),
        ],
    },
    {
        "slug": "mental-health-talk-for-grid-workers",
        "date": "2025-08-01",
        "title": "心理健康讲座走进网格员培训课堂",
        "category": "dongtai",
        "tags": ["心理健康", "网格员", "心理讲座"],
        "intro": "合作机构的心理咨询师为网格员和社区干部讲授压力调适和与居民沟通的方法。",
        "image": "talk",
        "body": [
            p(
                "网格员每天面对大量居民诉求,情绪压力不小。8月初,街道邀请合作的心理咨询机构,"
                "面向全体网格员和社区干部开展专题讲座。"
            ),
            p(
                "咨询师结合入户走访中常见的场景,讲解如何倾听居民诉求、如何应对情绪激动的来访者,"
                "以及工作之余的自我放松方法。"
            ),
            p("讲座已录制,网格员可登录后在本站“心理讲座”栏目回看。"),
        ],
    },
    {
        "slug": "dual-reporting-mechanism-review",
        "date": "2025-09-10",
        "title": "“管区吹哨、部门报到”双重报到机制运行情况通报",
        "category": "jiedu",
        "tags": ["双重报到", "基层治理"],
        "intro": "今年以来,管区发起的“吹哨”事项大多在规定时限内办结,群众满意率稳步提高。",
        "office": "金家岭街道社会治理工作办公室",
        "number": "崂金治字〔2025〕9号",
        "body": [
            p(
                "街道推行“管区吹哨、街道部门报到”和“街道吹哨、区直部门报到”双重报到机制,"
                "让基层发现的问题有人接、有人办。现将上半年运行情况通报如下。"
            ),
            h("一、主要做法"),
            p(
                "管区遇到单靠自身力量难以解决的问题,通过工单“吹哨”,相关科室须在规定时间内到现场;"
                "需要区直部门处理的,由街道统一协调。"
            ),
            h("二、存在问题"),
            p(
                "个别工单办结后回访不及时,部分事项反复出现。下一步将把回访纳入工单闭环,"
                "实现办件全程可追溯。"
            ),
        ],
    },
    {
        "slug": "double-ninth-health-checks",
        "date": "2025-10-09",
        "title": "重阳节前为高龄老人送上免费健康体检",
        "category": "minsheng",
        "tags": ["养老服务", "健康"],
        "intro": "街道联合社区卫生服务中心,为80岁以上老人上门或集中开展体检。",
        "image": "elderly",
        "body": [
            p(
                "重阳节前夕,街道联合社区卫生服务中心,为辖区80周岁以上老人开展免费健康体检。"
                "行动方便的老人到社区集中体检,卧床老人由医护人员上门服务。"
            ),
            p(
                "体检项目包括血压、血糖、心电图等常规检查,医生现场解读结果,"
                "对需要进一步检查的老人,网格员协助联系家属。"
            ),
        ],
    },
    {
        "slug": "winter-fire-safety-rentals",
        "date": "2025-11-05",
        "title": "冬季消防安全提示:出租房屋严禁私拉电线充电",
        "category": "pingan",
        "tags": ["消防安全", "出租房屋"],
        "intro": "电动自行车进楼入户、私拉电线充电是冬季火灾的主要隐患,请房东和租户共同防范。",
        "image": "fire",
        "body": [
            p("进入冬季,取暖用电增加,出租房屋火灾风险随之上升。街道提醒房东和租户注意以下事项。"),
            ul(
                "电动自行车及电池不得进楼入户,请到集中充电点充电;",
                "不得私拉乱接电线,不使用老化破损的插线板;",
                "楼道、疏散通道不得堆放杂物;",
                "出门和睡前关闭取暖设备电源。",
            ),
            quote("发现火情,第一时间拨打119,不要贪恋财物。"),
        ],
    },
    {
        "slug": "three-me-activity-annual-report",
        "date": "2025-12-02",
        "title": "街道“三我”民生主题活动年度办件情况公布",
        "category": "dongtai",
        "tags": ["民生诉求", "三我活动"],
        "intro": "全年受理居民诉求工单,绝大多数按时办结,回访满意率较上年提高。",
        "body": [
            p(
                "街道持续开展“三我”民生主题活动,拓宽群众诉求渠道,优化办件流程,"
                "建立工单办理追溯核查机制。现将全年办件情况公布如下。"
            ),
            table(
                "全年诉求工单办理情况(按类别)",
                ["类别", "占比", "主要内容"],
                ["物业与环境", "约四成", "楼道卫生、绿化、垃圾分类"],
                ["邻里纠纷", "约两成", "装修噪音、漏水、宠物"],
                ["出租房屋", "约一成半", "群租扰民、消防隐患"],
                ["其他", "约两成半", "停车、便民设施等"],
            ),
            p("对回访中不满意的工单,街道逐件分析原因,重新派单办理。"),
        ],
    },
    {
        "slug": "holiday-duty-2026",
        "date": "2025-12-18",
        "title": "关于2026年元旦期间值班安排的通知",
        "category": "tongzhi",
        "tags": ["值班安排"],
        "intro": "元旦假期街道实行24小时值班,居民急事可拨打值班电话。",
        "office": OFFICE,
        "number": "崂金政办发〔2025〕31号",
        "body": [
            p("各管区、各社区,街道各科室:根据上级安排,现将2026年元旦假期值班事项通知如下。"),
            table(
                "元旦假期值班安排",
                ["日期", "带班领导", "值班部门"],
                ["1月1日", "街道班子成员轮值", "党政办公室"],
                ["1月2日", "街道班子成员轮值", "社会治理办公室"],
                ["1月3日", "街道班子成员轮值", "民生服务办公室"],
            ),
            p(
                "值班人员须坚守岗位,遇到突发事件第一时间处置并按规定报告。"
                "心理咨询室假期暂停预约,如遇心理危机请拨打 12356。"
            ),
        ],
    },
    {
        "slug": "counselling-evening-sessions",
        "date": "2026-01-08",
        "title": "心理咨询室推出工作日夜间预约时段",
        "category": "minsheng",
        "tags": ["心理咨询", "心理健康"],
        "intro": "为方便上班族,街道心理咨询室每周二、周四增加夜间时段。",
        "image": "counselling",
        "body": [
            p(
                "不少上班的居民反映白天难以请假咨询。自1月起,街道心理咨询室在每周二、周四"
                "增开夜间时段,由合作机构的咨询师值班。"
            ),
            table(
                "新增夜间时段",
                ["咨询室", "日期", "时间"],
                ["街道心理咨询室", "每周二、周四", "18:30—20:30"],
            ),
            p("夜间时段同样通过本站预约。预约短信和日历提醒不会出现“心理咨询”字样,保护您的隐私。"),
        ],
    },
    {
        "slug": "grid-service-priorities-2026",
        "date": "2026-01-20",
        "title": "2026年网格化服务管理工作要点",
        "category": "jiedu",
        "tags": ["网格治理", "基层治理"],
        "intro": "深化“一核统领、一网统筹、一格统办”,推动多网融合、一格多员。",
        "office": PARTY_OFFICE,
        "number": "崂金发〔2026〕2号",
        "image": "grid",
        "body": [
            p("2026年,街道网格化服务管理工作以党建引领为核心,围绕以下几方面展开。"),
            h("一、完善四级组织架构"),
            p(
                "巩固“街道党工委—管区党委—社区党委—网格党支部”四级架构,"
                "把党的组织阵地延伸到每一个网格。"
            ),
            h("二、推进多网融合"),
            p(
                "改变“各管各摊”的工作方式,推进一网统筹、一格多员、全员参与,"
                "各类巡查任务统一由网格派发。"
            ),
            h("三、健全居民自治"),
            p("通过议事协调、纠纷调处等机制,推动“群众的事群众办”。"),
            doc("grid-priorities-2026"),
        ],
    },
    {
        "slug": "pre-festival-rental-inspection",
        "date": "2026-02-10",
        "title": "春节前开展出租房屋安全联合检查",
        "category": "pingan",
        "tags": ["群租房", "消防安全", "出租房屋"],
        "intro": "街道联合派出所、消防救援站对重点出租房屋开展节前检查。",
        "image": "housing",
        "body": [
            p(
                "春节前,街道联合派出所和消防救援站,对台账中的重点出租房屋开展联合检查,"
                "检查内容包括电气线路、灭火器配置和疏散通道。"
            ),
            p("检查中发现的隐患当场交办,能立即整改的现场整改,其余的限期整改并复查。"),
        ],
    },
    {
        "slug": "governance-model-qa",
        "date": "2026-02-26",
        "title": "问答:“一核统领、一网统筹、一格统办”是什么意思?",
        "category": "jiedu",
        "tags": ["网格治理", "基层治理"],
        "intro": "用三个问题讲清楚街道社会治理模式和居民的关系。",
        "body": [
            h("“一核统领”指什么?"),
            p("以党组织为核心,统筹街道、管区、社区和网格各方力量。"),
            h("“一网统筹”对居民有什么变化?"),
            p("各部门的巡查、登记任务统一由网格派发,居民不必面对多头上门、重复登记。"),
            h("“一格统办”遇到问题找谁?"),
            p("先找所在网格的网格员。网格员能办的当场办,办不了的按流程上报,并把结果告诉您。"),
        ],
    },
    {
        "slug": "anti-gang-crime-2026-meeting",
        "date": "2026-03-12",
        "title": "街道召开常态化扫黑除恶工作推进会",
        "category": "pingan",
        "tags": ["扫黑除恶", "平安建设"],
        "intro": "会议部署线索核查“回头看”和年度宣传安排,要求一案一卷、台账完善。",
        "image": "safety",
        "body": [
            p("3月,街道召开常态化扫黑除恶工作推进会,总结上年工作,部署本年度任务。"),
            p(
                "会议要求,对上级督办交办的线索全部完成核查并形成报告,做到一案一卷;"
                "健全线索移交、办理、反馈机制,各部门分工明确、联动长效。"
            ),
            quote("宣传要走进楼栋、走进商户,让群众知道怎么识别、到哪里举报。"),
        ],
    },
    {
        "slug": "senior-college-spring-term",
        "date": "2026-03-30",
        "title": "社区老年大学春季班开课",
        "category": "minsheng",
        "tags": ["养老服务", "老年教育"],
        "intro": "智能手机使用、书法和太极拳课程开课,名额有限,可到社区报名。",
        "image": "elderly",
        "body": [
            p(
                "社区老年大学春季班本周开课。今年新增的智能手机课程最受欢迎,"
                "志愿者手把手教老人挂号、视频通话和识别诈骗短信。"
            ),
            table(
                "春季班课程",
                ["课程", "上课时间"],
                ["智能手机使用", "每周一上午"],
                ["书法", "每周三上午"],
                ["太极拳", "每周五上午"],
            ),
        ],
    },
    {
        "slug": "residents-council-parking",
        "date": "2026-04-15",
        "title": "网格党支部组织居民议事会 协商解决停车难",
        "category": "dongtai",
        "tags": ["居民议事", "基层治理"],
        "intro": "老旧小区车位紧张,居民代表、物业和社区一起商定错时停车方案。",
        "body": [
            p(
                "某老旧小区车位少、车辆多,早晚停车矛盾突出。网格党支部召集居民代表、"
                "物业和周边单位召开议事会,大家一起想办法。"
            ),
            p(
                "经过两轮协商,周边一家单位同意在夜间向居民开放停车场,小区内划定临时停车区,"
                "方案在楼道公示无异议后试行。"
            ),
            quote("自己商量出来的办法,大家都愿意遵守。", "一位居民代表"),
        ],
    },
    {
        "slug": "livelihood-project-proposals-2026",
        "date": "2026-05-06",
        "title": "关于征集2027年民生实事项目建议的公告",
        "category": "tongzhi",
        "tags": ["民生诉求"],
        "intro": "欢迎居民围绕养老、托育、出行等方面提出建议,征集截止到6月30日。",
        "office": OFFICE,
        "number": "崂金政发〔2026〕5号",
        "body": [
            p("为让民生实事更贴近群众需要,街道面向辖区居民公开征集2027年民生实事项目建议。"),
            h("征集范围"),
            p("养老助餐、托育服务、老旧小区改造、停车出行、便民设施、心理健康服务等方面。"),
            h("提交方式"),
            p("可将书面建议交至所在社区,或在社区议事会上提出。请写明建议内容和理由,署名与否均可。"),
        ],
    },
    {
        "slug": "counselling-rooms-first-year",
        "date": "2026-09-15",
        "title": "心理咨询室开放一年半:居民最常咨询哪些问题",
        "category": "minsheng",
        "tags": ["心理咨询", "心理健康"],
        "intro": "亲子沟通、工作压力和照护老人带来的疲惫,是居民来访最常提到的话题。",
        "image": "talk",
        "body": [
            p(
                "六处心理咨询室开放以来,来访居民逐渐增多。根据不含个人信息的匿名统计,"
                "来访话题主要集中在亲子沟通、工作压力和照护家中老人带来的身心疲惫。"
            ),
            p(
                "咨询师提醒,感到持续失眠、情绪低落超过两周时,应主动寻求帮助。"
                "预约咨询或拨打 12356 都是好的开始。"
            ),
        ],
    },
]

RELATED = {
    "pre-festival-rental-inspection": [
        "rental-housing-survey-2025",
        "group-rental-follow-up",
        "three-level-handling-explained",
    ],
    "counselling-evening-sessions": [
        "counselling-rooms-open",
        "mental-health-talk-for-grid-workers",
    ],
}

DOCUMENTS = {
    "rental-survey-notice": ("关于开展2025年度出租房屋集中排查的通知(全文)", "崂金政发〔2025〕1号"),
    "grid-priorities-2026": ("2026年网格化服务管理工作要点(全文)", "崂金发〔2026〕2号"),
}


def _font(size):
    if FONT_PATH.exists():
        return ImageFont.truetype(str(FONT_PATH), size)
    return None


def _draw_motif(draw, motif, background, accent, size):
    width, height = size
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


def _image_bytes(key):
    background, accent, motif, label = IMAGES[key]
    size = (1200, 675)
    canvas = PILImage.new("RGB", size, background)
    draw = ImageDraw.Draw(canvas)
    _draw_motif(draw, motif, background, accent, size)
    font = _font(72)
    if font is not None:
        draw.rectangle([(0, 520), (size[0], size[1])], fill=background)
        draw.text((70, 555), label, font=font, fill=(255, 255, 255))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


def _image(key):
    Image = get_image_model()
    title = f"新闻题图:{IMAGES[key][3]}"
    image = Image.objects.filter(title=title).first()
    if image is None:
        image = Image(title=title, description=f"“{IMAGES[key][3]}”主题配图,纯色背景上的简洁图形")
        image.file = ImageFile(io.BytesIO(_image_bytes(key)), name=f"news-{key}.jpg")
        image.save()
    return image


def _pdf_bytes(title, number):
    page = PILImage.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle([(60, 60), (535, 66)], fill=(180, 20, 20))
    draw.rectangle([(60, 150), (535, 153)], fill=(180, 20, 20))
    font, small = _font(22), _font(16)
    if font is not None:
        draw.text((60, 90), OFFICE, font=font, fill=(180, 20, 20))
        draw.text((60, 125), number, font=small, fill=(0, 0, 0))
        draw.text((60, 180), title, font=small, fill=(0, 0, 0))
    for y in range(230, 760, 28):
        draw.line([(60, y), (535 if y % 140 else 380, y)], fill=(170, 170, 170), width=2)
    buffer = io.BytesIO()
    page.save(buffer, "PDF")
    return buffer.getvalue()


def _document(key):
    Document = get_document_model()
    title, number = DOCUMENTS[key]
    document = Document.objects.filter(title=title).first()
    if document is None:
        document = Document(title=title)
        document.file.save(f"{key}.pdf", ContentFile(_pdf_bytes(title, number)), save=False)
        document._set_document_file_metadata()
        document.save()
    return document


def _body(blocks):
    body = []
    for block_type, value in blocks:
        if block_type == "document":
            value = {"document": _document(value), "title": ""}
        body.append((block_type, value))
    return body


def _index(home):
    index = NewsIndexPage.objects.child_of(home).filter(slug=INDEX["slug"]).first()
    if index is None:
        index = NewsIndexPage(show_in_menus=True, **INDEX)
        home.add_child(instance=index)
        index.save_revision().publish()
    return index


def _categories():
    categories = {}
    for sort_order, (slug, name, description) in enumerate(CATEGORIES):
        categories[slug], _created = NewsCategory.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "description": description, "sort_order": sort_order},
        )
    return categories


def _news_page(index, categories, item):
    page = NewsPage(
        slug=item["slug"],
        title=item["title"],
        date=datetime.date.fromisoformat(item["date"]),
        category=categories[item["category"]],
        intro=item["intro"],
        issuing_office=item.get("office", ""),
        document_number=item.get("number", ""),
        featured_image=_image(item["image"]) if "image" in item else None,
        body=_body(item["body"]),
    )
    page.tags.add(*item["tags"])
    index.add_child(instance=page)
    return page


def seed(home):
    """Create the news index and its demo news under ``home``; reuse whatever
    already exists."""
    index = _index(home)
    categories = _categories()
    existing = set(NewsPage.objects.child_of(index).values_list("slug", flat=True))
    created = {}
    for item in NEWS:
        if item["slug"] not in existing:
            created[item["slug"]] = _news_page(index, categories, item)
    pages = {page.slug: page for page in NewsPage.objects.child_of(index)}
    for slug, page in created.items():
        for related_slug in RELATED.get(slug, []):
            page.related_news_links.add(NewsPageRelatedNews(news=pages[related_slug]))
        page.save_revision().publish()
    return index

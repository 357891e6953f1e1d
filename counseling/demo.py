"""Demo data for the counselling module: the six rooms."""

from .models import Room

ROOMS = [
    {
        "name": "街道办事处心理咨询室",
        "location": Room.Location.OFFICE,
        "district": "",
        "address": "崂山区云岭路 18 号金家岭街道办事处二楼 204 室",
        "directions": "乘 104、110 路公交至云岭路站,向北步行约 200 米;正门进入后乘电梯至二楼。",
        "opening_hours": "周一至周五 9:00–12:00,14:00–17:30",
        "accessibility": "大楼入口有坡道,电梯可直达二楼,设无障碍卫生间。",
        "phone": "0532-8899 0201",
    },
    {
        "name": "第一管区心理咨询室",
        "district": "第一管区",
        "address": "崂山区石岭路 7 号管区党群服务中心一楼",
        "directions": "乘 313 路公交至石岭路站,党群服务中心在路口东侧。",
        "opening_hours": "周二、周四 9:00–12:00,14:00–17:00",
        "accessibility": "一楼,无台阶,可通行轮椅。",
        "phone": "0532-8899 0211",
    },
    {
        "name": "第二管区心理咨询室",
        "district": "第二管区",
        "address": "崂山区海尔路 61 号社区服务站三楼",
        "directions": "地铁 2 号线海尔路站 B 口出,步行约 5 分钟。",
        "opening_hours": "周一、周三、周五 14:00–17:30",
        "accessibility": "有电梯,门宽可通行轮椅。",
        "phone": "0532-8899 0212",
    },
    {
        "name": "第三管区心理咨询室",
        "district": "第三管区",
        "address": "崂山区株洲路 30 号管区服务中心二楼",
        "directions": "乘 230 路公交至株洲路站,服务中心在站牌对面。",
        "opening_hours": "周二至周六 9:00–12:00",
        "accessibility": "暂无电梯,需上一层楼梯;如行动不便,可预约在一楼接待室见面。",
        "phone": "0532-8899 0213",
    },
    {
        "name": "第四管区心理咨询室",
        "district": "第四管区",
        "address": "崂山区秦岭路 12 号邻里中心四楼",
        "directions": "地铁 11 号线、2 号线苗岭路站 A 口出,沿秦岭路向东步行约 300 米。",
        "opening_hours": "周一至周五 14:00–18:00",
        "accessibility": "有电梯和无障碍卫生间。",
        "phone": "0532-8899 0214",
    },
    {
        "name": "第五管区心理咨询室",
        "district": "第五管区",
        "address": "崂山区深圳路 156 号社区党群服务中心一楼",
        "directions": "乘 11、104 路公交至深圳路站,向南步行约 150 米。",
        "opening_hours": "周三至周五 9:00–12:00,14:00–17:00",
        "accessibility": "一楼,无台阶,可通行轮椅。",
        "phone": "0532-8899 0215",
    },
]


def seed():
    for order, data in enumerate(ROOMS):
        fields = {"location": Room.Location.DISTRICT, **data, "sort_order": order}
        Room.objects.update_or_create(name=fields.pop("name"), defaults=fields)

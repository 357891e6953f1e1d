"""Demo data for the counselling module: the six rooms, their opening hours, the
counsellors on duty for the coming weeks and a few bookings."""

import datetime

from django.utils import timezone

from .availability import Availability
from .booking import create_booking
from .models import LOCAL_TZ, Booking, Counsellor, DutyShift, OpeningHours, Room

ROOMS = [
    {
        "name": "街道办事处心理咨询室",
        "location": Room.Location.OFFICE,
        "district": "",
        "address": "崂山区云岭路 18 号金家岭街道办事处二楼 204 室",
        "directions": "乘 104、110 路公交至云岭路站,向北步行约 200 米;正门进入后乘电梯至二楼。",
        "accessibility": "大楼入口有坡道,电梯可直达二楼,设无障碍卫生间。",
        "phone": "0532-8899 0201",
    },
    {
        "name": "第一管区心理咨询室",
        "district": "第一管区",
        "address": "崂山区石岭路 7 号管区党群服务中心一楼",
        "directions": "乘 313 路公交至石岭路站,党群服务中心在路口东侧。",
        "accessibility": "一楼,无台阶,可通行轮椅。",
        "phone": "0532-8899 0211",
    },
    {
        "name": "第二管区心理咨询室",
        "district": "第二管区",
        "address": "崂山区海尔路 61 号社区服务站三楼",
        "directions": "地铁 2 号线海尔路站 B 口出,步行约 5 分钟。",
        "accessibility": "有电梯,门宽可通行轮椅。",
        "phone": "0532-8899 0212",
    },
    {
        "name": "第三管区心理咨询室",
        "district": "第三管区",
        "address": "崂山区株洲路 30 号管区服务中心二楼",
        "directions": "乘 230 路公交至株洲路站,服务中心在站牌对面。",
        "accessibility": "暂无电梯,需上一层楼梯;如行动不便,可预约在一楼接待室见面。",
        "phone": "0532-8899 0213",
    },
    {
        "name": "第四管区心理咨询室",
        "district": "第四管区",
        "address": "崂山区秦岭路 12 号邻里中心四楼",
        "directions": "地铁 11 号线、2 号线苗岭路站 A 口出,沿秦岭路向东步行约 300 米。",
        "accessibility": "有电梯和无障碍卫生间。",
        "phone": "0532-8899 0214",
    },
    {
        "name": "第五管区心理咨询室",
        "district": "第五管区",
        "address": "崂山区深圳路 156 号社区党群服务中心一楼",
        "directions": "乘 11、104 路公交至深圳路站,向南步行约 150 米。",
        "accessibility": "一楼,无台阶,可通行轮椅。",
        "phone": "0532-8899 0215",
    },
]


COUNSELLORS = [
    ("刘静", "国家二级心理咨询师"),
    ("陈晓东", "国家二级心理咨询师"),
    ("赵丽华", "注册心理师"),
    ("孙文博", "国家三级心理咨询师"),
    ("周敏", "国家二级心理咨询师"),
    ("吴海燕", "社会工作师、国家三级心理咨询师"),
]

# Per room, in ROOMS order: the weekdays and the time bands of its opening hours
# (two bands make a lunch break), from which residents read the hours,
# and the counsellors who share its duty by weekday.
TIMETABLES = [
    ("MO,TU,WE,TH,FR", [("09:00", "12:00"), ("14:00", "17:30")], ["刘静", "陈晓东"]),
    ("TU,TH", [("09:00", "12:00"), ("14:00", "17:00")], ["赵丽华"]),
    ("MO,WE,FR", [("14:00", "17:30")], ["孙文博"]),
    ("TU,WE,TH,FR,SA", [("09:00", "12:00")], ["周敏", "赵丽华"]),
    ("MO,TU,WE,TH,FR", [("14:00", "18:00")], ["吴海燕", "孙文博"]),
    ("WE,TH,FR", [("09:00", "12:00"), ("14:00", "17:00")], ["陈晓东", "刘静"]),
]


RESIDENTS = [
    ("张女士", "13800000001", ""),
    ("李先生", "13800000002", "li.demo@example.com"),
    ("王阿姨", "13800000003", ""),
    ("小陈", "13800000004", ""),
]


def _time(text):
    return datetime.time.fromisoformat(text)


def seed_rooms():
    rooms = []
    for order, data in enumerate(ROOMS):
        fields = {"location": Room.Location.DISTRICT, **data, "sort_order": order}
        room, _created = Room.objects.update_or_create(name=fields.pop("name"), defaults=fields)
        rooms.append(room)
    return rooms


def seed_counsellors():
    return {
        name: Counsellor.objects.get_or_create(name=name, defaults={"title": title})[0]
        for name, title in COUNSELLORS
    }


def seed_schedules(rooms, counsellors, today):
    """Opening hours and duty shifts from today on, with the room's weekdays
    shared out among its counsellors in turn."""
    for room, (weekdays, bands, names) in zip(rooms, TIMETABLES, strict=True):
        if not room.opening_bands.exists():
            for start, end in bands:
                OpeningHours.objects.create(
                    room=room,
                    weekdays=weekdays,
                    start_time=_time(start),
                    end_time=_time(end),
                    starts_on=today,
                )
        if not room.duty_shifts.exists():
            codes = weekdays.split(",")
            for turn, name in enumerate(names):
                for start, end in bands:
                    DutyShift.objects.create(
                        room=room,
                        counsellor=counsellors[name],
                        weekdays=",".join(codes[turn :: len(names)]),
                        start_time=_time(start),
                        end_time=_time(end),
                        starts_on=today,
                    )


def seed_bookings(rooms, now):
    """A few bookings in the first free slots, made through the booking service
    like a resident's; only on a site that has none yet."""
    if Booking.objects.exists():
        return
    availability = Availability(rooms, now)
    for room, (name, mobile, email) in zip(rooms, RESIDENTS, strict=False):
        slots = availability.slots(room)
        if slots:
            create_booking(
                room=room,
                starts_at=slots[len(slots) // 3].start,
                name=name,
                mobile=mobile,
                email=email,
                visit_type=Booking.VisitType.FIRST,
                now=now,
            )


def seed():
    now = timezone.now()
    rooms = seed_rooms()
    counsellors = seed_counsellors()
    seed_schedules(rooms, counsellors, timezone.localtime(now, LOCAL_TZ).date())
    seed_bookings(rooms, now)

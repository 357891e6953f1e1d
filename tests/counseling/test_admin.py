"""The coordinators' admin: bookings list, detail, export, actions and schedule for
coordinators only, every access logged, schedules edited with weekday boxes."""

import codecs
import csv
import datetime
import io
import json
import re

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from schedule.models import Event
from wagtail import hooks

from counseling.availability import Availability
from counseling.booking import create_booking
from counseling.models import (
    LOCAL_TZ,
    Booking,
    BookingAccessLog,
    Closure,
    Counsellor,
    DutyShift,
    HolidayOpening,
    Notification,
    OpeningHours,
    Room,
)
from counseling.notifications import message_text
from portal.core import sms
from portal.core.groups import COORDINATORS, EDITORS, REVIEWERS
from portal.core.logging import JsonLinesFormatter
from portal.core.models import HolidayArrangement, HolidayPeriod
from tests.factories import log_in_verified, make_open_room, make_weekday_room

# A Monday in an ordinary week (no holidays, no make-up workdays).
NOW = datetime.datetime(2025, 3, 10, 8, 0, tzinfo=LOCAL_TZ)
BOOKINGS_URL = "/admin/counseling/booking/"
LOG_URL = "/admin/counseling/access-log/"


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), LOCAL_TZ)


def make_room(name, counsellor, weekdays="MO,TU,WE,TH,FR", starts_on=datetime.date(2025, 3, 1)):
    room = Room.objects.create(name=name, address=f"{name}地址")
    for band in [(9, 12), (14, 17)]:  # a lunch break between two bands
        start, end = (datetime.time(hour) for hour in band)
        OpeningHours.objects.create(
            room=room, weekdays=weekdays, start_time=start, end_time=end, starts_on=starts_on
        )
        DutyShift.objects.create(
            room=room,
            counsellor=counsellor,
            weekdays=weekdays,
            start_time=start,
            end_time=end,
            starts_on=starts_on,
        )
    return room


def book(room, start, name, mobile, now=NOW):
    return create_booking(
        room=room,
        starts_at=start,
        name=name,
        mobile=mobile,
        visit_type=Booking.VisitType.FIRST,
        now=now,
    )


@pytest.fixture
def counsellor(db):
    return Counsellor.objects.create(name="王老师", title="国家二级心理咨询师")


@pytest.fixture
def room(counsellor):
    return make_room("街道咨询室", counsellor)


@pytest.fixture
def other_room(counsellor):
    return make_room("第一管区咨询室", counsellor)


@pytest.fixture
def bookings(room, other_room):
    monday, tuesday = NOW.date(), NOW.date() + datetime.timedelta(days=1)
    return [
        book(room, at(monday, 10), "张阿姨", "13800000001"),
        book(room, at(tuesday, 9), "李师傅", "13800000002"),
        book(room, at(tuesday, 14), "小赵", "13800000003"),
        book(other_room, at(tuesday, 9), "刘大爷", "13800000004"),
    ]


def make_user(username, group=None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="a-long-test-password", **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def coordinator(db):
    return make_user("coordinator", COORDINATORS)


@pytest.fixture
def coordinator_client(client, coordinator):
    log_in_verified(client, coordinator)
    return client


def logged(action):
    return list(BookingAccessLog.objects.filter(action=action).order_by("pk"))


def references(entry):
    return set(entry.booking_references.split())


# --- Coordinators: list, filter, detail, export -----------------------------------


def test_coordinator_lists_bookings_and_the_references_shown_are_logged(
    coordinator_client, coordinator, bookings
):
    response = coordinator_client.get(BOOKINGS_URL)

    assert response.status_code == 200
    html = response.content.decode()
    for booking in bookings:
        assert booking.reference_display in html
        assert booking.name in html
    assert "13800000001" not in html  # phone numbers only on the detail page
    [entry] = logged(BookingAccessLog.Action.LIST)
    assert entry.user == coordinator and entry.username == "coordinator"
    assert references(entry) == {booking.reference for booking in bookings}


def test_filters_by_room_day_and_status_and_logs_only_what_was_shown(
    coordinator_client, room, bookings
):
    Booking.objects.filter(pk=bookings[2].pk).update(status=Booking.Status.ATTENDED)

    response = coordinator_client.get(
        BOOKINGS_URL,
        {
            "room": room.pk,
            "starts_at_from": "2025-03-11",
            "starts_at_to": "2025-03-11",
            "status": Booking.Status.CONFIRMED,
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert bookings[1].reference_display in html
    for hidden in (bookings[0], bookings[2], bookings[3]):
        assert hidden.reference_display not in html
    [entry] = logged(BookingAccessLog.Action.LIST)
    assert references(entry) == {bookings[1].reference}


def search(client, typed):
    return client.post(f"{BOOKINGS_URL}search/", {"query": typed})


def test_a_search_by_mobile_never_puts_the_number_in_an_address(
    coordinator_client, coordinator, bookings
):
    asked = search(coordinator_client, "138 0000 0002")

    assert asked.status_code == 302
    assert "0000" not in asked["Location"] and "mobile=" in asked["Location"]
    response = coordinator_client.get(asked["Location"])
    html = response.content.decode()
    assert bookings[1].reference_display in html
    for other in (bookings[0], bookings[2], bookings[3]):
        assert other.reference_display not in html
    assert "手机号码 138****0002 的预约" in html
    # Nothing on the page links with the number: exports, pagination, sorting.
    assert "13800000002" not in html and "138%2A" not in html
    [entry] = logged(BookingAccessLog.Action.LIST)
    assert "13800000002" not in entry.detail and "138****0002" in entry.detail
    assert references(entry) == {bookings[1].reference}
    # The export of the search carries the token too, and is the same bookings.
    export = coordinator_client.get(f"{asked['Location']}&export=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [row["预约编号"] for row in rows] == [bookings[1].reference]


def test_the_mobile_search_token_means_nothing_in_another_session(
    client, coordinator_client, bookings
):
    location = search(coordinator_client, "13800000002")["Location"]
    other = make_user("coordinator2", COORDINATORS)
    log_in_verified(client, other)

    html = client.get(location).content.decode()

    assert "这次按手机号码的查找已失效" in html
    for booking in bookings:
        assert booking.reference_display not in html


def test_a_search_by_reference_finds_part_of_a_reference(coordinator_client, bookings):
    part = bookings[2].reference[2:7]
    asked = search(coordinator_client, f" {part[:2]} {part[2:]} ")
    assert asked["Location"].endswith(f"?reference={part}")
    html = coordinator_client.get(asked["Location"]).content.decode()
    assert bookings[2].reference_display in html


@pytest.mark.parametrize("typed", ["", "张阿姨", "1380000000212345"])
def test_a_search_that_is_neither_gets_a_message(coordinator_client, bookings, typed):
    response = search(coordinator_client, typed)
    assert response["Location"] == BOOKINGS_URL
    html = coordinator_client.get(BOOKINGS_URL).content.decode()
    assert "请输入预约编号" in html


def test_the_list_no_longer_searches_by_a_query_string(coordinator_client, bookings):
    html = coordinator_client.get(BOOKINGS_URL, {"q": "13800000002"}).content.decode()
    # Wagtail's ?q= search is off for bookings: nothing is narrowed by it, and the
    # list offers the POST search instead of a search box that writes ?q=.
    assert all(booking.reference_display in html for booking in bookings)
    assert 'name="q"' not in html
    assert f'action="{BOOKINGS_URL}search/"' in html


def test_editors_cannot_search_bookings(client, bookings):
    log_in_verified(client, make_user("editor", EDITORS))
    assert search(client, "13800000002").status_code == 403


def test_coordinator_sees_one_booking_with_contact_details_and_it_is_logged(
    coordinator_client, bookings
):
    booking = bookings[0]

    response = coordinator_client.get(f"{BOOKINGS_URL}{booking.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert booking.reference_display in html
    assert "13800000001" in html
    assert "2025-03-10 周一 10:00–10:50" in html
    assert "预约编号" in html and not re.search(r"<dd>\s*None\s*</dd>", html)
    [entry] = logged(BookingAccessLog.Action.VIEW)
    assert references(entry) == {booking.reference}


def test_csv_export_has_the_filtered_bookings_in_local_time_and_is_logged(
    coordinator_client, room, bookings
):
    response = coordinator_client.get(BOOKINGS_URL, {"room": room.pk, "export": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content)
    # The byte order mark tells Excel on a Chinese Windows the file is UTF-8.
    assert content.startswith(codecs.BOM_UTF8) and not content[3:].startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row["预约编号"] for row in rows] == [b.reference for b in bookings[:3]]
    assert rows[0]["咨询室"] == "街道咨询室"
    assert rows[0]["开始时间"] == "2025-03-10 10:00"
    assert rows[0]["状态"] == "已确认"
    assert rows[0]["称呼"] == "张阿姨"
    assert rows[0]["咨询师"] == "王老师"
    [entry] = logged(BookingAccessLog.Action.EXPORT)
    assert references(entry) == {b.reference for b in bookings[:3]}
    assert entry.detail.startswith("csv")


def test_csv_export_writes_names_a_spreadsheet_would_run_as_text(coordinator_client, room):
    # A resident can type anything as a name; Excel and WPS run a cell that starts
    # with = + - @, a tab or a carriage return.
    names = ['=HYPERLINK("//a.cn","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    tuesday = NOW.date() + datetime.timedelta(days=1)
    for hour, name in zip((9, 10, 11, 14, 15, 16), names, strict=True):
        book(room, at(tuesday, hour), name, f"139000000{hour:02d}")

    response = coordinator_client.get(BOOKINGS_URL, {"room": room.pk, "export": "csv"})

    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert sorted(row["称呼"] for row in rows) == sorted("'" + name for name in names)


def test_xlsx_export_opens_in_openpyxl_with_every_filtered_booking_and_is_logged(
    coordinator_client, bookings
):
    response = coordinator_client.get(
        BOOKINGS_URL, {"status": Booking.Status.CONFIRMED, "export": "xlsx"}
    )

    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header, *rows = list(workbook.active.iter_rows(values_only=True))
    assert header[:3] == ("预约编号", "咨询室", "开始时间")
    assert sorted(row[0] for row in rows) == sorted(b.reference for b in bookings)
    first = next(row for row in rows if row[0] == bookings[0].reference)
    assert first[2] == datetime.datetime(2025, 3, 10, 10, 0)  # Shanghai wall-clock time
    [entry] = logged(BookingAccessLog.Action.EXPORT)
    assert references(entry) == {b.reference for b in bookings}
    assert entry.detail.startswith("xlsx")


def test_booking_data_views_and_exports_are_audit_log_events_without_personal_data(
    coordinator_client, coordinator, room, bookings, caplog
):
    coordinator_client.get(BOOKINGS_URL)
    coordinator_client.get(BOOKINGS_URL, {"room": room.pk, "export": "csv"})
    coordinator_client.get(f"{BOOKINGS_URL}{bookings[0].pk}/")

    events = {
        record.getMessage(): record
        for record in caplog.records
        if record.name == "portal.audit" and record.getMessage().startswith("booking_data.")
    }
    assert set(events) == {"booking_data.list", "booking_data.export", "booking_data.view"}
    for event in events.values():
        assert event.user_id == coordinator.pk and event.username == "coordinator"
    assert events["booking_data.list"].booking_count == 4
    assert sorted(events["booking_data.list"].booking_ids) == sorted(b.pk for b in bookings)
    assert events["booking_data.export"].action == "export"
    assert sorted(events["booking_data.export"].booking_ids) == sorted(b.pk for b in bookings[:3])
    assert events["booking_data.view"].booking_ids == [bookings[0].pk]
    lines = "\n".join(JsonLinesFormatter().format(event) for event in events.values())
    assert all(json.loads(line)["logger"] == "portal.audit" for line in lines.splitlines())
    for booking in bookings:
        for personal in (booking.name, booking.mobile, booking.reference):
            assert personal not in lines


# --- Everyone else: 403 wherever booking data lives ---------------------------------


def booking_urls(booking, room):
    detail = f"{BOOKINGS_URL}{booking.pk}/"
    return [
        ("get", BOOKINGS_URL),
        ("get", f"{BOOKINGS_URL}results/"),
        ("get", f"{BOOKINGS_URL}?export=csv"),
        ("get", f"{BOOKINGS_URL}?export=xlsx"),
        ("get", detail),
        ("get", f"{detail}cancel/"),
        ("post", f"{detail}cancel/"),
        ("post", f"{detail}attended/"),
        ("post", f"{detail}no-show/"),
        ("get", "/admin/counseling/schedule/"),
        ("get", f"/admin/counseling/schedule/{room.pk}/"),
        ("get", LOG_URL),
        ("get", f"{LOG_URL}results/"),
    ]


@pytest.mark.parametrize("group", [EDITORS, REVIEWERS])
def test_editors_and_reviewers_get_403_on_every_booking_url(client, group, room, bookings):
    log_in_verified(client, make_user("staff", group))
    booking = bookings[0]

    for method, url in booking_urls(booking, room):
        data = {"reason": "不应生效"} if method == "post" else None
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert not BookingAccessLog.objects.exists()


def test_a_booking_permission_given_outside_the_coordinators_group_reveals_nothing(
    client, room, bookings
):
    from django.contrib.auth.models import Permission

    editor = make_user("editor", EDITORS)
    editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="counseling", codename__in=["view_booking", "change_booking"]
        )
    )
    log_in_verified(client, editor)

    assert client.get(BOOKINGS_URL).status_code == 403
    assert client.get(f"{BOOKINGS_URL}{bookings[0].pk}/").status_code == 403


@pytest.mark.parametrize("group", [EDITORS, REVIEWERS])
def test_admin_search_menu_and_choosers_do_not_reveal_bookings(client, group, bookings):
    log_in_verified(client, make_user("staff", group))

    search = client.get("/admin/pages/search/", {"q": bookings[0].reference})
    home = client.get("/admin/")

    assert search.status_code == 200
    assert "张阿姨" not in search.content.decode()
    assert "/admin/counseling/" not in search.content.decode()
    search_areas = [area() for area in hooks.get_hooks("register_admin_search_area")]
    assert not [area for area in search_areas if "/counseling/" in area.url]
    assert "/admin/counseling/" not in home.content.decode()
    assert client.get("/admin/snippets/counseling/booking/").status_code == 404
    assert client.get("/admin/snippets/choose/counseling/booking/").status_code == 404


def test_coordinators_see_the_counselling_menu(coordinator_client):
    html = coordinator_client.get("/admin/").content.decode()

    assert json.dumps("心理咨询")[1:-1] in html  # the sidebar is rendered from JSON
    assert BOOKINGS_URL in html
    assert "/admin/counseling/schedule/" in html


# --- Actions ------------------------------------------------------------------------


def test_cancel_with_a_reason_tells_the_resident_the_reason(
    coordinator_client, bookings, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "portal.core.sms.MemoryBackend"
    sms.MemoryBackend.outbox.clear()
    booking = bookings[0]

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            f"{BOOKINGS_URL}{booking.pk}/cancel/", {"reason": "咨询师临时生病,请改约其他时间"}
        )

    assert response.status_code == 302
    assert response["Location"] == f"{BOOKINGS_URL}{booking.pk}/"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.STAFF_CANCELLED
    assert booking.cancel_reason == "咨询师临时生病,请改约其他时间"
    notification = Notification.objects.get(booking=booking, kind=Notification.Kind.CANCELLATION)
    assert "咨询师临时生病" in message_text(notification)
    assert any(
        mobile == "13800000001" and "咨询师临时生病" in text
        for mobile, text in sms.MemoryBackend.outbox
    )
    [change] = logged(BookingAccessLog.Action.CHANGE)
    assert references(change) == {booking.reference}
    assert "咨询师临时生病" not in change.detail  # the reason stays on the booking, encrypted


def test_cancel_needs_a_reason(coordinator_client, bookings):
    booking = bookings[0]

    response = coordinator_client.post(f"{BOOKINGS_URL}{booking.pk}/cancel/", {"reason": ""})

    assert response.status_code == 200
    assert "必需字段" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert not Notification.objects.filter(kind=Notification.Kind.CANCELLATION).exists()


BULK_CANCEL = "/admin/bulk/counseling/booking/cancel/"


def test_a_coordinator_cancels_a_batch_of_bookings_judged_fake(
    coordinator_client, coordinator, bookings, django_capture_on_commit_callbacks
):
    fake = bookings[1:3]
    Booking.objects.filter(pk=bookings[3].pk).update(status=Booking.Status.CANCELLED)
    ids = "&".join(f"id={booking.pk}" for booking in [*fake, bookings[3]])
    url = f"{BULK_CANCEL}?{ids}&next={BOOKINGS_URL}"

    confirm = coordinator_client.get(url)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "确定要取消下面这 2 个预约吗" in html
    assert all(booking.reference_display in html for booking in fake)
    assert "会被跳过" in html and bookings[3].reference_display in html

    sms.MemoryBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = coordinator_client.post(url, {"reason": "同一人重复预约", "tell_residents": "on"})

    assert done.status_code == 302 and done["Location"] == BOOKINGS_URL
    for booking in fake:
        booking.refresh_from_db()
        assert booking.status == Booking.Status.STAFF_CANCELLED
        assert booking.cancel_reason == "同一人重复预约"
    bookings[0].refresh_from_db()
    assert bookings[0].status == Booking.Status.CONFIRMED
    told = {mobile for mobile, text in sms.MemoryBackend.outbox if "同一人重复预约" in text}
    assert told == {"13800000002", "13800000003"}
    [entry] = logged(BookingAccessLog.Action.CHANGE)
    assert entry.user == coordinator and references(entry) == {b.reference for b in fake}
    assert "已取消 2 个预约" in coordinator_client.get(BOOKINGS_URL).content.decode()


def test_a_batch_can_be_cancelled_without_texting_the_numbers(
    coordinator_client, bookings, django_capture_on_commit_callbacks
):
    sms.MemoryBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            f"{BULK_CANCEL}?id={bookings[0].pk}&next={BOOKINGS_URL}", {"reason": "虚假预约"}
        )
    bookings[0].refresh_from_db()
    assert bookings[0].status == Booking.Status.STAFF_CANCELLED
    assert sms.MemoryBackend.outbox == []


def test_a_batch_cancel_needs_a_reason(coordinator_client, bookings):
    response = coordinator_client.post(f"{BULK_CANCEL}?id={bookings[0].pk}", {"reason": ""})
    assert response.status_code == 200
    bookings[0].refresh_from_db()
    assert bookings[0].status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("group", [EDITORS, REVIEWERS])
def test_other_staff_can_neither_see_nor_cancel_bookings_in_bulk(client, group, bookings):
    log_in_verified(client, make_user("staff", group))
    for url in (f"{BULK_CANCEL}?id=all", f"{BULK_CANCEL}?id={bookings[0].pk}"):
        page = client.get(url)
        assert page.status_code == 403
        assert bookings[0].reference_display not in page.content.decode()
    client.post(f"{BULK_CANCEL}?id={bookings[0].pk}", {"reason": "试试"})
    bookings[0].refresh_from_db()
    assert bookings[0].status == Booking.Status.CONFIRMED


def test_select_all_in_the_listing_never_reaches_unticked_bookings(coordinator_client, bookings):
    response = coordinator_client.post(
        f"{BULK_CANCEL}?id=all&room={bookings[3].room_id}", {"reason": "全部取消"}
    )
    assert response.status_code in (200, 302, 404)
    assert not Booking.objects.exclude(status=Booking.Status.CONFIRMED).exists()


def test_odd_ids_in_the_bulk_address_are_no_error(coordinator_client, bookings):
    for ids in ("id=x", "id=1e9&id=-1", "id=99999999999999999999999"):
        assert coordinator_client.get(f"{BULK_CANCEL}?{ids}").status_code in (200, 404)


def test_the_bulk_confirmation_page_is_in_the_access_log(coordinator_client, bookings):
    coordinator_client.get(f"{BULK_CANCEL}?id={bookings[0].pk}&id={bookings[1].pk}")
    [entry] = logged(BookingAccessLog.Action.LIST)
    assert references(entry) == {bookings[0].reference, bookings[1].reference}


def test_the_list_offers_the_checkboxes_for_bulk_actions(coordinator_client, bookings):
    html = coordinator_client.get(BOOKINGS_URL).content.decode()
    assert html.count("data-bulk-action-checkbox") >= len(bookings)
    assert "批量取消" in html
    assert f'id="booking_{bookings[0].pk}_title"' in html


def test_a_cancelled_booking_cannot_be_cancelled_again(coordinator_client, bookings):
    booking = bookings[0]
    coordinator_client.post(f"{BOOKINGS_URL}{booking.pk}/cancel/", {"reason": "设备检修"})

    response = coordinator_client.post(f"{BOOKINGS_URL}{booking.pk}/cancel/", {"reason": "再取消"})

    assert response.status_code == 200
    assert "只能取消已确认的预约" in response.content.decode()
    assert Notification.objects.filter(kind=Notification.Kind.CANCELLATION).count() == 1


@pytest.mark.parametrize(
    ("action", "status"),
    [("attended", Booking.Status.ATTENDED), ("no-show", Booking.Status.NO_SHOW)],
)
def test_mark_attended_or_no_show(coordinator_client, bookings, action, status):
    booking = bookings[0]

    assert coordinator_client.get(f"{BOOKINGS_URL}{booking.pk}/{action}/").status_code == 405
    response = coordinator_client.post(f"{BOOKINGS_URL}{booking.pk}/{action}/")

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == status
    [change] = logged(BookingAccessLog.Action.CHANGE)
    assert references(change) == {booking.reference}


def test_a_cancelled_booking_cannot_be_marked_attended(coordinator_client, bookings):
    booking = bookings[0]
    coordinator_client.post(f"{BOOKINGS_URL}{booking.pk}/cancel/", {"reason": "设备检修"})

    response = coordinator_client.post(f"{BOOKINGS_URL}{booking.pk}/attended/", follow=True)

    assert "已取消的预约不能标记到访情况" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.STAFF_CANCELLED


def test_bookings_cannot_be_created_edited_or_deleted_in_the_admin(admin_client, bookings):
    booking = bookings[0]
    for url in ["new/", f"edit/{booking.pk}/", f"delete/{booking.pk}/", f"copy/{booking.pk}/"]:
        assert admin_client.get(BOOKINGS_URL + url).status_code == 404
        assert admin_client.post(BOOKINGS_URL + url, {"name": "x"}).status_code == 404
    booking.refresh_from_db()
    assert booking.name == "张阿姨"


# --- Weekly times: weekday boxes and time pickers write django-scheduler events -------


def test_opening_hours_and_duty_shifts_from_the_admin_form_open_slots(
    coordinator_client, counsellor
):
    room = Room.objects.create(name="第二管区咨询室", address="第二管区")
    assert Availability([room], NOW).days(room) == []
    times = {"start_time": "09:00", "end_time": "12:00", "starts_on": "2025-03-01", "ends_on": ""}

    opening = coordinator_client.post(
        "/admin/counseling/openinghours/new/",
        {"room": room.pk, "weekdays": ["WE", "MO"], **times},
    )
    duty = coordinator_client.post(
        "/admin/counseling/dutyshift/new/",
        {"room": room.pk, "counsellor": counsellor.pk, "weekdays": ["MO", "WE", "FR"], **times},
    )

    assert opening.status_code == 302 and duty.status_code == 302
    band = OpeningHours.objects.get(room=room)
    assert band.weekdays == "MO,WE"
    event = Event.objects.get(pk=band.event_id)
    assert event.calendar == room.calendar
    assert event.rule.frequency == "DAILY"
    assert event.rule.params == "byweekday:MO,WE"
    days = Availability([room], NOW).days(room)
    assert days and {day.weekday() for day in days} == {0, 2}  # staffed and open: Mon, Wed
    assert len(Availability([room], NOW).slots_on(room, datetime.date(2025, 3, 12))) == 3


def test_editing_a_band_shows_its_weekdays_ticked_and_rewrites_its_event(coordinator_client, room):
    band = room.opening_bands.first()
    edit_url = f"/admin/counseling/openinghours/edit/{band.pk}/"

    html = coordinator_client.get(edit_url).content.decode()
    assert html.count('type="checkbox" name="weekdays"') == 7
    assert html.count("checked") >= 5

    response = coordinator_client.post(
        edit_url,
        {
            "room": room.pk,
            "weekdays": ["SA"],
            "start_time": "10:00",
            "end_time": "11:00",
            "starts_on": "2025-03-01",
            "ends_on": "",
        },
    )

    assert response.status_code == 302
    band.refresh_from_db()
    assert band.weekdays == "SA"
    assert band.event.rule.params == "byweekday:SA"
    assert Event.objects.filter(pk=band.event_id).count() == 1


def test_a_band_without_weekdays_is_refused_with_a_message(coordinator_client, room):
    response = coordinator_client.post(
        "/admin/counseling/openinghours/new/",
        {"room": room.pk, "start_time": "09:00", "end_time": "12:00", "starts_on": "2025-03-01"},
    )

    assert response.status_code == 200
    assert "请至少选择一天" in response.content.decode()
    assert room.opening_bands.count() == 2


# --- Schedule -----------------------------------------------------------------------


def test_week_schedule_shows_bands_duty_holidays_closures_and_bookings(
    coordinator_client, coordinator, room
):
    # Week of 28 April 2025: Labour Day from Thursday 1 May, opened on Friday 2 May.
    # The room is open every day, so the holidays are what close it.
    for band in [*room.opening_bands.all(), *room.duty_shifts.all()]:
        band.weekdays = "MO,TU,WE,TH,FR,SA,SU"
        band.save()
    HolidayOpening.objects.create(room=room, date=datetime.date(2025, 5, 2))
    Closure.objects.create(
        room=room,
        starts_at=at(datetime.date(2025, 4, 29), 14),
        ends_at=at(datetime.date(2025, 4, 29), 17),
        reason="设备检修",
    )
    booking = book(
        room,
        at(datetime.date(2025, 4, 28), 10),
        "张阿姨",
        "13800000001",
        now=at(datetime.date(2025, 4, 28), 7),
    )

    response = coordinator_client.get(
        f"/admin/counseling/schedule/{room.pk}/", {"week": "2025-04-30"}
    )

    assert response.status_code == 200
    days = {day["date"]: day for day in response.context["days"]}
    assert min(days) == datetime.date(2025, 4, 28) and len(days) == 7
    assert days[datetime.date(2025, 5, 1)]["is_holiday"]
    assert days[datetime.date(2025, 5, 1)]["opening"] == []
    assert days[datetime.date(2025, 5, 2)]["holiday_opened"]
    assert len(days[datetime.date(2025, 5, 2)]["opening"]) == 2
    assert [c.reason for c in days[datetime.date(2025, 4, 29)]["closures"]] == ["设备检修"]
    assert days[datetime.date(2025, 4, 28)]["bookings"] == [booking]
    html = response.content.decode()
    assert "【劳动节】" in html and "已设为节假日开放" in html
    assert "设备检修" in html
    assert booking.reference_display in html
    assert "09:00–12:00" in html and "14:00–17:00" in html and "王老师" in html
    assert "张阿姨" not in html and "13800000001" not in html
    [entry] = logged(BookingAccessLog.Action.SCHEDULE)
    assert entry.user == coordinator and references(entry) == {booking.reference}


def test_make_up_workday_is_marked_and_keeps_the_next_mondays_timetable(coordinator_client, room):
    # Sunday 27 April 2025 is a make-up workday for Labour Day; the room opens
    # on weekdays only, so it borrows Monday's bands.
    response = coordinator_client.get(
        f"/admin/counseling/schedule/{room.pk}/", {"day": "2025-04-27"}
    )

    assert response.status_code == 200
    [day] = response.context["days"]
    assert day["is_makeup"] and day["stand_in"] == "周一"
    assert [(i.start.hour, i.end.hour) for i in day["opening"]] == [(9, 12), (14, 17)]
    assert "【调休上班】按周一安排" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"week": "9999-12-31"},
        {"week": "0001-01-01"},
        {"day": "9999-12-31"},
        {"day": "0001-01-01"},
        {"week": "2025-02-30"},
        {"week": "本周"},
    ],
)
def test_a_week_out_of_reach_shows_this_week_instead_of_an_error(coordinator_client, room, query):
    response = coordinator_client.get(f"/admin/counseling/schedule/{room.pk}/", query)

    assert response.status_code == 200
    today = datetime.date.today()
    assert any(abs(day["date"] - today).days < 7 for day in response.context["days"])


# --- The access log -----------------------------------------------------------------


def test_coordinators_read_the_access_log(coordinator_client, bookings):
    coordinator_client.get(f"{BOOKINGS_URL}{bookings[0].pk}/")

    response = coordinator_client.get(LOG_URL)

    assert response.status_code == 200
    assert bookings[0].reference in response.content.decode()


@pytest.mark.parametrize("who", ["superuser", "coordinator"])
def test_nobody_can_add_edit_or_delete_access_log_rows(client, who, bookings):
    user = (
        make_user("root", is_superuser=True, is_staff=True)
        if who == "superuser"
        else make_user("coordinator", COORDINATORS)
    )
    log_in_verified(client, user)
    client.get(f"{BOOKINGS_URL}{bookings[0].pk}/")
    entry = BookingAccessLog.objects.get()

    for url in ["new/", f"edit/{entry.pk}/", f"delete/{entry.pk}/", f"copy/{entry.pk}/"]:
        assert client.get(LOG_URL + url).status_code == 404
        assert client.post(LOG_URL + url, {"username": "someone-else"}).status_code == 404
    assert client.post(LOG_URL, {"username": "someone-else"}).status_code == 405
    assert client.get("/django-admin/").status_code == 404

    entry.refresh_from_db()
    assert entry.username == user.username
    assert BookingAccessLog.objects.count() == 1


def test_every_counselling_admin_screen_opens_for_a_coordinator(coordinator_client, bookings):
    room = bookings[0].room
    band, shift = room.opening_bands.first(), room.duty_shifts.first()
    closure = Closure.objects.create(
        room=room, starts_at=at(NOW.date(), 9), ends_at=at(NOW.date(), 12), reason="设备检修"
    )
    opening = HolidayOpening.objects.create(room=room, date=datetime.date(2025, 5, 2))
    urls = [
        "/admin/counseling/schedule/",
        f"/admin/counseling/schedule/{room.pk}/",
        f"{BOOKINGS_URL}{bookings[0].pk}/cancel/",
        LOG_URL,
    ]
    for model, pk in [
        ("room", room.pk),
        ("counsellor", bookings[0].counsellor_id),
        ("openinghours", band.pk),
        ("dutyshift", shift.pk),
        ("closure", closure.pk),
        ("holidayopening", opening.pk),
    ]:
        urls += [f"/admin/counseling/{model}/", f"/admin/counseling/{model}/new/"]
        urls.append(f"/admin/counseling/{model}/edit/{pk}/")

    for url in urls:
        assert coordinator_client.get(url).status_code == 200, url


def test_room_form_carries_the_booking_rules(coordinator_client, room):
    response = coordinator_client.post(
        f"/admin/counseling/room/edit/{room.pk}/",
        {
            "name": room.name,
            "location": room.location,
            "district": "",
            "address": room.address,
            "directions": "",
            "opening_hours": "",
            "accessibility": "",
            "phone": "",
            "photo": "",
            "session_minutes": "45",
            "buffer_minutes": "15",
            "min_notice_hours": "24",
            "horizon_days": "7",
            "daily_cap": "3",
            "sort_order": "0",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.session_minutes, room.buffer_minutes, room.min_notice_hours) == (45, 15, 24)
    assert (room.horizon_days, room.daily_cap) == (7, 3)


def answer(client, url, data, field, choice):
    """Post `data`, then answer `choice` in `field` for the list the form showed
    (the signed `listed` value the coordinator's browser sends back)."""
    shown = client.post(url, data).content.decode()
    listed = re.search(r'name="listed" value="([^"]+)"', shown).group(1)
    return client.post(url, {**data, "listed": listed, field: choice})


def closure_form(room, starts, ends, **extra):
    local = {key: timezone.localtime(value) for key, value in (("s", starts), ("e", ends))}
    return {
        "room": room.pk if room else "",
        "starts_at": local["s"].strftime("%Y-%m-%d %H:%M"),
        "ends_at": local["e"].strftime("%Y-%m-%d %H:%M"),
        "reason": "水管检修",
        **extra,
    }


@pytest.fixture
def upcoming_bookings(db):
    """Two residents booked in an open room in the days to come, one elsewhere."""
    room = make_open_room()
    other = make_weekday_room(
        "第二管区咨询室",
        address="第二管区服务中心",
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(8, 20),
        starts_on=timezone.localdate() - datetime.timedelta(days=1),
        counsellor="刘老师",
    )
    day = timezone.localdate() + datetime.timedelta(days=3)
    slots = [s for s in Availability([room]).slots(room) if s.day == day][:2]
    booked = [
        create_booking(
            room=room, starts_at=slot.start, name=name, mobile=mobile, visit_type="first"
        )
        for slot, (name, mobile) in zip(
            slots, [("张阿姨", "13800000001"), ("李大爷", "13800000002")], strict=True
        )
    ]
    elsewhere = create_booking(
        room=other,
        starts_at=slots[0].start,
        name="赵女士",
        mobile="13800000003",
        visit_type="first",
    )
    return room, day, booked, elsewhere


def test_a_closure_over_booked_times_lists_them_and_saves_nothing_until_told_what_to_do(
    coordinator_client, upcoming_bookings, django_capture_on_commit_callbacks
):
    room, day, booked, elsewhere = upcoming_bookings
    whole_day = (at(day, 0), at(day, 23, 59))
    sms.MemoryBackend.outbox.clear()

    first = coordinator_client.post(
        "/admin/counseling/closure/new/", closure_form(room, *whole_day)
    )

    assert first.status_code == 200 and not Closure.objects.exists()
    html = first.content.decode()
    assert "这段时间里有 2 个已确认的预约" in html
    for booking in booked:
        assert booking.reference_display in html
    assert elsewhere.reference_display not in html  # another room stays open
    assert "张阿姨" not in html  # references and times, not names

    with django_capture_on_commit_callbacks(execute=True):
        listed = re.search(r'name="listed" value="([^"]+)"', html).group(1)
        coordinator_client.post(
            "/admin/counseling/closure/new/",
            closure_form(room, *whole_day, affected_bookings="cancel", listed=listed),
        )

    assert Closure.objects.get().reason == "水管检修"
    for booking in booked:
        booking.refresh_from_db()
        assert booking.status == Booking.Status.STAFF_CANCELLED
        assert "水管检修" in booking.cancel_reason
    elsewhere.refresh_from_db()
    assert elsewhere.status == Booking.Status.CONFIRMED
    texts = [text for mobile, text in sms.MemoryBackend.outbox]
    assert len(texts) == 2 and all("已取消" in t and "水管检修" in t for t in texts)


def test_a_closure_can_keep_the_bookings_it_covers(
    coordinator_client, upcoming_bookings, django_capture_on_commit_callbacks
):
    room, day, booked, _elsewhere = upcoming_bookings
    sms.MemoryBackend.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        answer(
            coordinator_client,
            "/admin/counseling/closure/new/",
            closure_form(room, at(day, 0), at(day, 23, 59)),
            "affected_bookings",
            "keep",
        )

    assert Closure.objects.count() == 1
    assert all(b.status == Booking.Status.CONFIRMED for b in Booking.objects.all())
    assert sms.MemoryBackend.outbox == []


def test_a_closure_over_free_times_saves_at_once(coordinator_client, upcoming_bookings):
    room, day, _booked, _elsewhere = upcoming_bookings
    response = coordinator_client.post(
        "/admin/counseling/closure/new/",
        closure_form(
            room,
            at(day + datetime.timedelta(days=1), 0),
            at(day + datetime.timedelta(days=1), 23, 59),
        ),
    )
    assert response.status_code == 302 and Closure.objects.count() == 1


def test_a_reference_typed_in_full_width_digits_finds_the_booking(coordinator_client, bookings):
    booking = bookings[0]
    wide = "".join(chr(ord(digit) + 0xFEE0) for digit in booking.reference[:4])
    response = coordinator_client.post(f"{BOOKINGS_URL}search/", {"query": wide}, follow=True)
    assert booking.reference_display in response.content.decode()


def test_a_counsellor_cannot_be_put_on_duty_in_two_rooms_at_once(coordinator_client):
    teacher = Counsellor.objects.create(name="孙老师")
    first = Room.objects.create(name="第三管区咨询室", address="第三管区")
    second = Room.objects.create(name="第四管区咨询室", address="第四管区")
    DutyShift.objects.create(
        room=first,
        counsellor=teacher,
        weekdays="MO,WE",
        start_time=datetime.time(9),
        end_time=datetime.time(12),
        starts_on=datetime.date(2025, 3, 1),
    )

    def put_on_duty(weekdays, start, end):
        return coordinator_client.post(
            "/admin/counseling/dutyshift/new/",
            {
                "room": second.pk,
                "counsellor": teacher.pk,
                "weekdays": weekdays,
                "start_time": start,
                "end_time": end,
                "starts_on": "2025-03-01",
                "ends_on": "",
            },
        )

    clash = put_on_duty(["WE", "FR"], "11:00", "14:00")
    assert clash.status_code == 200
    assert "孙老师 在这个时间已经安排在第三管区咨询室值班" in clash.content.decode()
    assert not second.duty_shifts.exists()

    assert put_on_duty(["TU", "FR"], "11:00", "14:00").status_code == 302  # other days
    assert put_on_duty(["MO"], "14:00", "17:00").status_code == 302  # the afternoon
    assert second.duty_shifts.count() == 2


def test_attendance_can_be_marked_only_once_the_session_has_begun(
    coordinator_client, upcoming_bookings
):
    _room, _day, booked, _elsewhere = upcoming_bookings
    booking = booked[0]
    detail = coordinator_client.get(f"{BOOKINGS_URL}{booking.pk}/").content.decode()
    assert "标记为已到访" not in detail and "开始后,才能标记已到访或未到访" in detail

    response = coordinator_client.post(f"{BOOKINGS_URL}{booking.pk}/attended/", follow=True)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert "开始之后才能标记到访情况" in response.content.decode()


def holiday_form(year, periods, initial=0, **extra):
    """What the holiday arrangement form posts: one row per period."""
    data = {
        "year": str(year),
        "notice": "",
        "periods-TOTAL_FORMS": str(len(periods)),
        "periods-INITIAL_FORMS": str(initial),
        "periods-MIN_NUM_FORMS": "1",
        "periods-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for number, period in enumerate(periods):
        data.update({f"periods-{number}-{key}": value for key, value in period.items()})
        data[f"periods-{number}-ORDER"] = str(number + 1)
    return data


def holiday(name, first, last=None, kind="holiday", **extra):
    last = last or first
    return {
        "name": name,
        "kind": kind,
        "starts_on": first.isoformat(),
        "ends_on": last.isoformat(),
        **extra,
    }


def test_a_holiday_over_booked_days_lists_them_and_saves_nothing_until_told(
    coordinator_client, upcoming_bookings, django_capture_on_commit_callbacks
):
    _room, day, booked, elsewhere = upcoming_bookings
    sms.MemoryBackend.outbox.clear()
    form = holiday_form(day.year, [holiday("临时假日", day)])

    first = coordinator_client.post(reverse("holiday_arrangements:add"), form)

    assert first.status_code == 200 and not HolidayArrangement.objects.exists()
    html = first.content.decode()
    assert "新定为放假的日子里有 3 个已确认的预约" in html
    for booking in [*booked, elsewhere]:
        assert booking.reference_display in html
    assert "张阿姨" not in html

    with django_capture_on_commit_callbacks(execute=True):
        listed = re.search(r'name="listed" value="([^"]+)"', html).group(1)
        saved = coordinator_client.post(
            reverse("holiday_arrangements:add"),
            {**form, "on_closed_days": "cancel", "listed": listed},
        )

    assert saved.status_code == 302 and HolidayArrangement.objects.get().year == day.year
    for booking in [*booked, elsewhere]:
        booking.refresh_from_db()
        assert booking.status == Booking.Status.STAFF_CANCELLED
        assert "临时假日放假" in booking.cancel_reason
    texts = [text for _mobile, text in sms.MemoryBackend.outbox]
    assert len(texts) == 3 and all("已取消" in t and "临时假日放假" in t for t in texts)


def test_a_holiday_can_keep_the_bookings_on_its_days(
    coordinator_client, upcoming_bookings, django_capture_on_commit_callbacks
):
    _room, day, _booked, _elsewhere = upcoming_bookings
    sms.MemoryBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(
            coordinator_client,
            reverse("holiday_arrangements:add"),
            holiday_form(day.year, [holiday("临时假日", day)]),
            "on_closed_days",
            "keep",
        )
    assert response.status_code == 302 and HolidayArrangement.objects.count() == 1
    assert all(b.status == Booking.Status.CONFIRMED for b in Booking.objects.all())
    assert sms.MemoryBackend.outbox == []


def test_a_room_opened_on_the_holiday_keeps_its_bookings_without_asking(
    coordinator_client, upcoming_bookings
):
    room, day, booked, elsewhere = upcoming_bookings
    HolidayOpening.objects.create(room=room, date=day)
    response = coordinator_client.post(
        reverse("holiday_arrangements:add"), holiday_form(day.year, [holiday("临时假日", day)])
    )
    html = response.content.decode()
    assert "新定为放假的日子里有 1 个已确认的预约" in html
    assert elsewhere.reference_display in html
    assert all(booking.reference_display not in html for booking in booked)


def test_cancel_counts_only_for_the_bookings_the_coordinator_saw_listed(
    coordinator_client, upcoming_bookings, django_capture_on_commit_callbacks
):
    room, day, booked, elsewhere = upcoming_bookings
    url = "/admin/counseling/closure/new/"
    # Chosen before any list was shown: the list comes first, nothing is saved.
    blind = coordinator_client.post(
        url, closure_form(room, at(day, 0), at(day, 23, 59), affected_bookings="cancel")
    )
    assert blind.status_code == 200 and not Closure.objects.exists()

    shown = coordinator_client.post(url, closure_form(room, at(day, 0), booked[0].ends_at))
    assert booked[1].reference_display not in shown.content.decode()
    listed = re.search(r'name="listed" value="([^"]+)"', shown.content.decode()).group(1)
    # The coordinator stretches the closure over a booking the list did not show.
    stretched = closure_form(
        None, at(day, 0), at(day, 23, 59), affected_bookings="cancel", listed=listed
    )
    with django_capture_on_commit_callbacks(execute=True):
        again = coordinator_client.post(url, stretched)

    assert again.status_code == 200 and not Closure.objects.exists()
    assert all(b.status == Booking.Status.CONFIRMED for b in Booking.objects.all())
    html = again.content.decode()
    for booking in [*booked, elsewhere]:
        assert booking.reference_display in html


def test_editing_a_holiday_asks_only_about_days_it_newly_closes(
    coordinator_client, upcoming_bookings
):
    _room, day, _booked, _elsewhere = upcoming_bookings
    arrangement = HolidayArrangement.objects.create(year=day.year)
    period = HolidayPeriod.objects.create(
        arrangement=arrangement, name="临时假日", starts_on=day, ends_on=day
    )
    # The bookings were kept when the holiday was entered; a later edit of the
    # notice leaves them alone.
    response = coordinator_client.post(
        reverse("holiday_arrangements:edit", args=[arrangement.pk]),
        holiday_form(
            day.year,
            [holiday("临时假日", day, id=str(period.pk))],
            initial=1,
            notice="国务院办公厅通知",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    arrangement.refresh_from_db()
    assert arrangement.notice == "国务院办公厅通知"
    assert all(b.status == Booking.Status.CONFIRMED for b in Booking.objects.all())

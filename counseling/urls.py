import datetime

from django.urls import path, register_converter

from . import follow_up_views, selfcheck_views, views, waitlist_views

app_name = "counseling"


class DayConverter:
    """A calendar day as YYYY-MM-DD; an impossible date is a 404."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        return datetime.date.fromisoformat(value)

    def to_url(self, value):
        return value.isoformat()


class TimeConverter:
    """A time of day as HHMM."""

    regex = r"\d{4}"

    def to_python(self, value):
        return datetime.time(int(value[:2]), int(value[2:]))

    def to_url(self, value):
        return f"{value:%H%M}"


register_converter(DayConverter, "day")
register_converter(TimeConverter, "hhmm")

urlpatterns = [
    path("", views.room_list, name="rooms"),
    path("done/", views.done, name="done"),
    path("verify/", views.verify, name="verify"),
    path("houbu/verify/", waitlist_views.verify, name="waitlist_verify"),
    path("houbu/done/", waitlist_views.done, name="waitlist_done"),
    path("<int:room_id>/houbu/", waitlist_views.join, name="waitlist"),
    path("<int:room_id>/", views.room_days, name="days"),
    path("<int:room_id>/<day:day>/", views.day_slots, name="slots"),
    path("<int:room_id>/<day:day>/<hhmm:time>/", views.book, name="book"),
    path("ziping/", selfcheck_views.start, name="selfcheck"),
    path("ziping/<str:instrument>/", selfcheck_views.questions, name="selfcheck_questions"),
]

# Mounted at the neutral /yuyue/ (see counseling.manage_urls): links in messages
# point there, so they do not name the service.
manage_urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("code/", views.lookup_code, name="code"),
    path("bookings/", views.bookings, name="bookings"),
    path("booking/", views.detail, name="detail"),
    path("cancel/", views.cancel, name="cancel"),
    path("move/", views.move_days, name="move_days"),
    path("move/<day:day>/", views.move_slots, name="move_slots"),
    path("yuyue.ics", views.calendar_file, name="ics"),
    path("leave/", views.leave, name="leave"),
    path("houbu/<str:reference>/", waitlist_views.hold, name="hold"),
    path("houbu/<str:reference>/decline/", waitlist_views.decline, name="decline_hold"),
    path("houbu/leave/<int:entry_id>/", waitlist_views.leave, name="leave_waitlist"),
    path("zaici/<str:reference>/", follow_up_views.days, name="follow_up"),
    path("zaici/<str:reference>/houbu/", follow_up_views.wait, name="follow_up_wait"),
    path("zaici/<str:reference>/<day:day>/", follow_up_views.slots, name="follow_up_slots"),
]

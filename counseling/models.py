"""The counselling module's data: rooms, counsellors, their weekly times (kept as
django-scheduler events), closures, holiday openings, bookings and the records
around them (outgoing messages, staff access log), and the anonymous monthly
counts of self-checks (心理自评)."""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from schedule.models import Calendar, Event, Rule
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.search import index

from portal.core.fields import EncryptedTextField
from portal.core.outbox import Message
from portal.core.privacy import mobile_digest, mobile_digests
from portal.core.references import reference_display

from .formatting import LOCAL_TZ, staff_moment
from .selfcheck import BAND_LABELS, CRISIS, INSTRUMENTS, BandCode

WEEKDAYS = [
    ("MO", _("周一")),
    ("TU", _("周二")),
    ("WE", _("周三")),
    ("TH", _("周四")),
    ("FR", _("周五")),
    ("SA", _("周六")),
    ("SU", _("周日")),
]
WEEKDAY_CODES = [code for code, _label in WEEKDAYS]


class RoomQuerySet(models.QuerySet):
    def for_listing(self):
        return (
            self.filter(is_active=True)
            .select_related("photo")
            .prefetch_related("opening_bands")
            .order_by("sort_order", "pk")
        )


class Room(index.Indexed, models.Model):
    """One of the six counselling rooms: at the sub-district office or in a
    management district (管区). Its opening hours and duty shifts live in its
    own django-scheduler calendar."""

    class Location(models.TextChoices):
        OFFICE = "office", _("街道办事处")
        DISTRICT = "district", _("管区")

    name = models.CharField(_("名称"), max_length=60, unique=True)
    location = models.CharField(
        _("所在层级"), max_length=10, choices=Location.choices, default=Location.DISTRICT
    )
    district = models.CharField(
        _("所属管区"), max_length=40, blank=True, help_text=_("位于街道办事处的咨询室留空。")
    )
    address = models.CharField(_("地址"), max_length=200)
    directions = models.TextField(
        _("到达方式"), blank=True, help_text=_("公交线路、楼层、入口等。")
    )
    opening_hours = models.CharField(
        _("开放时间补充说明"),
        max_length=120,
        blank=True,
        help_text=_(
            "开放时间按“开放时间”中的设置自动显示给居民,不必在这里重复;"
            "这里只写补充说明,例如:法定节假日休息。"
        ),
    )
    accessibility = models.TextField(
        _("无障碍说明"), blank=True, help_text=_("例如:一楼,无台阶,可通行轮椅。")
    )
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("照片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    session_minutes = models.PositiveSmallIntegerField(
        _("每次咨询时长(分钟)"),
        default=50,
        validators=[MinValueValidator(15), MaxValueValidator(180)],
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("间隔(分钟)"),
        default=10,
        validators=[MaxValueValidator(60)],
        help_text=_("两次咨询之间留出的整理时间。"),
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        _("最少提前(小时)"),
        default=2,
        validators=[MaxValueValidator(24 * 14)],
        help_text=_("居民至少要提前多少小时预约。"),
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("最多提前(天)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("居民最多可以预约多少天以内的时段。"),
    )
    daily_cap = models.PositiveSmallIntegerField(
        _("每日预约上限"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("每天最多接受的预约数;留空表示不限(以时段数为准)。"),
    )
    calendar = models.OneToOneField(
        Calendar,
        verbose_name=_("日程"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="room",
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("开放中"), default=True)

    objects = RoomQuerySet.as_manager()

    panels = [
        MultiFieldPanel(
            [FieldPanel("name"), FieldPanel("location"), FieldPanel("district")],
            heading=_("基本信息"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("address"),
                FieldPanel("directions"),
                FieldPanel("opening_hours"),
                FieldPanel("accessibility"),
                FieldPanel("phone"),
            ],
            heading=_("到访信息"),
        ),
        FieldPanel("photo"),
        MultiFieldPanel(
            [
                FieldPanel("session_minutes"),
                FieldPanel("buffer_minutes"),
                FieldPanel("min_notice_hours"),
                FieldPanel("horizon_days"),
                FieldPanel("daily_cap"),
            ],
            heading=_("预约规则"),
        ),
        MultiFieldPanel([FieldPanel("sort_order"), FieldPanel("is_active")], heading=_("显示")),
    ]

    search_fields = [index.SearchField("name"), index.SearchField("address")]

    class Meta:
        verbose_name = _("心理咨询室")
        verbose_name_plural = _("心理咨询室")
        ordering = ["sort_order", "pk"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if self.calendar_id is None:
            self.calendar = Calendar.objects.create(name=self.name, slug=f"room-{self.pk}")
            super().save(update_fields=["calendar"])

    @property
    def schedule_text(self):
        """The opening hours in effect today, as residents read them, written
        from the room's opening bands (so it cannot go stale):
        周一至周五 9:00–12:00、14:00–17:30;周六 9:00–12:00."""
        today = timezone.localdate()
        by_days = {}
        for band in sorted(self.opening_bands.all(), key=lambda band: band.start_time):
            if band.starts_on > today or (band.ends_on and band.ends_on < today):
                continue
            times = f"{clock(band.start_time)}–{clock(band.end_time)}"
            by_days.setdefault(tuple(band.weekday_codes), []).append(times)
        return ";".join(
            f"{weekday_span(days)} {'、'.join(times)}"
            for days, times in sorted(
                by_days.items(), key=lambda item: WEEKDAY_CODES.index(item[0][0])
            )
        )


class Counsellor(models.Model):
    """A counsellor from the partner institution who takes duty shifts."""

    name = models.CharField(_("姓名"), max_length=40)
    title = models.CharField(
        _("资质"), max_length=80, blank=True, help_text=_("例如:国家二级心理咨询师")
    )
    bio = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("在岗"), default=True)
    display_name = models.CharField(
        _("对居民显示的称呼"),
        max_length=20,
        blank=True,
        help_text=_("例如:刘老师。只有勾选下面一项时,居民再次预约才会看到这个称呼,不会看到姓名。"),
    )
    shown_to_residents = models.BooleanField(
        _("允许向居民显示称呼"),
        default=False,
        help_text=_("不勾选时,居民只看到“上次那位咨询师”。"),
    )

    class Meta:
        verbose_name = _("咨询师")
        verbose_name_plural = _("咨询师")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def public_name(self):
        """What residents may read: the display name where the coordinator
        allows it, else nothing (never the real name)."""
        return self.display_name if self.shown_to_residents else ""


def clock(time):
    """9:00, 14:30: hours without a leading zero, as notices write them."""
    return f"{time.hour}:{time.minute:02d}"


def weekday_span(codes):
    """周一至周五 for a run of three or more days, 周二、周四 otherwise."""
    labels = dict(WEEKDAYS)
    positions = sorted(WEEKDAY_CODES.index(code) for code in codes)
    if len(positions) >= 3 and positions == list(range(positions[0], positions[-1] + 1)):
        first, last = labels[WEEKDAY_CODES[positions[0]]], labels[WEEKDAY_CODES[positions[-1]]]
        return _("%(first)s至%(last)s") % {"first": first, "last": last}
    return "、".join(str(labels[WEEKDAY_CODES[position]]) for position in positions)


class WeeklyTimes(models.Model):
    """A weekly time band (some weekdays, a start and an end time, from a date,
    optionally until a date), stored as a recurring django-scheduler Event so the
    scheduler owns time. Several bands make lunch breaks and split shifts."""

    weekdays = models.CharField(
        _("星期"), max_length=20, help_text=_("逗号分隔的星期代码,由后台的星期勾选框填写。")
    )
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    starts_on = models.DateField(_("起始日期"), default=datetime.date.today)
    ends_on = models.DateField(
        _("截止日期"), null=True, blank=True, help_text=_("留空表示长期有效。")
    )
    event = models.OneToOneField(
        Event, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.weekdays = ",".join(code for code in WEEKDAY_CODES if code in self.weekday_codes)
        self.event = self._write_event()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        event = self.event
        result = super().delete(*args, **kwargs)
        if event is not None:
            event.delete()
        return result

    def clean(self):
        super().clean()
        codes = self.weekday_codes
        if not codes or any(code not in WEEKDAY_CODES for code in codes):
            raise ValidationError({"weekdays": _("请至少选择一天。")})
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("结束时间必须晚于开始时间。")})
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("截止日期不能早于起始日期。")})

    @property
    def weekday_codes(self):
        return [code for code in (self.weekdays or "").split(",") if code]

    def weekday_display(self):
        labels = dict(WEEKDAYS)
        return "、".join(str(labels[code]) for code in self.weekday_codes if code in labels)

    weekday_display.short_description = _("星期")

    def event_title(self):
        raise NotImplementedError

    def _write_event(self):
        """Write the band as a DAILY rule limited by weekday: django-scheduler 0.12
        keeps only the start weekday of a WEEKLY rule with a weekday list."""
        rule, _created = Rule.objects.get_or_create(
            frequency="DAILY",
            params=f"byweekday:{self.weekdays}",
            defaults={"name": f"每周 {self.weekdays}"[:32], "description": self.weekday_display()},
        )
        event = self.event or Event()
        event.calendar = self.room.calendar
        event.title = self.event_title()[:255]
        event.rule = rule
        event.start = datetime.datetime.combine(self.starts_on, self.start_time, LOCAL_TZ)
        event.end = datetime.datetime.combine(self.starts_on, self.end_time, LOCAL_TZ)
        event.end_recurring_period = (
            datetime.datetime.combine(
                self.ends_on + datetime.timedelta(days=1), datetime.time(), LOCAL_TZ
            )
            if self.ends_on
            else None
        )
        event.save()
        return event


class OpeningHours(WeeklyTimes):
    room = models.ForeignKey(
        Room, verbose_name=_("咨询室"), on_delete=models.CASCADE, related_name="opening_bands"
    )

    class Meta:
        verbose_name = _("开放时间")
        verbose_name_plural = _("开放时间")
        ordering = ["room", "start_time"]

    def __str__(self):
        return f"{self.room}:{self.weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def event_title(self):
        return f"开放 {self}"


class DutyShift(WeeklyTimes):
    room = models.ForeignKey(
        Room, verbose_name=_("咨询室"), on_delete=models.CASCADE, related_name="duty_shifts"
    )
    counsellor = models.ForeignKey(
        Counsellor, verbose_name=_("咨询师"), on_delete=models.CASCADE, related_name="duty_shifts"
    )

    class Meta:
        verbose_name = _("值班安排")
        verbose_name_plural = _("值班安排")
        ordering = ["room", "start_time"]

    def __str__(self):
        return (
            f"{self.counsellor} @ {self.room}:{self.weekday_display()} "
            f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        )

    def event_title(self):
        return f"值班 {self}"

    def clean(self):
        """One counsellor cannot be on duty in two places at once: a shift that
        shares a weekday, a time and a date with another of the same counsellor's
        is refused, naming the other."""
        super().clean()
        if not (self.counsellor_id and self.start_time and self.end_time and self.starts_on):
            return
        for other in (
            DutyShift.objects.filter(counsellor_id=self.counsellor_id)
            .exclude(pk=self.pk)
            .select_related("room")
        ):
            if self.overlaps(other):
                raise ValidationError(
                    {
                        "start_time": _(
                            "%(counsellor)s 在这个时间已经安排在%(room)s值班(%(days)s "
                            "%(start)s–%(end)s),同一位咨询师不能同时在两处值班。"
                        )
                        % {
                            "counsellor": self.counsellor,
                            "room": other.room.name,
                            "days": other.weekday_display(),
                            "start": f"{other.start_time:%H:%M}",
                            "end": f"{other.end_time:%H:%M}",
                        }
                    }
                )

    def overlaps(self, other):
        far = datetime.date.max
        return (
            set(self.weekday_codes) & set(other.weekday_codes)
            and self.start_time < other.end_time
            and other.start_time < self.end_time
            and self.starts_on <= (other.ends_on or far)
            and other.starts_on <= (self.ends_on or far)
        )


class ClosureQuerySet(models.QuerySet):
    def affecting(self, rooms, start, end):
        """Closures of these rooms, or of every room, that overlap [start, end)."""
        return self.filter(
            models.Q(room__isnull=True) | models.Q(room__in=rooms),
            starts_at__lt=end,
            ends_at__gt=start,
        )


class Closure(models.Model):
    """A one-off closure of one room, or of every room when no room is given."""

    room = models.ForeignKey(
        Room,
        verbose_name=_("咨询室"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="closures",
        help_text=_("留空表示所有咨询室都关闭。"),
    )
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    reason = models.CharField(
        _("原因"), max_length=100, help_text=_("会显示给居民,例如:设备检修。")
    )

    objects = ClosureQuerySet.as_manager()

    class Meta:
        verbose_name = _("临时关闭")
        verbose_name_plural = _("临时关闭")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="closure_ends_after_start",
            )
        ]

    def __str__(self):
        where = self.room or _("全部咨询室")
        return f"{where}:{staff_moment(self.starts_at)} {self.reason}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("结束时间必须晚于开始时间。")})


class HolidayOpening(models.Model):
    """A statutory holiday on which a coordinator opens a room after all."""

    room = models.ForeignKey(
        Room, verbose_name=_("咨询室"), on_delete=models.CASCADE, related_name="holiday_openings"
    )
    date = models.DateField(_("日期"))
    note = models.CharField(_("备注"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("节假日开放")
        verbose_name_plural = _("节假日开放")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "date"], name="one_holiday_opening_per_room_day"
            )
        ]

    def __str__(self):
        return f"{self.room}:{self.date:%Y-%m-%d}"


class ByMobileQuerySet(models.QuerySet):
    """Rows holding a resident's mobile, found by its keyed hash (`mobile_hash`)."""

    def for_mobile(self, mobile):
        """Rows of this mobile, found by its keyed hash under any lookup key."""
        return self.with_mobile_hashes(mobile_digests(mobile))

    def with_mobile_hashes(self, hashes):
        """Rows of the mobile whose keyed hashes these are (a proven number or
        a coordinator's search keeps the hashes, never the number)."""
        return self.filter(mobile_hash__in=hashes)


class BookingQuerySet(ByMobileQuerySet):
    def blocking(self):
        """Bookings that hold their time in the room."""
        return self.filter(status__in=Booking.BLOCKING_STATUSES)

    def upcoming(self, now=None):
        return self.filter(status=Booking.Status.CONFIRMED, starts_at__gte=now or timezone.now())

    def confirmed_during(self, start, end):
        """Confirmed bookings whose time overlaps [start, end)."""
        return self.filter(status=Booking.Status.CONFIRMED, starts_at__lt=end, ends_at__gt=start)


class Booking(models.Model):
    """A resident's session in a room. Only counseling.booking writes these."""

    # portal.core.pagecache: pages show free times from the booking pages, which
    # are never cached, so a booking leaves cached pages be.
    shown_on_pages = False

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已确认")
        CANCELLED = "cancelled", _("居民已取消")
        LATE_CANCEL = "late_cancel", _("居民逾期取消")
        STAFF_CANCELLED = "staff_cancelled", _("工作人员已取消")
        ATTENDED = "attended", _("已到访")
        NO_SHOW = "no_show", _("未到访")
        # A freed time kept for a resident on the waitlist until they confirm it
        # (counseling.booking.claim_hold) or the hold runs out.
        HELD = "held", _("候补保留中")
        HOLD_RELEASED = "hold_released", _("候补保留未使用")

    class VisitType(models.TextChoices):
        FIRST = "first", _("首次咨询")
        FOLLOW_UP = "follow_up", _("再次咨询")

    # A hold keeps its time like a booking, also in the database's overlap guard.
    BLOCKING_STATUSES = (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW, Status.HELD)

    reference = models.CharField(_("预约编号"), max_length=8, unique=True)
    room = models.ForeignKey(
        Room, verbose_name=_("咨询室"), on_delete=models.PROTECT, related_name="bookings"
    )
    counsellor = models.ForeignKey(
        Counsellor,
        verbose_name=_("咨询师"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.CONFIRMED, db_index=True
    )
    # The resident's details are encrypted at rest (portal.core.privacy); the
    # mobile is found through its keyed hash, kept up to date by save().
    name = EncryptedTextField(_("称呼"))
    mobile = EncryptedTextField(_("手机号码"))
    mobile_hash = models.CharField(
        _("手机号码查找码"), max_length=64, blank=True, db_index=True, editable=False
    )
    email = EncryptedTextField(_("电子邮箱"), blank=True)
    visit_type = models.CharField(
        _("咨询类型"), max_length=10, choices=VisitType.choices, default=VisitType.FIRST
    )
    note = EncryptedTextField(_("困扰简述"), blank=True)
    note_consent_at = models.DateTimeField(_("同意保存简述的时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = EncryptedTextField(_("取消原因"), blank=True)
    reminder_sent_at = models.DateTimeField(_("提醒发送时间"), null=True, blank=True)
    personal_data_erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)
    # Set on a hold: until when the time is kept, and the waitlist entry it was
    # offered to (kept once confirmed, so the figures count who the waitlist served).
    hold_expires_at = models.DateTimeField(_("保留到"), null=True, blank=True)
    waitlist_entry = models.ForeignKey(
        "WaitlistEntry",
        verbose_name=_("候补登记"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offers",
    )

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["room", "starts_at"], name="booking_room_start")]

    def __str__(self):
        return f"{self.reference_display} {staff_moment(self.starts_at)}"

    def save(self, *args, **kwargs):
        self.mobile_hash = mobile_digest(self.mobile) if self.mobile else ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "mobile" in update_fields:
            kwargs["update_fields"] = {*update_fields, "mobile_hash"}
        super().save(*args, **kwargs)

    @property
    def reference_display(self):
        return reference_display(self.reference)

    @property
    def is_active(self):
        return self.status == self.Status.CONFIRMED

    @property
    def is_upcoming(self):
        return self.is_active and self.starts_at > timezone.now()

    def has_begun(self, now=None):
        """Whether the session has started: only then can attendance be recorded."""
        return self.starts_at <= (now or timezone.now())


class WaitlistEntryQuerySet(ByMobileQuerySet):
    def waiting(self):
        return self.filter(state=WaitlistEntry.State.WAITING)

    def live(self):
        """Entries still in the queue or holding an offered time."""
        return self.filter(state__in=(WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED))


class WaitlistEntry(models.Model):
    """A resident waiting for a time in a room between two days (候补). When a
    time frees, counseling.booking holds it for the first entry that wants it
    and texts the resident. Only counseling.booking writes these."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    class State(models.TextChoices):
        WAITING = "waiting", _("候补中")
        OFFERED = "offered", _("已为其保留时段")
        BOOKED = "booked", _("已预约")
        MISSED = "missed", _("保留时段逾期未确认")
        LEFT = "left", _("居民已退出候补")
        ENDED = "ended", _("候补期已过")

    room = models.ForeignKey(
        Room, verbose_name=_("咨询室"), on_delete=models.PROTECT, related_name="waitlist"
    )
    # Only this counsellor's times, for a follow-up with the same counsellor.
    counsellor = models.ForeignKey(
        Counsellor,
        verbose_name=_("咨询师"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="waitlist",
    )
    first_day = models.DateField(_("最早日期"))
    last_day = models.DateField(_("最晚日期"))
    mobile = EncryptedTextField(_("手机号码"))
    mobile_hash = models.CharField(
        _("手机号码查找码"), max_length=64, blank=True, db_index=True, editable=False
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.WAITING, db_index=True
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    personal_data_erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("候补登记")
        verbose_name_plural = _("候补登记")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="waitlist_last_day_not_before_first",
            )
        ]

    def __str__(self):
        return f"{self.room}:{self.first_day:%m-%d}–{self.last_day:%m-%d}"

    def save(self, *args, **kwargs):
        self.mobile_hash = mobile_digest(self.mobile) if self.mobile else ""
        super().save(*args, **kwargs)

    def wants(self, slot):
        """Whether a free slot (availability.Slot) is one this resident waits for."""
        return self.first_day <= slot.day <= self.last_day and (
            self.counsellor_id is None or slot.counsellor_id == self.counsellor_id
        )


class Notification(Message):
    """A message to a resident about a booking, kept until it is delivered."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("预约确认")
        REMINDER = "reminder", _("前一天提醒")
        CANCELLATION = "cancellation", _("取消通知")
        MOVED = "moved", _("改约通知")
        OFFER = "offer", _("候补空位通知")

    booking = models.ForeignKey(
        Booking, verbose_name=_("预约"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)

    class Meta(Message.Meta):
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    task_path = "counseling.notifications.deliver"
    about_field = "booking"

    def superseded(self):
        """An offer from the waitlist whose hold was confirmed, declined or ran
        out is no longer true: a retry must not send it late."""
        if self.kind == self.Kind.OFFER and self.booking.status != Booking.Status.HELD:
            return "offer no longer held"
        return ""


class BookingAccessLog(models.Model):
    """Who looked at or exported residents' booking data, and when. Written by the
    admin views; nobody can edit it."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    class Action(models.TextChoices):
        LIST = "list", _("查看列表")
        VIEW = "view", _("查看详情")
        EXPORT = "export", _("导出")
        CHANGE = "change", _("更改状态")
        SCHEDULE = "schedule", _("查看日程")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("用户名"), max_length=150)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    booking_references = models.TextField(_("涉及的预约"), blank=True)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("预约数据访问记录")
        verbose_name_plural = _("预约数据访问记录")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.username} {self.get_action_display()} {staff_moment(self.at)}"


class TimetableVersion(models.Model):
    """One row whose token changes when a change commits to anything free times
    are computed from: rooms, counsellors, weekly times and their
    django-scheduler events, closures, holiday openings, the statutory calendar
    and bookings (counseling.signals). Pages that show free times keep what they
    loaded under this token, so one small query tells any process whether it is
    still true (counseling.availability.Availability.shown)."""

    shown_on_pages = False  # portal.core.pagecache: free times are never page-cached

    token = models.CharField(_("版本"), max_length=32)

    class Meta:
        verbose_name = _("排班版本")
        verbose_name_plural = _("排班版本")

    def __str__(self):
        return self.token

    @classmethod
    def current(cls):
        return cls.objects.values_list("token", flat=True).first()

    @classmethod
    def move_on(cls):
        token = secrets.token_hex(16)
        if not cls.objects.filter(pk=1).update(token=token):
            cls.objects.update_or_create(pk=1, defaults={"token": token})


class SelfCheckCountQuerySet(models.QuerySet):
    def per_month(self):
        """{month: {instrument: {band: count}}}, months newest first, for the
        coordinators' figures: every row there is, nothing filled in."""
        counts = {}
        for month, instrument, band, count in self.order_by(
            "-month", "instrument", "band"
        ).values_list("month", "instrument", "band", "count"):
            counts.setdefault(month, {}).setdefault(instrument, {})[band] = count
        return counts


class SelfCheckCount(models.Model):
    """How many self-checks (心理自评, counseling.selfcheck) ended in each band,
    per questionnaire and Shanghai calendar month. A PHQ-9 check whose item 9
    went to the crisis page is counted in its band and once more under
    ``crisis``, so the bands still add up to the checks completed.

    This is all a self-check leaves behind: no answers, no score, no time finer
    than the month, nothing about who or from where."""

    shown_on_pages = False  # portal.core.pagecache: no page shows it

    CRISIS = CRISIS

    instrument = models.CharField(
        _("问卷"),
        max_length=10,
        choices=[(code, instrument.name) for code, instrument in INSTRUMENTS.items()],
    )
    band = models.CharField(
        _("结果"),
        max_length=20,
        choices=[(code.value, BAND_LABELS[code]) for code in BandCode]
        + [(CRISIS, _("第 9 题提示自伤念头,已转紧急求助页"))],
    )
    month = models.DateField(_("月份"), help_text=_("该月 1 日,按北京时间计月。"))
    count = models.PositiveIntegerField(_("次数"), default=0)

    objects = SelfCheckCountQuerySet.as_manager()

    class Meta:
        verbose_name = _("心理自评统计")
        verbose_name_plural = _("心理自评统计")
        ordering = ["-month", "instrument", "band"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "instrument", "band"], name="selfcheck_count_one_row_per_month"
            ),
            models.CheckConstraint(
                condition=models.Q(instrument__in=list(INSTRUMENTS)),
                name="selfcheck_count_known_instrument",
            ),
            models.CheckConstraint(
                condition=models.Q(band__in=[code.value for code in BandCode] + [CRISIS]),
                name="selfcheck_count_known_band",
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.instrument} {self.band}: {self.count}"

    @staticmethod
    def month_of(when):
        """The first day of ``when``'s month on the Shanghai clock."""
        return timezone.localtime(when, LOCAL_TZ).date().replace(day=1)

    @classmethod
    def record(cls, instrument, band, when=None):
        """Count one self-check of ``instrument`` ending in ``band`` (or routed
        to the crisis page, ``band=SelfCheckCount.CRISIS``) in the month of
        ``when`` (now). Safe when many count at once: the increment happens in
        the database, and of two requests opening a month's row one creates it,
        the other finds it made (the unique constraint) and increments it. On
        SQLite the transaction takes the write lock first, which serialises them."""
        month = cls.month_of(when or timezone.now())
        counted = cls.objects.filter(month=month, instrument=instrument, band=band)
        with transaction.atomic():
            if counted.update(count=models.F("count") + 1):
                return
            try:
                with transaction.atomic():
                    cls.objects.create(month=month, instrument=instrument, band=band, count=1)
            except IntegrityError:  # another request opened the row meanwhile
                counted.update(count=models.F("count") + 1)

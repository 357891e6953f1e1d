"""Residents' requests for the benchmarks, each with the trail handling.py
would have written for it, added in bulk.

Each request is lived step by step in memory (``Life``): received at a 社区 or
a 管区, sent down to a grid, taken on (签收), sometimes passed up, answered
(through the supervisor's approval where its category asks for it), rated or
closed unrated after a week, a second round after a first 不满意; some
rejected or merged. Answers mostly go out within the due dates, some at the
last minute and some days late. A request's life stops at its first step
after now, so the newest ones are still waiting, being handled or waiting for
a rating, as real ones would be; about one in fifty stalls and is left
overdue. Due dates are counted in working days on the statutory calendar, as
handling.receive counts them, and a reopened request's from the day of its
rating, as handling.rate does. The request's fields (state, unit, round,
responded_at, replied_at, rating, rated_at, closed_at, next_due_on,
duplicate_of) are what its trail leaves. A tenth of the closed requests whose residents consented are
published on 回应公开 by the supervisor, with the trail line that goes with it.

Requests, trail lines and published answers are written with bulk_create:
the personal fields and the trail's texts go through their model fields and
are encrypted as real ones are. No messages to residents and no photos.
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from demo import content, organisation
from portal.core.privacy import mobile_digest
from portal.core.references import reference_display
from portal.core.workdays import StatutoryCalendar
from portal.service_requests.handling import RATING_WINDOW
from portal.service_requests.models import (
    Category,
    PublishedAnswer,
    RequestEvent,
    ServiceRequest,
    StaffPost,
    Unit,
)

State = ServiceRequest.State
Kind = RequestEvent.Kind
Rating = ServiceRequest.Rating

PREFIX = "bench-"  # the submission hash of every request added here
BATCH = 2000
HISTORY = datetime.timedelta(days=426)  # fourteen months
RESIDENTS = 30_000  # distinct mobiles: many residents report more than once
CONSENT_SHARE = 2 / 3
PUBLISHED_SHARE = 0.1
# At each point a life may stall (before the first response, before each
# answer): about one in fifty in all.
STALL_SHARE = 0.01
ONE_MINUTE = datetime.timedelta(minutes=1)
GOLDEN_RATIO = 0.6180339887
AUTO_CLOSED = "居民在 7 天内没有评价,自动办结。"
RETURNED = "请写明整改时限和回访安排。"


def seed_organisation():
    """The demo organisation (units and their staff) and the categories, for a
    benchmark that does not seed the whole demo site."""
    organisation.seed()
    for order, category in enumerate(content("service_requests")["categories"]):
        fields = {key: value for key, value in category.items() if key != "code"}
        Category.objects.update_or_create(
            code=category["code"], defaults={**fields, "sort_order": order}
        )


def add_requests(count, now=None):
    """Add requests up to `count` (counting those an earlier run added), the
    oldest received fourteen months before `now`. Returns how many it added."""
    now = now or timezone.now()
    existing = ServiceRequest.objects.filter(submission_hash__startswith=PREFIX).count()
    if existing >= count:
        return 0
    world = World(now)
    references = free_references()
    start = now - HISTORY
    for first in range(existing, count, BATCH):
        lives = []
        for number in range(first, min(first + BATCH, count)):
            # Evenly spread, each a fraction of its share of the time later.
            spread = (number + (number * GOLDEN_RATIO) % 1) / count
            received_at = start + HISTORY * spread
            life = Life(world, number, received_at, next(references)).live()
            if life.state != State.MERGED:
                world.earlier[life.place.pk] = life.reference
            lives.append(life)
        write(lives, world)
    return count - existing


class World:
    """What every life draws on: the organisation, who works where, the
    categories, the calendar, the demo's texts and the requests a new one
    may be merged into."""

    def __init__(self, now):
        self.now = now
        units = list(Unit.objects.order_by("path"))
        by_path = {unit.path: unit for unit in units}
        self.parent = {unit.pk: by_path.get(unit.path[: -Unit.steplen]) for unit in units}
        self.children = {unit.pk: [] for unit in units}
        for unit in units:
            if self.parent[unit.pk] is not None:
                self.children[self.parent[unit.pk].pk].append(unit)
        self.staff = {post.unit_id: post.user for post in StaffPost.objects.select_related("user")}
        self.supervisor = self.staff[units[0].pk]
        communities = [unit for unit in units if unit.depth == Unit.Level.COMMUNITY]
        districts = [unit for unit in units if unit.depth == Unit.Level.DISTRICT]
        # Most residents know their 社区; some only their 管区.
        self.places = communities * 9 + districts * 2
        self.categories = list(Category.objects.all())
        self.calendar = WorkingCalendar(
            timezone.localdate(now - HISTORY), timezone.localdate(now) + datetime.timedelta(120)
        )
        self.texts = content("service_requests")
        self.digests = {}
        # The latest request at each place that was not merged, by reference,
        # and the ids of those already written.
        self.earlier, self.pks = {}, {}
        kept = ServiceRequest.objects.filter(submission_hash__startswith=PREFIX).exclude(
            state=State.MERGED
        )
        for place_id, pk, reference in kept.order_by("received_at").values_list(
            "place_id", "pk", "reference"
        ):
            self.earlier[place_id] = reference
            self.pks[reference] = pk

    def mobile_hash(self, mobile):
        if mobile not in self.digests:
            self.digests[mobile] = mobile_digest(mobile)
        return self.digests[mobile]


class WorkingCalendar:
    """Working days on the statutory calendar, read once for the whole history."""

    def __init__(self, first, last):
        calendar = StatutoryCalendar(first, last)
        self.last = last
        self.working = {
            first + datetime.timedelta(days)
            for days in range((last - first).days + 1)
            if calendar.is_working_day(first + datetime.timedelta(days))
        }

    def after(self, day, count):
        """The day `count` working days after `day` (handling's add_working_days)."""
        while count:
            day += datetime.timedelta(days=1)
            if day > self.last:
                raise ValueError(f"{day} is past the benchmark's calendar")
            count -= day in self.working
        return day


class HistoryEnds(Exception):
    """The request's next step would come after now, or it stalls here."""


class Life:
    """One request lived step by step: the trail lines handling.py would write
    for it and its fields as they stand at the end."""

    def __init__(self, world, number, received_at, reference):
        self.world = world
        self.number = number
        self.reference = reference
        self.rng = rng = random.Random(number)
        self.category = rng.choice(world.categories)
        self.place = self.unit = rng.choice(world.places)
        self.received_at = self.clock = received_at
        received_on = timezone.localdate(received_at)
        self.response_due_on = world.calendar.after(received_on, self.category.response_days)
        self.resolution_due_on = world.calendar.after(received_on, self.category.resolution_days)
        self.consented = rng.random() < CONSENT_SHARE
        self.state = ""
        self.round = 1
        self.responded_at = self.replied_at = self.rated_at = self.closed_at = None
        self.reply = self.rating = self.rating_comment = self.rejection_reason = ""
        self.original = None  # the reference of the request this one was merged into
        self.published = None  # (summary, reply, at)
        self.lines = []

    def live(self):
        try:
            self.step(Kind.RECEIVED, self.received_at, State.RECEIVED, actor=None)
            self.first_round()
            self.publish()
        except HistoryEnds:
            pass
        return self

    def step(self, kind, at, to_state="", *, actor, to_unit=None, text=""):
        """One trail line as handling._change writes it: the states only when
        the state changes, the unit that handled the request before the step."""
        if at > self.world.now:
            raise HistoryEnds
        changed = bool(to_state) and to_state != self.state
        self.lines.append(
            RequestEvent(
                kind=kind,
                from_state=self.state if changed else "",
                to_state=to_state if changed else "",
                unit=self.unit,
                to_unit=to_unit,
                actor=actor,
                actor_name=actor.get_username() if actor else "",
                text=text,
                at=at,
            )
        )
        self.state = to_state or self.state
        self.unit = to_unit or self.unit
        self.clock = at

    # When things happen.

    def soon(self, hours):
        return self.clock + datetime.timedelta(minutes=self.rng.randint(5, hours * 60))

    def against(self, due):
        """When the next answer goes out: mostly in good time, sometimes in the
        evening of its due date, sometimes days late."""
        roll = self.rng.random()
        if roll < 0.08:
            at = local(due, 20 + self.rng.randint(0, 3), self.rng.randint(0, 59))
        elif roll < 0.18:
            late = due + datetime.timedelta(days=self.rng.randint(1, 8))
            at = local(late, self.rng.randint(8, 19), self.rng.randint(0, 59))
        else:
            room = (local(due, 18) - self.clock).total_seconds()
            at = self.clock + datetime.timedelta(seconds=self.rng.uniform(300, max(room, 300)))
        return max(at, self.clock + ONE_MINUTE)

    def stall(self):
        if self.rng.random() < STALL_SHARE:
            raise HistoryEnds

    # Who acts.

    def staff(self):
        return self.world.staff[self.unit.pk]

    def handler(self):
        """Whoever may reject or merge: grid workers may not, their 社区's handler may."""
        unit = self.unit
        if unit.depth == Unit.Level.GRID:
            unit = self.world.parent[unit.pk]
        return self.world.staff[unit.pk]

    # What happens.

    def first_round(self):
        world, rng = self.world, self.rng
        if self.unit.depth == Unit.Level.DISTRICT:
            community = rng.choice(world.children[self.unit.pk])
            self.step(
                Kind.ASSIGNED, self.soon(4), State.ASSIGNED, actor=self.staff(), to_unit=community
            )
        roll = rng.random()
        if roll < 0.04 and self.place.pk in world.earlier:
            return self.merge()
        if roll < 0.09:
            return self.reject(self.against(self.response_due_on))
        if rng.random() < 0.75:
            grid = rng.choice(world.children[self.unit.pk])
            self.step(Kind.ASSIGNED, self.soon(3), State.ASSIGNED, actor=self.staff(), to_unit=grid)
        self.stall()
        self.accept(self.against(self.response_due_on))
        self.handle()

    def accept(self, at):
        self.step(Kind.ACCEPTED, at, State.IN_PROGRESS, actor=self.staff())
        self.responded_at = self.responded_at or at

    def reject(self, at):
        reason = self.world.texts["replies"]["rejected"]
        self.step(Kind.REJECTED, at, State.REJECTED, actor=self.handler(), text=reason)
        self.rejection_reason = reason
        self.responded_at = self.responded_at or at
        self.closed_at = at

    def merge(self):
        original = self.world.earlier[self.place.pk]
        at = self.soon(24)
        text = f"与诉求 {reference_display(original)} 合并办理。"
        self.step(Kind.MERGED, at, State.MERGED, actor=self.handler(), text=text)
        self.original = original
        self.closed_at = at

    def handle(self):
        """From 签收 to the answer and the resident's rating."""
        rng, texts = self.rng, self.world.texts["replies"]
        if rng.random() < 0.05:
            self.step(Kind.NOTE, self.soon(24), actor=self.staff(), text=texts["accepted"])
        above = self.world.parent[self.unit.pk]
        if above.depth > Unit.Level.SUBDISTRICT and rng.random() < 0.08:
            self.step(
                Kind.ESCALATED,
                self.soon(24),
                State.ESCALATED,
                actor=self.staff(),
                to_unit=above,
                text=texts["escalate"],
            )
            self.accept(self.soon(8))
        if rng.random() < 0.02:
            return self.reject(self.against(self.resolution_due_on))
        self.stall()
        self.answer(self.against(self.resolution_due_on))
        self.resident_answers()

    def answer(self, at):
        reply = self.world.texts["replies"][UNIT_REPLIES[self.unit.depth]]
        if self.category.reply_needs_approval:
            supervisor = self.world.supervisor
            submitted = self.clock + (at - self.clock) / 2
            self.submit(submitted, reply)
            if self.rng.random() < 0.15:
                self.step(
                    Kind.REPLY_RETURNED,
                    self.soon(4),
                    State.IN_PROGRESS,
                    actor=supervisor,
                    text=RETURNED,
                )
                self.submit(self.soon(8), reply)
            at = max(at, self.soon(6))
            self.step(Kind.REPLIED, at, State.REPLIED, actor=supervisor)
        else:
            self.step(Kind.REPLIED, at, State.REPLIED, actor=self.staff(), text=reply)
            self.reply = reply
        self.replied_at = at

    def submit(self, at, reply):
        """A reply waiting for the supervisor's approval."""
        self.step(Kind.REPLY_SUBMITTED, at, State.AWAITING_APPROVAL, actor=self.staff(), text=reply)
        self.reply = reply

    def resident_answers(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:  # not rated within a week: handling.close_unrated
            at = self.replied_at + RATING_WINDOW + datetime.timedelta(hours=rng.randint(1, 20))
            self.step(Kind.CLOSED, at, State.CLOSED, actor=None, text=AUTO_CLOSED)
            self.closed_at = at
            return
        rating = (
            Rating.SATISFIED
            if roll < 0.7
            else Rating.BASICALLY_SATISFIED
            if roll < 0.85
            else Rating.DISSATISFIED
        )
        self.rate(rating, self.clock + datetime.timedelta(minutes=rng.randint(30, 6 * 24 * 60)))

    def rate(self, rating, at):
        comment = (
            self.world.texts["replies"]["dissatisfied"] if rating == Rating.DISSATISFIED else ""
        )
        label = Rating(rating).label
        text = f"{label}:{comment}" if comment else str(label)
        reopens = rating == Rating.DISSATISFIED and self.round < ServiceRequest.ROUNDS
        self.step(
            Kind.RATED, at, State.REOPENED if reopens else State.CLOSED, actor=None, text=text
        )
        self.rating, self.rating_comment, self.rated_at = rating, comment, at
        if not reopens:
            self.closed_at = at
            return
        self.round += 1
        self.replied_at = None
        self.resolution_due_on = self.world.calendar.after(
            timezone.localdate(at), self.category.resolution_days
        )
        self.accept(self.soon(30))
        self.handle()

    def publish(self):
        """A tenth of the closed requests whose residents consented go on 回应公开."""
        if not (self.state == State.CLOSED and self.consented):
            return
        if self.rng.random() >= PUBLISHED_SHARE:
            return
        at = self.soon(72)
        self.step(Kind.PUBLISHED, at, actor=self.world.supervisor)
        summary = self.world.texts["summaries"][self.category.code]
        self.published = (summary, self.reply, at)

    def request(self):
        """The request as its trail leaves it (but for the request it was
        merged into, which may not be written yet)."""
        rng, texts = self.rng, self.world.texts
        mobile = f"139{(self.number * 7919) % RESIDENTS:08d}"
        request = ServiceRequest(
            reference=self.reference,
            category=self.category,
            place=self.place,
            unit=self.unit,
            state=self.state,
            round=self.round,
            description=rng.choice(texts["reports"][self.category.code]),
            address=rng.choice(texts["addresses"]),
            name=rng.choice(texts["residents"]),
            mobile=mobile,
            email=f"resident{self.number}@example.com" if rng.random() < 0.1 else "",
            publish_consent_at=self.received_at if self.consented else None,
            submission_hash=f"{PREFIX}{self.number}",
            received_at=self.received_at,
            response_due_on=self.response_due_on,
            resolution_due_on=self.resolution_due_on,
            responded_at=self.responded_at,
            reply=self.reply,
            replied_at=self.replied_at,
            rejection_reason=self.rejection_reason,
            rating=self.rating,
            rating_comment=self.rating_comment,
            rated_at=self.rated_at,
            closed_at=self.closed_at,
        )
        # What save() keeps, which bulk_create does not call.
        request.mobile_hash = self.world.mobile_hash(mobile)
        request.next_due_on = request.next_due()
        return request


# Who writes the reply, by the level of the unit that answers.
UNIT_REPLIES = {
    Unit.Level.GRID: "grid",
    Unit.Level.COMMUNITY: "community",
    Unit.Level.DISTRICT: "district",
}


def write(lives, world):
    """One batch: the requests, whom the merged ones were merged into, their
    trails and the published answers."""
    with transaction.atomic():
        requests = ServiceRequest.objects.bulk_create([life.request() for life in lives])
        world.pks.update((request.reference, request.pk) for request in requests)
        merged = []
        lines, answers = [], []
        for life, request in zip(lives, requests, strict=True):
            if life.original:
                request.duplicate_of_id = world.pks[life.original]
                merged.append(request)
            for line in life.lines:
                line.request_id = request.pk
            lines += life.lines
            if life.published:
                summary, reply, at = life.published
                answers.append(
                    PublishedAnswer(
                        request_id=request.pk,
                        summary=summary,
                        reply=reply,
                        published_at=at,
                        published_by=world.supervisor,
                    )
                )
        ServiceRequest.objects.bulk_update(merged, ["duplicate_of"], batch_size=BATCH)
        RequestEvent.objects.bulk_create(lines, batch_size=BATCH)
        PublishedAnswer.objects.bulk_create(answers, batch_size=BATCH)


def free_references():
    """Eight-digit references no request carries yet, in order."""
    taken = set(ServiceRequest.objects.values_list("reference", flat=True))
    number = 10_000_000
    while True:
        reference = str(number)
        if reference not in taken:
            yield reference
        number += 1


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))

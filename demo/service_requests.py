"""The residents' requests demo: the categories residents choose from, with
their answer and resolution times in working days, and about sixty requests
of the last six weeks in every state, each taken through handling.py step by
step by the demo's staff accounts (demo.organisation), so each has the trail
it would have in real life."""

import datetime
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from demo import assets, content
from portal.service_requests import handling
from portal.service_requests.models import (
    AnswersPage,
    Category,
    ReportPage,
    RequestMessage,
    ServiceRequest,
    StaffPost,
    Unit,
)

REQUESTS = 60
Rating = ServiceRequest.Rating


def seed(home):
    data = content("service_requests")
    seed_page(home, data["page"], ReportPage)
    seed_page(home, data["answers_page"], AnswersPage)
    for order, category in enumerate(data["categories"]):
        fields = {key: value for key, value in category.items() if key != "code"}
        Category.objects.update_or_create(
            code=category["code"], defaults={**fields, "sort_order": order}
        )
    if not ServiceRequest.objects.exists():
        seed_requests(data)


def seed_page(home, data, page_type):
    """我要反映 or 回应公开, once, directly under the home page (so the footer
    links to it)."""
    if page_type.objects.exists():
        return
    page = page_type(
        title=data["title"],
        slug=data["slug"],
        intro=data["intro"],
        body=assets.body(data["body"]),
        search_description=data["intro"],
    )
    home.add_child(instance=page)


def seed_requests(data, now=None):
    now = now or timezone.now()
    rng = random.Random(2026)
    categories = list(Category.objects.order_by("sort_order"))
    communities = list(Unit.objects.filter(depth=3).order_by("path"))
    supervisor = staff_at(Unit.get_root_nodes().first())
    requests = []
    needs_approval = [category for category in categories if category.reply_needs_approval]
    for number in range(REQUESTS):
        story = story_for(number)
        category = categories[number % len(categories)]
        if story is awaiting_approval:
            category = needs_approval[number % len(needs_approval)]
        community = communities[number % len(communities)]
        # Spread over six weeks, the newest a few hours old.
        received = now - datetime.timedelta(hours=3 + number * 17 + rng.randrange(0, 10))
        request, _created = handling.receive(
            category=category,
            place=community,
            description=rng.choice(data["reports"][category.code]),
            address=rng.choice(data["addresses"]),
            mobile=f"1390000{number:04d}",
            name=rng.choice(data["residents"]),
            publish_consent=number % 3 != 0,
            now=received,
        )
        story(request, Steps(request, received, community, supervisor, data["replies"]), requests)
        requests.append(request)
    # The demo's residents are made up: their receipts and replies count as
    # sent, not texted to the console one by one.
    RequestMessage.objects.filter(request__in=requests).update(
        state=RequestMessage.State.SENT, sent_at=now
    )
    publish_answers(requests, supervisor, data["summaries"], now)


def publish_answers(requests, supervisor, summaries, now):
    """回应公开: the supervisor publishes the closed requests whose residents
    agreed, in the words kept for each category."""
    for request in requests:
        request.refresh_from_db()
        if handling.may_publish(request):
            handling.publish(
                request,
                supervisor,
                summaries[request.category.code],
                request.reply,
                now=min(request.closed_at + datetime.timedelta(hours=20), now),
            )


def staff_at(unit):
    return get_user_model().objects.get(staff_post__in=StaffPost.objects.filter(unit=unit))


class Steps:
    """Moves one demo request on, a few hours per step, as the people of its
    community, its first grid and its 管区 would."""

    def __init__(self, request, received, community, supervisor, replies):
        self.request = request
        self.at = received
        self.community = community
        self.grid = community.get_children().first()
        self.supervisor = supervisor
        self.replies = replies

    def later(self, hours=5):
        self.at += datetime.timedelta(hours=hours)
        return min(self.at, timezone.now())

    def community_staff(self):
        return staff_at(self.community)

    def to_grid(self):
        self.request = handling.assign(
            self.request, self.community_staff(), self.grid, now=self.later(2)
        )
        return self

    def grid_accepts(self):
        self.request = handling.accept(self.request, staff_at(self.grid), now=self.later())
        return self

    def answer(self, user, text):
        self.request = handling.reply(self.request, user, text, now=self.later(20))
        return self

    def approve(self):
        if self.request.state == ServiceRequest.State.AWAITING_APPROVAL:
            self.request = handling.approve_reply(self.request, self.supervisor, now=self.later(3))
        return self

    def grid_answers(self):
        return self.grid_accepts().answer(staff_at(self.grid), self.replies["grid"]).approve()

    def rate(self, rating, comment=""):
        self.request = handling.rate(self.request, rating, comment, now=self.later(30))
        return self


def waiting(request, steps, earlier):
    """Just arrived: nobody has taken it on yet."""


def sent_to_grid(request, steps, earlier):
    steps.to_grid()


def awaiting_approval(request, steps, earlier):
    """Answered by the grid; where the category asks for it, the reply waits
    for the supervisor."""
    steps.to_grid().grid_accepts().answer(staff_at(steps.grid), steps.replies["grid"])


def being_handled(request, steps, earlier):
    steps.to_grid().grid_accepts()
    handling.add_note(
        steps.request, staff_at(steps.grid), steps.replies["accepted"], now=steps.later(1)
    )


def passed_up(request, steps, earlier):
    steps.to_grid().grid_accepts()
    handling.escalate(
        steps.request, staff_at(steps.grid), steps.replies["escalate"], now=steps.later(24)
    )


def answered(request, steps, earlier):
    steps.to_grid().grid_answers()


def settled(request, steps, earlier):
    steps.to_grid().grid_answers().rate(Rating.SATISFIED)


def mostly_settled(request, steps, earlier):
    steps.to_grid().grid_answers().rate(Rating.BASICALLY_SATISFIED, "处理及时,希望多回访。")


def reopened(request, steps, earlier):
    steps.to_grid().grid_answers().rate(Rating.DISSATISFIED, steps.replies["dissatisfied"])


def settled_by_community_second_time(request, steps, earlier):
    steps.to_grid().grid_answers().rate(Rating.DISSATISFIED, steps.replies["dissatisfied"])
    steps.request = handling.escalate(
        steps.request, staff_at(steps.grid), steps.replies["escalate"], now=steps.later(6)
    )
    community = steps.community_staff()
    steps.request = handling.accept(steps.request, community, now=steps.later(2))
    steps.answer(community, steps.replies["community"]).approve().rate(Rating.SATISFIED)


def out_of_scope(request, steps, earlier):
    handling.reject(
        steps.request, steps.community_staff(), steps.replies["rejected"], now=steps.later(3)
    )


def duplicate(request, steps, earlier):
    same_place = [
        other
        for other in earlier
        if other.place_id == request.place_id and other.state not in ServiceRequest.FINAL_STATES
    ]
    if same_place:
        handling.merge(request, steps.community_staff(), same_place[-1], now=steps.later(2))
    else:
        steps.to_grid()


# The newest requests are still being handled; older ones are mostly closed,
# with one in ten left stuck so the queue has overdue requests to show.
RECENT_STORIES = [
    waiting,
    sent_to_grid,
    being_handled,
    awaiting_approval,
    answered,
    passed_up,
    reopened,
    duplicate,
    waiting,
]
RECENT = 18
OLDER_STORIES = [
    settled,
    mostly_settled,
    settled,
    out_of_scope,
    settled_by_community_second_time,
    settled,
    answered,
    mostly_settled,
    duplicate,
    passed_up,
]


def story_for(number):
    if number < RECENT:
        return RECENT_STORIES[number % len(RECENT_STORIES)]
    return OLDER_STORIES[number % len(OLDER_STORIES)]

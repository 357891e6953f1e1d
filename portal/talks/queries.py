"""What the talks section reads: the talk listing with its topics, cards, the
talks a logged-in grid worker may watch and what a talk page shows, each in a
fixed number of queries whatever the number of talks."""

from django.db.models import Q
from taggit.models import Tag
from wagtail.models import PageViewRestriction

from portal.core.cards import Cards
from portal.core.lookups import cached, image_with_renditions, page_ids
from portal.core.utils import find_filter

from .models import TalkPage

TALK_ORDER = ("-recorded_on", "-first_published_at", "-pk")


def for_talk_cards(queryset):
    """What a talk card shows: poster renditions, speaker and tags in a fixed
    number of queries."""
    return (
        queryset.select_related("poster", "speaker", "media")
        .prefetch_related("poster__renditions", "tags")
        .order_by(*TALK_ORDER)
    )


def public_talks():
    """Live talks anyone may watch, newest recording first, ready for a card."""
    return for_talk_cards(TalkPage.objects.live().public())


def featured_talks(limit=3):
    """The featured (精选) talks shown on the home page."""
    return list(public_talks().filter(featured=True)[:limit])


def talk_cards(request, ids):
    """The talk cards (templates/includes/talk_card.html) for ``ids``, in order,
    rendered once per content generation."""
    return Cards(
        request,
        "includes/talk_card.html",
        "talk",
        ids,
        lambda missing: for_talk_cards(TalkPage.objects.filter(pk__in=missing)),
    )


def staff_talk_ids(user, index):
    """The ids of the staff talks under ``index`` that ``user`` may watch;
    nothing is asked for a visitor."""
    if not user.is_authenticated:
        return []
    return list(staff_talks_for(user).child_of(index).values_list("pk", flat=True))


def staff_talks_for(user):
    """Talks restricted to staff groups that this user belongs to (all of them for
    a superuser): grid workers find their talks on the index once logged in."""
    if not user.is_authenticated:
        return TalkPage.objects.none()
    restrictions = PageViewRestriction.objects.filter(restriction_type=PageViewRestriction.GROUPS)
    if not user.is_superuser:
        restrictions = restrictions.filter(groups__in=user.groups.all())
    paths = list(restrictions.values_list("page__path", flat=True).distinct())
    if not paths:
        return TalkPage.objects.none()
    within = Q()
    for page_path in paths:
        within |= Q(path__startswith=page_path)
    return TalkPage.objects.live().filter(within).order_by(*TALK_ORDER)


def visible_talks(index):
    """Live talks under ``index`` that anyone may watch."""
    return TalkPage.objects.live().public().child_of(index)


def topics(index):
    """The topics of the public talks under ``index``, by name. They change only
    when talks are published: kept per content generation."""
    return cached(
        "talk-topics",
        lambda: list(
            Tag.objects.filter(
                talks_talkpagetag_items__content_object__in=visible_talks(index).values("pk")
            )
            .distinct()
            .order_by("name")
        ),
        index.pk,
    )


def topic_with_slug(slug):
    """The tag a listing's ?tag= filter names, or None."""
    return find_filter(Tag.objects, slug=slug)


def listing_ids(index, tag=None):
    """Every id of a listing of ``index`` (of one topic, if ``tag``), kept per
    content generation: a page is a slice, and a kept listing builds no query."""

    def ids():
        talks = visible_talks(index)
        if tag is not None:
            talks = talks.filter(tags=tag)
        return page_ids(talks.order_by(*TALK_ORDER).values_list("pk", flat=True))

    return cached("talk-ids", ids, index.pk, tag.slug if tag else None)


def public_talks_using(field_name, item, other_than):
    """Whether a public talk other than ``other_than`` shows ``item`` as its
    ``field_name`` (media, captions or poster)."""
    return (
        TalkPage.objects.filter(audience=TalkPage.Audience.RESIDENTS, **{field_name: item})
        .exclude(pk=other_than.pk)
        .exists()
    )


def with_shown_relations(talk, preview=False):
    """The talk with what its template shows loaded in one joined query instead
    of one per relation, kept per content generation outside previews. The
    poster and the speaker's photo come with their renditions from the kept
    images (portal.core.lookups), which are dropped when a rendition is made."""
    if preview:
        shown = _with_shown_relations(talk)
    else:
        shown = cached("talk-relations", lambda: _with_shown_relations(talk), talk.pk)
    if shown is not None:
        shown.poster = image_with_renditions(shown.poster_id)
        if shown.speaker is not None:
            shown.speaker.photo = image_with_renditions(shown.speaker.photo_id)
    return shown


def _with_shown_relations(talk):
    return (
        TalkPage.objects.filter(pk=talk.pk).select_related("media", "captions", "speaker").first()
    )

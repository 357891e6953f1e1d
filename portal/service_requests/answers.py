"""回应公开, the public side of residents' requests: the answers supervisors
published with the residents' consent (PublishedAnswer), filtered by category,
管区 and month, one at a time, as an RSS feed, and the monthly figures with
their charts (figures.py, charts.py).

Nothing here reads what a resident wrote or who they are: a listing shows the
category, the 社区 or 管区, the dates and the two texts a supervisor checked."""

from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.core import pagecache

from . import charts, figures
from .models import AnswersPage, Category, PublishedAnswer, Unit

ANSWERS_PER_PAGE = 20
REINDEX_BATCH = 500
FEED_ITEMS = 20
# The months a visitor may pick: two years back is as far as the figures go.
MONTHS_OFFERED = 24
# Figures change as requests are handled, not as pages are published: they
# are computed anew when this much older, and the page says when they were.
FIGURES_SECONDS = 600
FIGURES_KEPT_SECONDS = 24 * 60 * 60
FIGURES_KEY = "requests:figures"
FIGURES_LOCK = "requests:figures:computing"


class Answer:
    """One published answer as a page shows it."""

    def __init__(self, published, place_name, district_name):
        request = published.request
        self.pk = published.pk
        self.summary = published.summary
        self.reply = published.reply
        self.category = request.category
        self.place_name = place_name
        self.district_name = district_name
        self.received_at = _local(request.received_at)
        self.replied_at = _local(request.replied_at)
        self.closed_at = _local(request.closed_at)
        self.published_at = published.published_at


def _local(moment):
    """Local time to the second: what a page shows and `<time datetime>` takes."""
    return timezone.localtime(moment).replace(microsecond=0) if moment else None


def _answers(rows):
    if not rows:
        return []
    directory = Unit.directory()
    names = {pk: name for pk, (_path, name) in directory.items()}
    by_path = {path: name for _pk, (path, name) in directory.items()}
    return [
        Answer(
            row,
            names[row.request.place_id],
            by_path.get(Unit.district_path(directory[row.request.place_id][0]), ""),
        )
        for row in rows
    ]


def published_on_page(request):
    """(the published answer, its public address) for a request on 回应公开,
    or None: for the request's admin page."""
    try:
        answer = request.published_answer
    except PublishedAnswer.DoesNotExist:
        return None
    page = live_page()
    return answer, page.answer_url(answer) if page and page.get_url() else None


def published():
    return (
        PublishedAnswer.objects.select_related("request__category")
        .only(
            "summary",
            "reply",
            "published_at",
            "request__category__name",
            "request__category__code",
            "request__place",
            "request__state",
            "request__received_at",
            "request__replied_at",
            "request__closed_at",
        )
        .order_by("-published_at", "-pk")
    )


def live_page():
    return AnswersPage.objects.live().public().first()


def matching_ids(terms, limit):
    """The ids of the newest published answers holding every term (segmented
    like the index), at most `limit` + 1: the extra one tells whether there
    were more."""
    from wagtail.search.backends import get_search_backend

    found = get_search_backend().search(
        terms,
        PublishedAnswer.objects.order_by("-published_at", "-id"),
        operator="and",
        order_by_relevance=False,
    )
    return list(found[: limit + 1].get_queryset().values_list("pk", flat=True))


def in_order(ids):
    """The answers for `ids`, in that order; one taken down since is left out."""
    shown = published().in_bulk(ids)
    return _answers([shown[pk] for pk in ids if pk in shown])


def months_offered(today):
    return list(reversed(figures.last_months(today, MONTHS_OFFERED)))


def pick(value, known):
    """The thing `value` names among `known`, None for no value; a value that
    names nothing is a 404, so a stale or made-up link is never cached."""
    if not value:  # the form sends the 全部 choices empty
        return None
    if value not in known:
        raise Http404
    return known[value]


class Filters:
    """The listing's filters from the query string: a category code, a 管区 id
    and a month (2026-11). A value that names nothing is a 404, so a stale or
    made-up link is never cached as an empty listing."""

    def __init__(self, query, today):
        self.categories = list(Category.objects.only("name", "code", "description"))
        self.districts = list(
            Unit.objects.filter(depth=Unit.Level.DISTRICT).only("name", "path").order_by("path")
        )
        self.months = months_offered(today)
        self.category = pick(query.get("category"), {c.code: c for c in self.categories})
        self.district = pick(query.get("district"), {str(d.pk): d for d in self.districts})
        self.month = pick(query.get("month"), {f"{m:%Y-%m}": m for m in self.months})

    @property
    def active(self):
        return any((self.category, self.district, self.month))

    def apply(self, queryset):
        if self.category:
            queryset = queryset.filter(request__category=self.category)
        if self.district:
            queryset = queryset.in_district(self.district)
        if self.month:
            queryset = queryset.in_month(self.month)
        return queryset


def listing(request, page):
    filters = Filters(request.GET, timezone.localdate())
    page_obj = Paginator(filters.apply(published()), ANSWERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return TemplateResponse(
        request,
        "service_requests/answers_page.html",
        {
            "page": page,
            "self": page,
            "filters": filters,
            "page_obj": page_obj,
            "answers": _answers(page_obj.object_list),
            "feed_url": page.feed_url(request),
            "figures_url": page.url + page.reverse_subpage("figures"),
        },
    )


def detail(request, page, pk):
    answer = _answers([get_object_or_404(published(), pk=pk)])[0]
    return TemplateResponse(
        request,
        "service_requests/answer_detail.html",
        {
            "page": page,
            "self": page,
            "answer": answer,
            "page_title": _("%(category)s:%(place)s")
            % {"category": answer.category.name, "place": answer.place_name},
        },
    )


class AnswersFeed(Feed):
    """The newest published answers, for residents and reporters who follow them."""

    def __init__(self, page):
        super().__init__()
        self.page = page
        self.request = None

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def title(self):
        return _("金家岭街道 %(section)s") % {"section": self.page.title}

    def description(self):
        return self.page.intro or _("金家岭街道公开的居民诉求答复。")

    def link(self):
        return self.page.get_full_url(self.request)

    def items(self):
        return _answers(published()[:FEED_ITEMS])

    def item_title(self, item):
        return _("%(category)s:%(place)s") % {
            "category": item.category.name,
            "place": item.place_name,
        }

    def item_description(self, item):
        return f"{item.summary}\n\n{item.reply}" if item.summary else item.reply

    def item_link(self, item):
        return self.request.build_absolute_uri(self.page.answer_url(item, self.request))

    def item_pubdate(self, item):
        return item.published_at

    def item_categories(self, item):
        return (
            [item.category.name, item.district_name] if item.district_name else [item.category.name]
        )


def current_report(today):
    """The figures up to today and when they were computed: the kept ones while
    younger than FIGURES_SECONDS. One process at a time computes them anew
    (the lock is a cache key only one `add` wins); the others go on serving
    the kept ones meanwhile, so expiry never sends every visitor through a
    year of trails at once. With no cache at all they are computed each time."""
    cache = pagecache.page_cache()
    now = timezone.now()
    kept = cache.get(FIGURES_KEY)
    if kept is not None and kept[2] == today:
        report, computed_at, _day = kept
        fresh = (now - computed_at).total_seconds() < FIGURES_SECONDS
        if fresh or not cache.add(FIGURES_LOCK, True, FIGURES_SECONDS):
            return report, timezone.localtime(computed_at)
    report = figures.report(today)
    cache.set(FIGURES_KEY, (report, now, today), FIGURES_KEPT_SECONDS)
    cache.delete(FIGURES_LOCK)
    return report, timezone.localtime(now)


class FiguresGroup:
    """Whose figures the charts show: the whole 街道, or one 管区 (?district=)
    or one category (?category=) picked from the tables. A value that names
    nothing is a 404."""

    def __init__(self, query):
        self.categories = list(Category.objects.only("name", "code"))
        self.districts = list(
            Unit.objects.filter(depth=Unit.Level.DISTRICT).only("name", "path").order_by("path")
        )
        self.category = pick(query.get("category"), {c.code: c for c in self.categories})
        self.district = pick(query.get("district"), {str(d.pk): d for d in self.districts})
        if self.category and self.district:
            raise Http404

    @property
    def chosen(self):
        return self.category or self.district

    def tallies(self, report):
        if self.category:
            return report.categories[self.category.pk]
        if self.district:
            return report.districts[self.district.pk]
        return report.whole

    @property
    def name(self):
        return self.chosen.name if self.chosen else _("全街道")


def figures_context(today, group, *, link=None, group_url=None):
    """What the public figures page and the staff dashboard both show: the
    charts and a month-by-month table for `group` (a FiguresGroup), and tables
    of this month and the last by 管区 and by category.
    `link(month, district=None, category=None)` gives each row's link to the
    orders behind it (the dashboard's drill-down) and `group_url(district=None,
    category=None)` the address of a 管区's or category's own charts."""
    report, computed_at = current_report(today)
    link = link or (lambda month, **_kwargs: None)
    group_url = group_url or (lambda **_kwargs: None)
    tallies = group.tallies(report)
    month = report.months[-1]
    previous = report.months[-2] if len(report.months) > 1 else None
    scope = {"district": group.district, "category": group.category}

    def by_district(month):
        return [
            (d.name, report.districts[d.pk][month], link(month, district=d), group_url(district=d))
            for d in group.districts
        ]

    def by_category(month):
        return [
            (c.name, report.categories[c.pk][month], link(month, category=c), group_url(category=c))
            for c in group.categories
        ]

    return {
        "report": report,
        "group": group,
        "computed_at": computed_at,
        "month": month,
        "previous": previous,
        "charts": charts.month_charts(report.months, tallies),
        "whole_url": group_url() if group.chosen else None,
        "month_table": [
            (_month(m), tallies[m], link(m, **scope), None) for m in reversed(report.months)
        ],
        "month_caption": _("%(group)s各月数据(与上面的图对应)") % {"group": group.name},
        "district_table": by_district(month),
        "category_table": by_category(month),
        "previous_district_table": by_district(previous) if previous else [],
        "previous_category_table": by_category(previous) if previous else [],
        "previous_district_caption": _("各管区%(month)s数据") % {"month": _month(previous)},
        "previous_category_caption": _("各类别%(month)s数据") % {"month": _month(previous)},
    }


def _month(month):
    return f"{month.year}年{month.month}月" if month else ""


def figures_url(base, district=None, category=None):
    """The address of the figures of one 管区 or category (or the whole 街道)."""
    if district is not None:
        return f"{base}?district={district.pk}"
    if category is not None:
        return f"{base}?category={category.code}"
    return base


def figures_page(request, page):
    base = page.url + page.reverse_subpage("figures")
    context = figures_context(
        timezone.localdate(),
        FiguresGroup(request.GET),
        group_url=lambda **chosen: figures_url(base, **chosen),
    )
    context.update(page=page, self=page, page_title=_("办理数据"))
    return TemplateResponse(request, "service_requests/answers_figures.html", context)


def reindex_answers(sender, instance, raw=False, **kwargs):
    """After a category or a unit is saved (renamed, or a unit moved), index
    again the answers that show its name, so search finds them by the new
    one. Renames are rare; the answers are re-read in batches."""
    if raw:
        return
    from wagtail.search.backends import get_search_backends

    if isinstance(instance, Category):
        answers = PublishedAnswer.objects.filter(request__category=instance)
    else:
        answers = PublishedAnswer.objects.filter(request__place__path__startswith=instance.path)
    answers = answers.select_related("request__category", "request__place").order_by("pk")
    for start in range(0, answers.count(), REINDEX_BATCH):
        batch = list(answers[start : start + REINDEX_BATCH])
        for backend in get_search_backends():
            backend.add_bulk(PublishedAnswer, batch)

"""心理咨询数据 in the admin: the coordinators' figures (counseling.figures)
for one room or all rooms, the last 12 months as charts with a table beside
them, every room in a chosen month, and the self-check counts by band.

Only coordinators and superusers see it, as they see bookings; others get
403. It shows counts only, never a resident, a mobile or a reference, so
opening it writes nothing to the booking access log (see counseling.figures)."""

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from portal.core.charts import Cell, Row, bar_chart, category_chart, value_text

from .admin_views import BreadcrumbsMixin, CoordinatorOnlyMixin
from .figures import report
from .selfcheck import BAND_LABELS, CRISIS, INSTRUMENTS

# (key, chart title, unit) of each month chart, in the order drawn.
MONTH_CHARTS = (
    ("bookings", gettext_lazy("每月预约数"), gettext_lazy("次")),
    ("attended_rate", gettext_lazy("每月到访率"), "%"),
    ("no_show_rate", gettext_lazy("每月爽约率"), "%"),
    ("late_cancel_rate", gettext_lazy("每月逾期取消率"), "%"),
    ("utilisation", gettext_lazy("每月咨询室利用率"), "%"),
)
COLUMNS = (
    gettext_lazy("预约数"),
    gettext_lazy("首次咨询"),
    gettext_lazy("再次咨询"),
    gettext_lazy("到访率"),
    gettext_lazy("爽约率"),
    gettext_lazy("逾期取消率"),
    gettext_lazy("提前预约天数(中位数)"),
    gettext_lazy("提前预约天数(平均)"),
    gettext_lazy("利用率"),
    gettext_lazy("候补登记"),
    gettext_lazy("候补成功"),
)


def month_label(month):
    return _("%(year)d年%(month)d月") % {"year": month.year, "month": month.month}


def _rate(value, part, whole):
    return Cell(value_text(value, "%"), f"({part}/{whole})" if whole else "")


def cells(tally):
    """A tally's figures in the order of COLUMNS."""
    return [
        Cell(str(tally.bookings)),
        Cell(str(tally.first_visits)),
        Cell(str(tally.follow_ups)),
        _rate(tally.attended_rate, tally.attended, tally.outcomes),
        _rate(tally.no_show_rate, tally.no_show, tally.outcomes),
        _rate(tally.late_cancel_rate, tally.late_cancel, tally.bookings),
        Cell(value_text(tally.lead_days_median, "")),
        Cell(value_text(tally.lead_days_average, "")),
        Cell(
            value_text(tally.utilisation, "%"),
            _("(%(booked)s/%(open)s 小时)")
            % {
                "booked": value_text(tally.booked_hours, ""),
                "open": value_text(tally.open_hours, ""),
            },
        ),
        Cell(str(tally.waitlist_entries)),
        Cell(str(tally.waitlist_served)),
    ]


def pick(value, known):
    """The thing `value` names among `known`, None for no value; a value that
    names nothing is a 404."""
    if not value:
        return None
    if value not in known:
        raise Http404
    return known[value]


def self_check_bands(instrument):
    """(band code, label) for each band of a questionnaire, and the crisis
    routing after them where it has a crisis item."""
    bands = [(band.code.value, BAND_LABELS[band.code]) for band in instrument.bands]
    if instrument.crisis_item is not None:
        bands.append((CRISIS, _("第 %(item)d 题转紧急求助") % {"item": instrument.crisis_item}))
    return bands


def self_check_figures(figures, month):
    """Per questionnaire: a chart of the chosen month's checks by band, and a
    table of every month's (newest first) with the checks in all."""
    shown = []
    for code, instrument in INSTRUMENTS.items():
        bands = self_check_bands(instrument)
        scored = [(band, label) for band, label in bands if band != CRISIS]
        chosen = figures.self_checks.get(month, {}).get(code, {})
        rows = []
        for shown_month in reversed(figures.months):
            counted = figures.self_checks.get(shown_month, {}).get(code, {})
            rows.append(
                Row(
                    month_label(shown_month),
                    [Cell(str(counted.get(band, 0))) for band, _label in bands]
                    + [Cell(str(sum(counted.get(band, 0) for band, _label in scored)))],
                )
            )
        shown.append(
            {
                "code": code,
                "name": instrument.name,
                "chart": category_chart(
                    f"selfcheck-{code}",
                    _("%(name)s各结果次数") % {"name": instrument.name},
                    _("次"),
                    [label for _band, label in scored],
                    [chosen.get(band, 0) for band, _label in scored],
                    month_label(month),
                ),
                "columns": [label for _band, label in bands] + [_("完成自评合计")],
                "rows": rows,
            }
        )
    return shown


class FiguresView(CoordinatorOnlyMixin, BreadcrumbsMixin, WagtailAdminTemplateMixin, TemplateView):
    """心理咨询数据: ?room= (a room's id; all rooms without it) and ?month=
    (2026-11; this month without it), each among those offered, else 404."""

    template_name = "counseling/admin/figures.html"
    page_title = gettext_lazy("心理咨询数据")
    header_icon = "table"

    def get_context_data(self, **kwargs):
        figures = report(timezone.localdate())
        room = pick(self.request.GET.get("room"), {str(room.pk): room for room in figures.rooms})
        month = pick(
            self.request.GET.get("month"), {f"{month:%Y-%m}": month for month in figures.months}
        )
        month = month or figures.months[-1]
        tallies = figures.tallies(room)
        base = reverse("counseling_figures:index")

        def address(room):
            query = {"month": f"{month:%Y-%m}"}
            if room is not None:
                query["room"] = room.pk
            return f"{base}?{urlencode(query)}"

        group = room.name if room else _("全部咨询室")
        return super().get_context_data(
            rooms=figures.rooms,
            room=room,
            month=month,
            month_name=month_label(month),
            group=group,
            months_offered=[(f"{m:%Y-%m}", month_label(m)) for m in reversed(figures.months)],
            charts=[
                bar_chart(
                    key,
                    title,
                    unit,
                    figures.months,
                    [getattr(tallies[m], key) for m in figures.months],
                )
                for key, title, unit in MONTH_CHARTS
            ],
            columns=COLUMNS,
            month_rows=[Row(month_label(m), cells(tallies[m])) for m in reversed(figures.months)],
            month_caption=_("%(group)s各月数据(与上面的图对应)") % {"group": group},
            room_rows=[
                Row(_("全部咨询室"), cells(figures.whole[month]), address(None)),
                *(
                    Row(other.name, cells(figures.by_room[other.pk][month]), address(other))
                    for other in figures.rooms
                ),
            ],
            room_caption=_("各咨询室%(month)s数据") % {"month": month_label(month)},
            self_checks=self_check_figures(figures, month),
            **kwargs,
        )

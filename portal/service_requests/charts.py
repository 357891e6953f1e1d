"""Bar charts of the monthly figures of residents' requests, one per figure,
drawn by portal.core.charts (which holds the drawing, its accessibility and
why it has no script and no inline style)."""

from django.utils.translation import gettext_lazy as _

from portal.core.charts import Bar, Chart, bar_chart

__all__ = ["FIGURES", "Bar", "Chart", "bar_chart", "month_charts"]

FIGURES = (
    ("received", _("每月受理量"), _("件")),
    ("response_rate", _("每月响应率"), "%"),
    ("resolution_rate", _("每月办结率"), "%"),
    ("satisfaction_rate", _("每月满意率"), "%"),
    ("average_working_days", _("每月平均办理用时"), _("个工作日")),
)


def month_charts(months, tallies):
    """One chart per figure over `months`, from the tallies of one group (the
    whole 街道, a 管区 or a category) by month."""
    chosen = [tallies[month] for month in months]
    return [
        bar_chart(key, title, unit, months, [getattr(tally, key) for tally in chosen])
        for key, title, unit in FIGURES
    ]

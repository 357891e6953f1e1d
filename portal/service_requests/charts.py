"""Bar charts of the monthly figures, drawn on the server as SVG.

A chart is an image with a title and a description for screen readers, and
the page puts a table of the same numbers beside it: the table is what a
screen reader, a keyboard user or a small phone reads; the chart is there to
show the trend at a glance. No script and no inline style: colours come from
the stylesheet (site.css, elder.css), so 长辈模式 and the Content-Security-Policy
apply to charts as to the rest of the page."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# The drawing's own units; the stylesheet scales it to the page width.
WIDTH = 360
HEIGHT = 200
TOP = 22  # room for the value over the tallest bar
BOTTOM = 22  # room for the month under each bar
LEFT = 4
GAP = 0.25  # the share of each bar's slot left empty


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str
    centre: float


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    unit: str
    bars: list
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    label_y: float = HEIGHT - 6


FIGURES = (
    ("received", _("每月受理量"), _("件")),
    ("response_rate", _("每月响应率"), "%"),
    ("resolution_rate", _("每月办结率"), "%"),
    ("satisfaction_rate", _("每月满意率"), "%"),
    ("average_working_days", _("每月平均办理用时"), _("个工作日")),
)


def _text(value, unit):
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:g}%"
    return f"{value:g}"


def _spoken(value, unit):
    """A value as the description reads it: with its unit."""
    if value is None:
        return "—"
    return f"{value:g}{unit}"


def bar_chart(key, title, unit, months, values):
    """One bar per month; a month with nothing to count has no bar and a dash."""
    top = 100 if unit == "%" else max([value or 0 for value in values] + [1])
    slot = (WIDTH - LEFT) / len(months)
    drawable = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (month, value) in enumerate(zip(months, values, strict=True)):
        height = drawable * (value or 0) / top
        x = LEFT + index * slot + slot * GAP / 2
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(slot * (1 - GAP), 1),
                height=round(height, 1),
                label=f"{month.month}",
                value_text=_text(value, unit),
                centre=round(x + slot * (1 - GAP) / 2, 1),
            )
        )
    first, last = months[0], months[-1]
    described = "; ".join(
        f"{month:%Y-%m} {_spoken(value, unit)}" for month, value in zip(months, values, strict=True)
    )
    return Chart(
        key=key,
        title=str(title),
        description=str(
            _("%(first)s 至 %(last)s:%(values)s")
            % {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}", "values": described}
        ),
        unit=unit,
        bars=bars,
    )


def month_charts(months, tallies):
    """One chart per figure over `months`, from the tallies of one group (the
    whole 街道, a 管区 or a category) by month."""
    chosen = [tallies[month] for month in months]
    return [
        bar_chart(key, title, unit, months, [getattr(tally, key) for tally in chosen])
        for key, title, unit in FIGURES
    ]

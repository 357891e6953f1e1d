"""Bar charts drawn on the server as SVG, for every section's figures.

A chart is an image with a title and a description for screen readers, and
the page puts a table of the same numbers beside it (templates/includes/
figures_table.html): the table is what a screen reader, a keyboard user or a
small phone reads; the chart is there to show the trend at a glance. No script
and no inline style: colours come from the stylesheet (site.css and elder.css
on the public site, admin_charts.css in the admin), so 长辈模式 and the
Content-Security-Policy apply to charts as to the rest of the page.

Draw one with templates/includes/bar_chart.html; a chart's `key` names its
ids, so it must be unique on the page."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# The drawing's own units; the stylesheet scales it to the page width.
WIDTH = 360
HEIGHT = 200
TOP = 22  # room for the value over the tallest bar
BOTTOM = 22  # room for the label under each bar
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


def value_text(value, unit):
    """A value as a bar or a table cell shows it: a percentage with its sign,
    anything else bare; a dash for a value there is none of."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:g}%"
    return f"{value:g}"


def spoken(value, unit):
    """A value as the description reads it: with its unit."""
    if value is None:
        return "—"
    return f"{value:g}{unit}"


def chart(key, title, unit, labels, values, description):
    """One bar per label; a value of None has no bar and a dash. Percentages
    are drawn against 100% (or the highest value, should one be over), other
    units against the highest value."""
    highest = max([value or 0 for value in values] + [1])
    top = max(100, highest) if unit == "%" else highest
    slot = (WIDTH - LEFT) / len(labels)
    drawable = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = drawable * (value or 0) / top
        x = LEFT + index * slot + slot * GAP / 2
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(slot * (1 - GAP), 1),
                height=round(height, 1),
                label=str(label),
                value_text=value_text(value, unit),
                centre=round(x + slot * (1 - GAP) / 2, 1),
            )
        )
    return Chart(key=key, title=str(title), description=str(description), unit=unit, bars=bars)


def bar_chart(key, title, unit, months, values):
    """One bar per month (`months`: their first days, oldest first), labelled
    with the month's number; the description reads every month's value."""
    first, last = months[0], months[-1]
    described = "; ".join(
        f"{month:%Y-%m} {spoken(value, unit)}" for month, value in zip(months, values, strict=True)
    )
    return chart(
        key,
        title,
        unit,
        [f"{month.month}" for month in months],
        values,
        _("%(first)s 至 %(last)s:%(values)s")
        % {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}", "values": described},
    )


def category_chart(key, title, unit, labels, values, about):
    """One bar per category (a band, a kind), in the order given; the
    description starts with `about` (what and when) and reads every value."""
    described = "; ".join(
        f"{label} {spoken(value, unit)}" for label, value in zip(labels, values, strict=True)
    )
    return chart(
        key,
        title,
        unit,
        labels,
        values,
        _("%(about)s:%(values)s") % {"about": about, "values": described},
    )


@dataclass(frozen=True)
class Cell:
    """A table cell: the number, and how it was reached (17/20) if it is a rate."""

    text: str
    detail: str = ""


@dataclass(frozen=True)
class Row:
    """A table row: its heading (a month, a room), an optional link on the
    heading, and its cells in the order of the table's columns."""

    heading: str
    cells: list = field(default_factory=list)
    url: str = ""

"""The stylesheet keeps its accessibility promises: a focus indicator with at
least 3:1 contrast against every background it can appear on (WCAG 1.4.11)."""

import re
from pathlib import Path

import pytest

CSS = re.sub(
    r"/\*.*?\*/",
    "",
    (Path(__file__).resolve().parents[2] / "portal/core/static/css/site.css").read_text(),
    flags=re.S,
)


def variable(name):
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS).group(1)


def declaration(selector, prop):
    """The value of prop in the first rule whose selector list includes selector."""
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        if selector in [part.strip() for part in selectors.split(",")]:
            found = re.search(rf"(?:^|;)\s*{prop}:\s*([^;]+)", body)
            if found:
                return found.group(1).strip()
    raise AssertionError(f"no {prop} for {selector}")


def colour(value):
    value = value.strip()
    if value.startswith("var(--"):
        return variable(value[6:-1])
    return {"#fff": "#ffffff"}.get(value, value)


def luminance(hex_colour):
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("background", ["paper", "wash"])
def test_focus_ring_stands_out_on_light_backgrounds(background):
    ring = colour(declaration(":focus-visible", "outline").split()[-1])
    assert contrast(ring, variable(background)) >= 3


@pytest.mark.parametrize(
    "region, background",
    [(".site-header", "var(--brand)"), (".main-nav", "var(--brand-dark)"), (".site-footer", "")],
)
def test_focus_ring_stands_out_on_dark_regions(region, background):
    background = colour(background or declaration(".site-footer", "background"))
    ring = colour(declaration(f"{region} :focus-visible", "outline-color"))
    assert contrast(ring, background) >= 3


def test_filter_links_are_large_enough_to_tap_and_card_labels_look_different():
    assert declaration("a.tag", "min-height") == "44px"
    assert declaration("a.tag", "align-items") == "center"
    assert declaration("a.tag", "border").startswith("1px solid")
    with pytest.raises(AssertionError):  # labels on cards have no link-like outline
        declaration("span.tag", "border")
    assert declaration("span.tag", "color") == "var(--muted)"
    assert contrast(variable("muted"), variable("wash")) >= 4.5

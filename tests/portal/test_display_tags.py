"""The pagination bar every listing shares (portal/core/templatetags/display_tags.py)."""

import re

from django.core.paginator import Paginator
from django.template import engines


def bar(rf, query, number, count=1000, per_page=10):
    request = rf.get("/news/", query)
    page_obj = Paginator(range(count), per_page).get_page(number)
    template = engines["django"].from_string("{% load display_tags %}{% pagination page_obj %}")
    return template.render({"page_obj": page_obj}, request)


def shown(html):
    """The bar as a reader hears it: each item's label, [current], … for a gap."""
    items = re.findall(r"<li>(.*?)</li>", html)
    return [
        "…"
        if "…" in item
        else f"[{re.sub('<[^>]+>', '', item)}]"
        if "aria-current" in item
        else re.sub("<[^>]+>", "", item)
        for item in items
    ]


def test_a_long_listing_shows_the_ends_and_two_pages_either_side(rf):
    html = bar(rf, {"page": 50}, 50)
    assert shown(html) == ["上一页", "1", "…", "48", "49", "[50]", "51", "52", "…", "100", "下一页"]
    assert 'href="?page=49" rel="prev"' in html and 'href="?page=51" rel="next"' in html
    assert 'aria-label="第 48 页"' in html


def test_the_first_and_last_pages_have_no_link_past_the_end(rf):
    assert shown(bar(rf, {}, 1))[:2] == ["[1]", "2"] and "上一页" not in bar(rf, {}, 1)
    last = bar(rf, {"page": 100}, 100)
    assert shown(last)[-1] == "[100]" and "下一页" not in last


def test_links_keep_the_rest_of_the_query(rf):
    html = bar(rf, {"tag": "群租房", "page": 2}, 2)
    assert 'href="?tag=%E7%BE%A4%E7%A7%9F%E6%88%BF&amp;page=3" rel="next"' in html


def test_one_page_shows_no_bar(rf):
    assert bar(rf, {}, 1, count=10).strip() == ""


def test_links_are_what_djangos_querystring_writes(rf):
    """Repeated parameters, text that needs escaping and junk are kept as Django's
    {% querystring page=… %} keeps them."""
    query = {"tag": ["群租房", "噪音"], "q": "a&b <c>", "utm_source": "x", "page": "3"}
    request = rf.get("/news/", query)
    expected = engines["django"].from_string("{% querystring page=4 %}").render({}, request)
    assert f'href="{expected}" rel="next"' in bar(rf, query, 3)

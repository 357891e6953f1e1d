"""回应公开 in a real browser at phone width, in both display modes: a resident
filters the published answers by keyboard alone, opens one, goes on to the
monthly figures and reads every chart's table with the keyboard; axe finds no
violation at all on any of these pages, the Content-Security-Policy refuses
nothing, and nothing is wider than the phone."""

import pytest
from playwright.sync_api import expect

from portal.service_requests.models import PublishedAnswer

from . import test_csp
from .test_csp import assert_no_violations
from .test_journeys import press_tab_until
from .test_request_status import all_violations

watched_page = test_csp.watched_page

ELDER = [False, True]


def open_in_mode(watched_page, live_site, elder):
    page = watched_page("phone")
    if elder:  # 长辈模式, as its switch leaves it
        page.context.add_cookies([{"name": "elder", "value": "1", "url": live_site.url}])
    return page


def fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("elder", ELDER, ids=["ordinary", "elder"])
def test_a_resident_filters_answers_opens_one_and_reads_the_figures_by_keyboard(
    watched_page, live_site, db_access, elder
):
    published = PublishedAnswer.objects.select_related("request__category").order_by("-pk")
    category = published.first().request.category
    shown_in_category = published.filter(request__category=category).count()
    page = open_in_mode(watched_page, live_site, elder)
    page.goto("/huiying/")
    assert all_violations(page) == []
    assert fits_the_phone(page)

    # Choose the category with the keyboard and submit the filter form.
    press_tab_until(page, "el => el.id === 'filter-category'")
    page.keyboard.press("ArrowDown")  # some browsers open the list; select by value instead
    page.select_option("#filter-category", category.code)
    press_tab_until(page, "el => el.matches('.answers-filters button')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/huiying/?category={category.code}**")
    expect(page.locator(".answer")).to_have_count(min(shown_in_category, 20))
    for title in page.locator(".answer__title").all_inner_texts():
        assert title.startswith(category.name)
    assert all_violations(page) == []

    # Open the first answer from its heading link.
    press_tab_until(page, "el => el.matches('.answer__title a')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/huiying/*/")
    expect(page.locator("h1")).to_contain_text(category.name)
    assert all_violations(page) == []
    assert fits_the_phone(page)

    # The figures: four charts, each with its title, and tables the keyboard reaches.
    page.goto("/huiying/")
    press_tab_until(page, "el => el.matches('a[href$=\"/shuju/\"]')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/huiying/shuju/")
    charts = page.locator("svg.chart__drawing")
    expect(charts).to_have_count(5)
    for index in range(5):
        chart = charts.nth(index)
        assert chart.get_attribute("role") == "img"
        assert chart.locator("title").text_content().startswith("每月")
    regions = page.locator(".table-wrap[tabindex='0']")
    assert regions.count() >= 3
    for index in range(regions.count()):
        # Each scrollable table takes the focus, so arrow keys scroll it on a phone.
        press_tab_until(page, f"el => el === document.querySelectorAll('.table-wrap')[{index}]")
    assert all_violations(page) == []
    assert fits_the_phone(page)
    assert_no_violations(page)


def test_the_figures_chart_text_grows_in_elder_mode(watched_page, live_site, db_access):
    sizes = {}
    for elder in ELDER:
        page = open_in_mode(watched_page, live_site, elder)
        page.goto("/huiying/shuju/")
        sizes[elder] = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.chart__label')).fontSize)"
        )
        page.close()
    assert sizes[True] > sizes[False]

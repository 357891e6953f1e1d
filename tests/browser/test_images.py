"""Pictures cost a phone only what it shows: 长辈模式 hides listing cards'
pictures and does not download them, while the standard look fetches a
listing's first picture (often the largest thing on the first screen) at once."""

import pytest

from portal.campaigns.models import CampaignIndexPage
from portal.news.models import NewsIndexPage
from portal.talks.models import TalkIndexPage

LISTINGS = [TalkIndexPage, NewsIndexPage, CampaignIndexPage]

# Card pictures the browser fetched although 长辈模式 does not draw them.
HIDDEN_AND_FETCHED = """() => [...document.querySelectorAll(".card__image img")]
    .filter(img => img.complete && img.currentSrc && !img.checkVisibility()).length"""
FIRST_CARD_PICTURE = "main .card-list li:first-child .card__image img"


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda model: model.__name__)
def test_elder_mode_downloads_at_most_the_first_hidden_card_picture(new_page, db_access, listing):
    url = listing.objects.live().first().url
    page = new_page("desktop", elder=True)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.locator(".card__image img").count() >= 2, "the demo listing shows pictures"
    assert page.evaluate(HIDDEN_AND_FETCHED) <= 1


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda model: model.__name__)
def test_a_listings_first_picture_is_fetched_with_the_page(new_page, db_access, listing):
    page = new_page("desktop")
    page.goto(listing.objects.live().first().url)
    page.wait_for_load_state("networkidle")
    first = page.locator(FIRST_CARD_PICTURE)
    assert first.get_attribute("loading") is None
    assert first.evaluate("img => img.complete && img.naturalWidth > 0")
    later = page.locator("main .card-list li:not(:first-child) .card__image img")
    assert set(later.evaluate_all("imgs => imgs.map(img => img.loading)")) == {"lazy"}

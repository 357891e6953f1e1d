"""What the campaigns section reads: the campaign listing, the current
campaign for the home page's banner and the posters and documents a campaign
page shows, each in a fixed number of queries whatever their number."""

from django.db.models import Prefetch

from .models import CampaignPage, CampaignPoster

CAMPAIGN_ORDER = ("-date", "-first_published_at", "-pk")


def campaigns_under(index):
    """Live public campaigns under ``index``, with what a card shows loaded up front."""
    return (
        CampaignPage.objects.child_of(index)
        .live()
        .public()
        .select_related("banner_image")
        .prefetch_related("banner_image__renditions", _posters_prefetch())
        .order_by(*CAMPAIGN_ORDER)
    )


def _posters_prefetch():
    return Prefetch(
        "posters",
        queryset=CampaignPoster.objects.select_related("image").prefetch_related(
            "image__renditions"
        ),
    )


def current_campaign():
    """The live, public campaign flagged as current (the newest if several), with
    its banner image and that image's renditions loaded, or None."""
    return (
        CampaignPage.objects.live()
        .public()
        .filter(is_current=True)
        .select_related("banner_image")
        .prefetch_related("banner_image__renditions")
        .order_by(*CAMPAIGN_ORDER)
        .first()
    )


def gallery_posters(page):
    """The posters of ``page`` with their images and renditions, in one go
    whatever their number."""
    return list(page.posters.select_related("image").prefetch_related("image__renditions"))


def downloads(page):
    """The documents ``page`` offers for download, with their files."""
    return page.documents.select_related("document")

"""The 扫黑除恶 section: an index and two campaign pages, each with posters, a
printable PDF and common questions. Running seed() again changes nothing."""

from datetime import timedelta

from django.utils import timezone

from demo import assets, content
from portal.campaigns.models import (
    CampaignDocument,
    CampaignFAQ,
    CampaignIndexPage,
    CampaignPage,
    CampaignPoster,
)


def seed(home):
    """Create the 扫黑除恶 index and its campaign pages under home, once."""
    data = content("campaigns")
    fields = data["index"]
    index = CampaignIndexPage.objects.child_of(home).filter(slug=fields["slug"]).first()
    if index is None:
        index = CampaignIndexPage(show_in_menus=True, **fields)
        home.add_child(instance=index)
        index.save_revision().publish()
    for campaign in data["campaigns"]:
        if not CampaignPage.objects.child_of(index).filter(slug=campaign["slug"]).exists():
            _create_campaign(index, campaign, data["report_mail_address"])
    return index


def _create_campaign(index, data, mail_address):
    banner = data.get("banner")
    page = CampaignPage(
        title=data["title"],
        slug=data["slug"],
        date=timezone.localdate() - timedelta(days=data["days_ago"]),
        intro=data["intro"],
        is_current=data["is_current"],
        banner_text=data["banner_text"],
        banner_image=_banner(banner) if banner else None,
        report_mail_address=mail_address,
        body=assets.body(data["body"]),
    )
    page.posters = [
        CampaignPoster(image=_poster(poster), alt_text=poster["alt"], caption=poster["caption"])
        for poster in data["posters"]
    ]
    page.documents = [
        CampaignDocument(document=_leaflet(leaflet), description=leaflet["description"])
        for leaflet in data["documents"]
    ]
    page.faqs = [
        CampaignFAQ(question=faq["question"], answer=faq["answer"]) for faq in data["faqs"]
    ]
    index.add_child(instance=page)
    page.save_revision().publish()
    return page


def _poster(poster):
    return assets.image(
        poster["title"],
        poster["file"],
        lambda: assets.campaign_poster(
            poster["background"], poster["accent"], poster["slogan"], poster["motif"]
        ),
        description=poster["alt"],
    )


def _banner(banner):
    return assets.image(
        banner["title"],
        banner["file"],
        lambda: assets.campaign_banner(banner["background"], banner["accent"], banner["slogan"]),
        description=banner["alt"],
    )


def _leaflet(leaflet):
    return assets.document(
        leaflet["title"],
        leaflet["file"],
        lambda: assets.leaflet_pdf(leaflet["title"], leaflet["sections"]),
    )

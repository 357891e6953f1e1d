"""What the home page gathers from the other sections, each in a fixed number of
queries whatever the amount of content."""

from counseling.models import Room
from portal.campaigns.models import current_campaign
from portal.news.models import latest_news
from portal.talks.models import featured_talks


def home_sections():
    return {
        "latest_news": latest_news(limit=5),
        "featured_talks": featured_talks(limit=3),
        "campaign": current_campaign(),
        "rooms": list(Room.objects.for_listing()),
    }

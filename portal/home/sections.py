"""What the home page gathers from the other sections, each in a fixed number of
queries whatever the amount of content."""

from django.contrib.contenttypes.models import ContentType

from counseling.models import Room
from portal.campaigns.models import current_campaign
from portal.news.models import NewsIndexPage, latest_news
from portal.talks.models import TalkIndexPage, featured_talks


def section_indexes(home):
    """The news and talk index pages under the home page, in one query."""
    by_type = {
        page.content_type_id: page
        for page in home.get_children().live().type(NewsIndexPage, TalkIndexPage)
    }
    return {
        name: by_type.get(ContentType.objects.get_for_model(model).pk)
        for name, model in (("news_index", NewsIndexPage), ("talk_index", TalkIndexPage))
    }


def home_sections(home):
    return {
        **section_indexes(home),
        "latest_news": latest_news(limit=5),
        "featured_talks": featured_talks(limit=3),
        "campaign": current_campaign(),
        "rooms": list(Room.objects.for_listing()),
    }

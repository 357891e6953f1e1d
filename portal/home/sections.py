"""What the home page gathers from the other sections, each in a fixed number of
queries whatever the amount of content."""

from django.contrib.contenttypes.models import ContentType
from django.utils.functional import SimpleLazyObject
from wagtail import hooks

from portal.campaigns.queries import current_campaign
from portal.core.lookups import cached
from portal.news.models import NewsIndexPage
from portal.news.queries import latest_news_ids, news_cards
from portal.talks.models import TalkIndexPage
from portal.talks.queries import featured_talks, talk_cards

# Other apps add sections to the home page through this hook (counseling adds
# the rooms): a function of (home page, request) that returns the section's
# template as "template" with what it shows, or None to add nothing.
HOME_SECTION_HOOK = "register_home_section"


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


def home_sections(home, request):
    """Everything on the home page but its own fields. Each part changes only
    when content is published or saved, so it is kept per content generation.
    The campaign is read only if the fragment that shows it is drawn."""
    return {
        **cached("home-indexes", lambda: section_indexes(home), home.pk),
        "latest_news": news_cards(
            request, cached("home-news", lambda: list(latest_news_ids(limit=5)))
        ),
        "featured_talks": talk_cards(
            request,
            cached("home-talks", lambda: [talk.pk for talk in featured_talks(limit=3)]),
        ),
        "campaign": SimpleLazyObject(lambda: cached("home-campaign", current_campaign)),
        "more_sections": [
            section for fn in hooks.get_hooks(HOME_SECTION_HOOK) if (section := fn(home, request))
        ],
    }

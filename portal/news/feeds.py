"""The RSS feed of a news index: the newest items with absolute links."""

import datetime

from django.contrib.syndication.views import Feed
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .queries import feed_items

FEED_ITEMS = 20


class NewsFeed(Feed):
    """Built per request for one NewsIndexPage; served at <index>/feed/."""

    def __init__(self, index_page):
        super().__init__()
        self.index_page = index_page
        self.request = None

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def title(self):
        return _("金家岭街道 %(section)s") % {"section": self.index_page.title}

    def description(self):
        return self.index_page.intro or _(
            "青岛市崂山区金家岭街道发布的通知公告、政策解读和街道动态。"
        )

    def link(self):
        return self.index_page.get_full_url(self.request)

    def items(self):
        return feed_items(self.index_page, FEED_ITEMS)

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.intro

    def item_link(self, item):
        return item.get_full_url(self.request)

    def item_pubdate(self, item):
        # A news date carries no time; publish it at the start of that day here.
        return datetime.datetime.combine(
            item.date, datetime.time.min, tzinfo=timezone.get_current_timezone()
        )

    def item_updateddate(self, item):
        return item.last_published_at

    def item_categories(self, item):
        names = [item.category.name] if item.category else []
        # A tag named like the category is one category, not two.
        return list(dict.fromkeys(names + [tag.name for tag in item.tags.all()]))

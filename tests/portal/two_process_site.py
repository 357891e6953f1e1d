"""Site changes for tests/portal/test_two_processes.py, run as their own process
with the servers' production settings:

    python -m tests.portal.two_process_site seed      # prints the addresses as JSON
    python -m tests.portal.two_process_site publish <new title>
"""

import datetime
import json
import sys

NEWS_TITLE = "心理咨询室开放通知"


def seed():
    from django.urls import reverse
    from django.utils import timezone
    from wagtail.models import Page, Site

    from counseling.availability import Availability
    from portal.home.models import HomePage
    from portal.news.models import NewsIndexPage, NewsPage
    from tests.factories import make_open_room

    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="金家岭街道", slug="jinjialing"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    news_index = home.add_child(instance=NewsIndexPage(title="政策新闻", slug="news"))
    news = news_index.add_child(
        instance=NewsPage(title=NEWS_TITLE, slug="rooms-open", date=datetime.date(2026, 3, 2))
    )
    news.save_revision().publish()

    room = make_open_room()
    first_day = timezone.localdate() + datetime.timedelta(days=2)
    contested, spare = [s for s in Availability([room]).slots(room) if s.day >= first_day][:2]

    def book(slot):
        local = timezone.localtime(slot.start)
        return reverse(
            "counseling:book",
            kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()},
        )

    addresses = {"book": book(contested), "book_spare": book(spare), "news": news.url}
    print(json.dumps({**addresses, "news_id": news.pk}))


def publish(title):
    """Edit the news page and publish it, as an editor does in the admin."""
    from portal.news.models import NewsPage

    news = NewsPage.objects.get(title=NEWS_TITLE)
    news.title = title
    news.save_revision().publish()


def main():
    import django

    django.setup()
    command, *args = sys.argv[1:]
    {"seed": seed, "publish": publish}[command](*args)


if __name__ == "__main__":
    main()

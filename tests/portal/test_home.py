"""The home page and the demo site that `make run` builds."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from wagtail.models import Page, Site

from counseling.models import Room
from portal.campaigns.models import CampaignPage
from portal.core.models import SiteSettings, StandardPage
from portal.home.models import HomePage
from portal.news.models import NewsCategory, NewsIndexPage, NewsPage
from portal.talks.models import TalkPage
from tests.factories import make_image
from tests.queries import render_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_site(db):
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    return HomePage.objects.get()


def test_home_page_shows_every_section_and_booking(client, demo_site):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in html and "欢迎访问金家岭街道" in html
    for news in NewsPage.objects.live().order_by("-date")[:5]:
        assert news.title in html
    for talk in TalkPage.objects.live().public().filter(featured=True)[:3]:
        assert talk.title in html
    current = CampaignPage.objects.get(is_current=True)
    assert current.url in html
    rooms = list(Room.objects.all())
    assert len(rooms) == 6
    for room in rooms:
        assert room.name in html
    assert 'href="/counseling/"' in html
    for section in ("/news/", "/talks/", "/saohei/"):
        assert f'href="{section}"' in html


def test_footer_shows_site_settings(client, demo_site):
    settings = SiteSettings.objects.get()
    html = client.get("/").content.decode()
    footer = html[html.index('class="site-footer"') :]
    for value in (settings.address, settings.icp_number, settings.police_record_number, "12356"):
        assert value in footer


def test_counselling_rooms_page_lists_six_rooms_with_crisis_notice(client, demo_site):
    html = client.get("/counseling/").content.decode()
    assert html.count('class="room"') == 6
    assert "12356" in html and "110" in html and "120" in html
    assert Room.objects.get(location=Room.Location.OFFICE).address in html


def test_home_query_count_does_not_grow_with_content(client, demo_site):
    before = render_queries(client, "/")
    index = NewsIndexPage.objects.get()
    category = NewsCategory.objects.first()
    for number in range(15):
        news = NewsPage(
            title=f"新增新闻{number}",
            slug=f"extra-{number}",
            date=datetime.date(2026, 10, 1) + datetime.timedelta(days=number),
            category=category,
            featured_image=make_image(title=f"新增图片{number}"),
        )
        news.tags.add("新增", f"标签{number}")
        index.add_child(instance=news)
    TalkPage.objects.update(featured=True)
    after = render_queries(client, "/")
    assert after == before
    assert render_queries(client, "/", cold=False) <= 12


def test_seed_demo_twice_leaves_the_same_site(demo_site):
    def snapshot():
        return {
            "pages": sorted(Page.objects.values_list("url_path", flat=True)),
            "rooms": Room.objects.count(),
            "sites": list(Site.objects.values_list("root_page_id", "is_default_site")),
            "settings": SiteSettings.objects.count(),
        }

    first = snapshot()
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    assert snapshot() == first
    assert NewsPage.objects.count() >= 20
    assert TalkPage.objects.count() == 6
    assert CampaignPage.objects.count() == 2
    assert StandardPage.objects.filter(slug__in=["about", "privacy", "accessibility"]).count() == 3
    years = {date.year for date in NewsPage.objects.values_list("date", flat=True)}
    assert len(years) >= 2


def test_seed_demo_creates_admin_with_generated_password(tmp_path, monkeypatch, db):
    from django.contrib.auth import get_user_model

    from portal.core.management.commands import seed_demo

    password_file = tmp_path / "admin-password"
    monkeypatch.setattr(seed_demo, "PASSWORD_FILE", password_file)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    password = password_file.read_text().strip()
    assert len(password) >= 12
    assert password in out.getvalue()
    assert "/admin/" in out.getvalue()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert password in again.getvalue()
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_home_sections_link_to_their_index_pages(client, demo_site):
    html = client.get("/").content.decode()
    assert '<a href="/news/">更多新闻</a>' in html
    assert '<a href="/talks/">全部讲座</a>' in html


def test_make_run_on_another_port_points_the_sites_links_at_it(db, settings):
    """`make run PORT=8123` hands the address to seed_demo and the server, so the
    links in feeds, texts and calendar files lead to the running site."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert (
        "WAGTAILADMIN_BASE_URL=http://127.0.0.1:8123 .venv/bin/python manage.py seed_demo" in plan
    )
    assert (
        "WAGTAILADMIN_BASE_URL=http://127.0.0.1:8123 .venv/bin/python manage.py runserver 127.0.0.1:8123"
        in plan
    )

    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8123"
    call_command("seed_demo", "--no-admin", stdout=StringIO())
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("127.0.0.1", 8123)
    assert site.root_page.full_url == "http://127.0.0.1:8123/"


def test_the_demo_never_puts_a_counsellor_in_two_rooms_at_once(demo_site):
    from counseling.models import DutyShift

    shifts = list(DutyShift.objects.select_related("counsellor"))
    clashes = [
        (a, b)
        for a in shifts
        for b in shifts
        if a.pk < b.pk and a.counsellor_id == b.counsellor_id and a.overlaps(b)
    ]
    assert len(shifts) > 6 and clashes == []

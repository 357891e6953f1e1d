"""The home page as the root of the default site, the site settings and the
plain pages (about, privacy notice, accessibility statement)."""

from urllib.parse import urlsplit

from django.conf import settings
from wagtail.models import Page, Site

from demo import assets, content
from portal.core.models import SiteSettings, StandardPage
from portal.home.models import HomePage


def seed_home():
    """The home page as the root of the default site; Wagtail's welcome page goes."""
    data = content("site")
    root = Page.get_first_root_node()
    home = HomePage.objects.first()
    if home is None:
        home = root.add_child(instance=HomePage(**data["home"]))
    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    base = urlsplit(settings.WAGTAILADMIN_BASE_URL)
    site.hostname = base.hostname or "localhost"
    site.port = base.port or (443 if base.scheme == "https" else 80)
    site.site_name = data["home"]["title"]
    site.root_page = home
    site.save()
    Page.objects.child_of(root).exclude(pk=home.pk).filter(content_type__model="page").delete()
    SiteSettings.objects.update_or_create(site=site, defaults=data["settings"])
    return home


def seed_pages(home):
    """The plain pages under the home page, once each."""
    for data in content("site")["pages"]:
        if StandardPage.objects.child_of(home).filter(slug=data["slug"]).exists():
            continue
        page = StandardPage(
            title=data["title"],
            slug=data["slug"],
            intro=data["intro"],
            body=assets.body(data["body"]),
            search_description=data["intro"],
        )
        home.add_child(instance=page)

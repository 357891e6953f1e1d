"""The project's changes to Wagtail's own behaviour (portal/core/wagtail_compat.py):
each works through the admin as staff use it, and the list is looked at again
whenever Wagtail is upgraded."""

import csv
import functools
import io

import pytest
import wagtail
from django.urls import reverse
from wagtail.images.exceptions import InvalidFilterSpecError
from wagtail.images.models import Filter

from portal.core import wagtail_compat
from portal.core.models import StandardPage

FORMULAS = ['=HYPERLINK("//a.cn","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def csv_rows(response):
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_the_changes_were_checked_against_the_installed_wagtail():
    assert wagtail.VERSION[:2] == wagtail_compat.CHECKED_WITH, (
        "Wagtail was upgraded: check each change in portal/core/wagtail_compat.py "
        "against the new SpreadsheetExportMixin, AbstractImage.get_rendition(s) / "
        "create_rendition(s) and get_renditions' _from_cache check, Django's "
        "Model.__setstate__, the image tags' ImageNode.get_filter and "
        "SrcsetImageNode.get_filters, wagtail.sites.views.IndexView.columns, and the routing "
        "touches (Site._find_for_request, request._wagtail_site, "
        "request._wagtail_cached_site_root_paths, treebeard's "
        "_cached_parent_obj, QuerySet._result_cache) and Django's translation "
        "catalogs (DjangoTranslation._catalog/_fallback), then update CHECKED_WITH."
    )


@pytest.mark.parametrize("value", FORMULAS)
def test_cells_a_spreadsheet_would_run_become_text(value):
    assert wagtail_compat.neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["张阿姨", "2025-03-10 10:00", "13800000001", " =1", "", None, 3])
def test_other_cells_are_left_alone(value):
    assert wagtail_compat.neutralise_formula(value) == value


@pytest.mark.django_db
def test_wagtails_own_report_exports_are_neutralised_too(admin_client, home):
    for title in FORMULAS:
        page = home.add_child(
            instance=StandardPage(title=title, slug=f"p{len(title)}{ord(title[0])}")
        )
        page.save_revision().publish()

    response = admin_client.get(reverse("wagtailadmin_reports:aging_pages"), {"export": "csv"})

    assert response.status_code == 200
    titles = {row[0] for row in csv_rows(response)[1:]}
    assert {"'" + title for title in FORMULAS} <= titles
    assert not titles & set(FORMULAS)


# Routing from the look-ups cache: each private touch still does what routing needs.


@pytest.mark.django_db
def test_a_remembered_site_answers_wagtails_site_lookup_without_a_query(rf, home):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import Site

    request = rf.get("/", HTTP_HOST="localhost:8000")
    assert wagtail_compat.site_key(request) == ("localhost:8000", "80")
    site = wagtail_compat.find_site(request)
    assert site == Site.objects.get(is_default_site=True)
    fresh = rf.get("/")
    wagtail_compat.remember_site(fresh, site)
    with CaptureQueriesContext(connection) as queries:
        assert Site.find_for_request(fresh) is site
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_remembered_parent_answers_get_parent_without_a_query(home):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import Page

    child = home.add_child(instance=StandardPage(title="关于我们", slug="guanyu"))
    child = Page.objects.get(pk=child.pk)
    wagtail_compat.remember_parent(child, home)
    with CaptureQueriesContext(connection) as queries:
        assert child.get_parent() is home
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_read_queryset_answers_without_a_query_and_asks_when_narrowed(home):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import Page

    queryset = wagtail_compat.read_queryset(Page.objects.filter(pk=home.pk), [home])
    with CaptureQueriesContext(connection) as queries:
        assert list(queryset) == [home] and queryset.exists()
    assert len(queries) == 0
    assert list(queryset.filter(depth=1)) == []


def test_the_current_site_is_the_one_wagtail_answered(rf):
    from wagtail.models import Site

    request = rf.get("/")
    assert wagtail_compat.current_site(request) is None
    site = Site(hostname="example.cn")
    wagtail_compat.remember_site(request, site)
    assert wagtail_compat.current_site(request) is Site.find_for_request(request) is site


def test_one_dictionary_answers_every_string_as_djangos_catalogs_would():
    """Every string any installed catalog knows, and strings none knows, read the
    same through the flattened translation as through one Django builds afresh."""
    import gettext

    from django.utils import translation
    from django.utils.translation import trans_real

    fresh = trans_real.DjangoTranslation("zh-hans")
    messages, plurals, node, depth = set(), set(), fresh, 0
    while isinstance(node, gettext.GNUTranslations):
        for part in getattr(node._catalog, "_catalogs", [node._catalog]):
            messages.update(key if isinstance(key, str) else key[0] for key in part)
            plurals.update(key for key in part if not isinstance(key, str))
        node, depth = node._fallback, depth + 1
    assert depth > 1  # the chain this replaces still exists in the installed Django
    assert len(messages) > 1000
    assert len(plurals) > 50
    flattened = trans_real.translation("zh-hans")
    for message in sorted(messages) + ["最近可约:", "预约", "心理咨询室", ""]:
        assert flattened.gettext(message) == fresh.gettext(message), message
    ours = [("还有 %(count)s 个时段", "还有 %(count)s 个时段"), ("1 day", "%(n)s days")]
    for singular, plural in sorted({(key[0], key[0] + "s") for key in plurals}) + ours:
        for number in (0, 1, 2, 5):
            assert flattened.ngettext(singular, plural, number) == fresh.ngettext(
                singular, plural, number
            ), (singular, number)
    with translation.override("zh-hans"):
        assert translation.gettext("Search") == "搜索"
        assert translation.gettext("最近可约:") == "最近可约:"
        assert translation.pgettext("month name", "May") == fresh.pgettext("month name", "May")
        assert translation.ngettext("%(count)s page", "%(count)s pages", 3) == fresh.ngettext(
            "%(count)s page", "%(count)s pages", 3
        )
    assert isinstance(flattened.gettext, functools.partial)
    assert isinstance(flattened.ngettext, functools.partial)


@pytest.mark.django_db
def test_pictures_share_one_filter_per_spec_and_draw_as_wagtail_does():
    from django.template import engines
    from wagtail.images.models import Filter, Picture
    from wagtail.images.templatetags.wagtailimages_tags import ImageNode, PictureNode

    from tests.factories import make_image

    image = make_image()
    source = (
        "{% load wagtailimages_tags %}"
        '{% picture img format-{webp,jpeg} fill-{40x20,80x40} alt="" %}'
        '{% image img fill-40x20 alt="" %}'
    )
    templates = [engines["django"].from_string(source) for _ in range(2)]
    pictures = [t.template.nodelist.get_nodes_by_type(PictureNode)[0] for t in templates]
    images = [
        node
        for t in templates
        for node in t.template.nodelist.get_nodes_by_type(ImageNode)
        if type(node) is ImageNode
    ]
    shared = pictures[0].get_filters()
    assert [f.spec for f in shared] == [
        "format-webp|fill-40x20",
        "format-webp|fill-80x40",
        "format-jpeg|fill-40x20",
        "format-jpeg|fill-80x40",
    ]
    assert all(a is b for a, b in zip(shared, pictures[1].get_filters(), strict=True))
    assert images[0].get_filter() is images[1].get_filter()

    fresh = [Filter(spec=f.spec) for f in shared]
    expected = Picture(image.get_renditions(*fresh), {"alt": ""}).__html__()
    expected += image.get_rendition(Filter(spec="fill-40x20")).img_tag({"alt": ""})
    assert templates[0].render({"img": image}) == expected


@pytest.mark.django_db
def test_remembered_site_root_paths_build_page_urls_without_reading_the_cache(
    rf, home, monkeypatch
):
    from django.core.cache import caches
    from wagtail.models import Site

    child = home.add_child(instance=StandardPage(title="关于我们", slug="guanyu"))
    request = rf.get("/")
    wagtail_compat.remember_site_root_paths(request, Site.get_site_root_paths())
    cache, reads = caches["default"], []
    original = cache.get
    monkeypatch.setattr(
        cache, "get", lambda *args, **kw: reads.append(args) or original(*args, **kw)
    )
    assert child.get_url(request) == "/guanyu/"
    assert child.get_full_url(request) == "http://localhost/guanyu/"
    assert reads == []


@pytest.mark.django_db
def test_a_rendition_read_from_the_cache_is_not_written_back(monkeypatch):
    from django.core.cache import caches
    from wagtail.images import get_image_model

    from tests.factories import make_image

    made = make_image().get_rendition("fill-40x20")
    cache, written = caches["renditions"], set()
    original_set, original_set_many = cache.set, cache.set_many
    monkeypatch.setattr(
        cache, "set", lambda key, *a, **kw: written.add(key) or original_set(key, *a, **kw)
    )
    monkeypatch.setattr(
        cache,
        "set_many",
        lambda data, *a, **kw: written.update(data) or original_set_many(data, *a, **kw),
    )

    image = get_image_model().objects.get(pk=made.image_id)
    read = image.get_rendition("fill-40x20")
    assert (read.pk, read.url) == (made.pk, made.url)
    assert written == set()

    created = image.get_rendition(Filter(spec="fill-20x10"))
    assert (created.width, created.height) == (20, 10)
    assert written == {created.get_cache_key()}
    with pytest.raises(InvalidFilterSpecError):
        image.get_rendition(20)

    written.clear()
    kept = get_image_model().objects.prefetch_renditions().get(pk=made.image_id)
    assert kept.get_rendition("fill-40x20").pk == made.pk
    assert written == set()

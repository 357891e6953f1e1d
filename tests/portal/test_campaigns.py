"""The 扫黑除恶 section: campaign pages with posters, documents, questions and the
official ways to report; the index; the home page banner; demo content."""

from html.parser import HTMLParser

import pytest
from django.core.cache import caches
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction

import demo.campaigns
from portal.campaigns.models import (
    CampaignDocument,
    CampaignFAQ,
    CampaignIndexPage,
    CampaignPage,
    CampaignPoster,
)
from portal.campaigns.queries import current_campaign
from portal.core.segmentation import segment_query
from tests.factories import PDF_BYTES, make_document, make_image
from tests.queries import render_queries

LEAFLET_BYTES = PDF_BYTES + b"%" + b"x" * 4000 + b"\n"


class FormCollector(HTMLParser):
    """Collects every form on a page and the fields inside it."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "fields": []})
        elif tag in {"input", "textarea", "select"} and self.forms:
            self.forms[-1]["fields"].append((tag, attrs))


def poster_image(title):
    image = make_image(title=title, size=(300, 425), colour=(164, 22, 26))
    image.file_size = image.file.size
    image.save(update_fields=["file_size"])
    return image


def leaflet(title):
    document = make_document(title=title, content=LEAFLET_BYTES, name="leaflet.pdf")
    document.file_size = document.file.size
    document.save(update_fields=["file_size"])
    return document


@pytest.fixture
def index(home):
    page = CampaignIndexPage(title="扫黑除恶", slug="saohei")
    home.add_child(instance=page)
    return page


def make_campaign(index, slug="changtaihua", items=2, **fields):
    fields.setdefault("title", "扫黑除恶常态化宣传")
    page = CampaignPage(slug=slug, intro="街道持续开展扫黑除恶宣传。", **fields)
    page.posters = [
        CampaignPoster(
            image=poster_image(f"{slug} 海报 {n}"),
            alt_text=f"红底海报,标语“扫黑除恶 人人有责”第{n}张",
            caption=f"楼道张贴海报{n}",
        )
        for n in range(items)
    ]
    page.documents = [
        CampaignDocument(document=leaflet(f"{slug} 居民宣传手册 {n}"), description="两页手册")
        for n in range(items)
    ]
    page.faqs = [
        CampaignFAQ(
            question=f"可以在这个网站上举报吗?({n})", answer="<p>不可以,请登录 12337 平台。</p>"
        )
        for n in range(items)
    ]
    index.add_child(instance=page)
    return page


@pytest.fixture
def campaign(index):
    return make_campaign(index, report_mail_address="崂山区扫黑办 266061")


def get_html(client, wagtail_page, **params):
    response = client.get(wagtail_page.url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_gallery_shows_each_poster_with_alt_text_and_a_link_to_the_original(client, campaign):
    html = get_html(client, campaign)
    for poster in campaign.posters.all():
        assert f'alt="{poster.alt_text}"' in html
        assert poster.caption in html
        assert f'href="{poster.image.file.url}" download' in html
    assert html.count("下载原图") == 2
    with translation.override("zh-hans"):
        size = filesizeformat(campaign.posters.first().image.file_size)
    assert f"(JPG,{size})" in html
    assert "<picture>" in html and 'type="image/avif"' in html


def test_documents_list_title_format_and_size_and_download_the_file(client, campaign):
    html = get_html(client, campaign)
    with translation.override("zh-hans"):
        size = filesizeformat(len(LEAFLET_BYTES))
    for item in campaign.documents.all():
        assert item.document.title in html
        assert f'href="{item.document.url}" download' in html
    assert f"(PDF,{size})" in html

    response = client.get(campaign.documents.first().document.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == LEAFLET_BYTES


def test_questions_open_and_close_without_javascript(client, campaign):
    html = get_html(client, campaign)
    assert '<section id="faq" class="faq"' in html
    assert html.count("<details>") == 2
    assert "<summary>可以在这个网站上举报吗?(0)</summary>" in html
    assert "不可以,请登录 12337 平台。" in html


def test_report_section_says_the_site_takes_no_clues_and_names_official_channels(client, campaign):
    html = get_html(client, campaign)
    assert '<section id="report"' in html
    assert "本网站不收集、不受理任何举报线索。" in html
    assert 'href="https://www.12337.gov.cn/"' in html
    assert "全国扫黑办 12337 智能化举报平台" in html
    assert "微信小程序" in html
    assert "110" in html
    assert "崂山区扫黑办 266061" in html
    assert "公安派出所" in html


def test_campaign_page_has_no_form_that_could_take_a_clue(client, campaign):
    collector = FormCollector()
    collector.feed(get_html(client, campaign))
    for form in collector.forms:
        assert form["attrs"].get("role") == "search"
        assert form["attrs"].get("method", "get").lower() == "get"
        for tag, attrs in form["fields"]:
            assert tag == "input" and attrs.get("type") == "search"


def test_mail_channel_is_hidden_until_an_editor_enters_the_address(client, index):
    page = make_campaign(index, slug="no-address")
    html = get_html(client, page)
    assert "信件举报" not in html
    assert "12337" in html


def test_sharing_image_is_the_banner_or_else_the_first_poster(campaign):
    assert campaign.get_meta_image() == campaign.posters.first().image
    banner = make_image(title="横幅", size=(1200, 600))
    campaign.banner_image = banner
    campaign.save()
    assert campaign.get_meta_image() == banner


def test_search_finds_a_campaign_by_question_caption_and_document_title(campaign):
    campaign.save_revision().publish()
    for words in ("楼道张贴海报", "居民宣传手册", "网站上举报"):
        results = CampaignPage.objects.live().search(segment_query(words), operator="and")
        assert [page.pk for page in results] == [campaign.pk], words


def test_index_lists_live_public_campaigns_newest_first(client, index):
    older = make_campaign(index, slug="older", title="防范套路贷", items=1, date="2024-03-01")
    newer = make_campaign(index, slug="newer", title="常态化宣传", items=1, date="2024-09-01")
    draft = make_campaign(index, slug="draft", title="尚未发布的草稿", items=1)
    draft.unpublish()
    html = get_html(client, index)
    assert html.index(newer.title) < html.index(older.title)
    assert draft.title not in html


def test_index_paginates_by_ten_and_survives_bad_page_numbers(client, index):
    for n in range(11):
        make_campaign(
            index, slug=f"c{n}", title=f"宣传活动{n:02d}", items=0, date=f"2024-01-{n + 1:02d}"
        )
    first = get_html(client, index)
    assert "宣传活动10" in first and "宣传活动00" not in first
    assert "宣传活动00" in get_html(client, index, page=2)
    for bad in ("abc", "0", "-1", "999", "1.5", ""):
        assert client.get(index.url, {"page": bad}).status_code == 200


def test_current_campaign_is_the_newest_live_public_flagged_page(index):
    assert current_campaign() is None
    make_campaign(index, slug="plain", items=0)
    assert current_campaign() is None

    older = make_campaign(index, slug="older", items=0, is_current=True, date="2024-01-01")
    newer = make_campaign(index, slug="newer", items=0, is_current=True, date="2024-06-01")
    assert current_campaign() == newer

    newer.unpublish()
    assert current_campaign() == older

    PageViewRestriction.objects.create(page=older, restriction_type="login")
    assert current_campaign() is None


def test_home_banner_partial_loads_everything_in_the_query_that_found_it(rf, index):
    banner = make_image(title="横幅", size=(1200, 600), description="红色横幅,写有扫黑除恶")
    page = make_campaign(
        index, items=0, is_current=True, banner_image=banner, banner_text="发现线索请找 12337"
    )
    request = rf.get("/")
    render_to_string(
        "includes/campaign_banner.html", {"campaign": current_campaign(), "request": request}
    )

    campaign = current_campaign()
    caches["renditions"].clear()
    with CaptureQueriesContext(connection) as queries:
        html = render_to_string(
            "includes/campaign_banner.html", {"campaign": campaign, "request": rf.get("/")}
        )
    assert [q["sql"] for q in queries.captured_queries if "rendition" in q["sql"]] == []
    assert "发现线索请找 12337" in html
    assert 'alt="红色横幅,写有扫黑除恶"' in html
    assert f'href="{page.url}#report"' in html


def test_home_page_shows_the_current_campaign_banner_only_while_flagged(client, index):
    page = make_campaign(index, items=1, banner_text="发现线索请找 12337 平台")
    assert "发现线索请找 12337 平台" not in client.get("/").content.decode()

    page.is_current = True
    page.save_revision().publish()
    html = client.get("/").content.decode()
    assert 'class="campaign-banner"' in html
    assert "发现线索请找 12337 平台" in html
    assert f'href="{page.url}#report"' in html


def test_campaign_page_renders_in_a_fixed_number_of_queries(client, index):
    small = make_campaign(index, slug="small", items=2)
    large = make_campaign(index, slug="large", items=5)
    small_count = render_queries(client, small.url)
    assert render_queries(client, large.url) == small_count
    assert render_queries(client, small.url, cold=False) <= 12


def test_index_renders_in_a_fixed_number_of_queries(client, index):
    for n in range(3):
        make_campaign(index, slug=f"a{n}", items=2)
    few = render_queries(client, index.url)
    for n in range(4):
        make_campaign(index, slug=f"b{n}", items=3)
    assert render_queries(client, index.url) == few
    assert render_queries(client, index.url, cold=False) <= 12


def test_preview_of_a_draft_revision_renders_its_posters(campaign):
    campaign.save_revision()
    draft = campaign.get_latest_revision_as_object()  # children are in memory, as in preview
    response = draft.make_preview_request()
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("下载原图") == 2
    assert "居民宣传手册" in html


def test_seeding_twice_leaves_the_same_site(client, home):
    demo.campaigns.seed(home)

    def counts():
        return {
            "pages": Page.objects.count(),
            "campaigns": CampaignPage.objects.live().count(),
            "posters": CampaignPoster.objects.count(),
            "documents": CampaignDocument.objects.count(),
            "faqs": CampaignFAQ.objects.count(),
            "images": get_image_model().objects.count(),
            "files": get_document_model().objects.count(),
        }

    first = counts()
    demo.campaigns.seed(home)
    assert counts() == first
    assert first["campaigns"] == 2
    assert first["faqs"] >= 10

    index = CampaignIndexPage.objects.get(slug="saohei")
    assert "扫黑除恶常态化宣传" in get_html(client, index)
    current = current_campaign()
    assert current is not None and current.banner_image is not None
    html = get_html(client, current)
    assert "本网站不收集、不受理任何举报线索。" in html
    document = current.documents.first().document
    response = client.get(document.url)
    assert b"".join(response.streaming_content).startswith(b"%PDF")

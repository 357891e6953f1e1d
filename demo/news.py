"""The news section: the news index, five categories and two dozen news items
from 2025 and 2026, some with a featured image or the full text as a PDF."""

import datetime

from demo import assets, content
from portal.news.models import NewsCategory, NewsIndexPage, NewsPage, NewsPageRelatedNews


def seed(home):
    """Create the news index and its demo news under `home`; reuse whatever
    already exists."""
    data = content("news")
    index = _index(home, data["index"])
    categories = _categories(data["categories"])
    existing = set(NewsPage.objects.child_of(index).values_list("slug", flat=True))
    created = {
        item["slug"]: _news_page(index, categories, item, data)
        for item in data["news"]
        if item["slug"] not in existing
    }
    pages = {page.slug: page for page in NewsPage.objects.child_of(index)}
    related = {item["slug"]: item.get("related", []) for item in data["news"]}
    for slug, page in created.items():
        for related_slug in related[slug]:
            page.related_news_links.add(NewsPageRelatedNews(news=pages[related_slug]))
        page.save_revision().publish()
    return index


def _index(home, fields):
    index = NewsIndexPage.objects.child_of(home).filter(slug=fields["slug"]).first()
    if index is None:
        index = NewsIndexPage(show_in_menus=True, **fields)
        home.add_child(instance=index)
        index.save_revision().publish()
    return index


def _categories(categories):
    saved = {}
    for sort_order, category in enumerate(categories):
        saved[category["slug"]], _created = NewsCategory.objects.get_or_create(
            slug=category["slug"],
            defaults={
                "name": category["name"],
                "description": category["description"],
                "sort_order": sort_order,
            },
        )
    return saved


def _news_page(index, categories, item, data):
    picture = data["pictures"].get(item.get("image"))
    page = NewsPage(
        slug=item["slug"],
        title=item["title"],
        date=datetime.date.fromisoformat(item["date"]),
        category=categories[item["category"]],
        intro=item["intro"],
        issuing_office=item.get("office", ""),
        document_number=item.get("number", ""),
        featured_image=_picture(item["image"], picture) if picture else None,
        body=assets.body(
            item["body"], document_for=lambda key: _full_text(key, data["documents"][key], item)
        ),
    )
    page.tags.add(*item["tags"])
    index.add_child(instance=page)
    return page


def _picture(key, picture):
    label = picture["label"]
    return assets.image(
        f"新闻题图:{label}",
        f"news-{key}.jpg",
        lambda: assets.news_picture(
            picture["background"], picture["accent"], picture["motif"], label
        ),
        description=f"“{label}”主题配图,纯色背景上的简洁图形",
    )


def _full_text(key, title, item):
    """A notice's full text as a PDF headed with the item's office and number."""
    return assets.document(
        title, f"{key}.pdf", lambda: assets.notice_pdf(item["office"], item["number"], title)
    )

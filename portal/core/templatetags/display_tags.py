import unicodedata

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.filter(is_safe=True)
def load_eagerly(card):
    """A listing card whose picture is fetched with the page rather than when
    scrolled near: for a listing's first card, whose picture may be the page's
    largest paint. Cards are lazy otherwise, so 长辈模式, which hides their
    pictures, does not download them."""
    return card.replace(' loading="lazy"', "", 1)


@register.filter
def file_format(document):
    """The upper-case extension of a document, such as PDF."""
    return (document.file_extension or "").upper()


@register.filter
def file_size(document):
    """A human-readable file size; the stored size, measured once if missing."""
    size = document.get_file_size()
    return filesizeformat(size) if size else ""


@register.filter
def duration_display(seconds):
    """A talk's length for people, e.g. 12 分 5 秒, 30 分钟, 1 小时 5 分."""
    if not seconds:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return gettext("%(hours)s 小时 %(minutes)s 分") % {"hours": hours, "minutes": minutes}
    if not minutes:
        return ngettext("%(seconds)s 秒", "%(seconds)s 秒", secs) % {"seconds": secs}
    if not secs:
        return ngettext("%(minutes)s 分钟", "%(minutes)s 分钟", minutes) % {"minutes": minutes}
    return gettext("%(minutes)s 分 %(seconds)s 秒") % {"minutes": minutes, "seconds": secs}


@register.inclusion_tag("includes/pagination.html", takes_context=True)
def pagination(context, page_obj):
    """The pagination bar for ``page_obj``: the first and last pages, two either
    side of the current one and a gap between (a fixed handful however many
    pages there are), and the previous and next pages. Each link keeps the rest
    of the query (a tag, a category, the search terms), as Django's
    ``{% querystring page=… %}`` would, built from one copy of it."""
    paginator = page_obj.paginator
    if paginator.num_pages < 2:
        return {"pages": []}
    query = context["request"].GET.copy()

    def link(number):
        query["page"] = number
        return f"?{query.urlencode()}"

    pages = [
        {"gap": True}
        if number == paginator.ELLIPSIS
        else {"number": number, "url": link(number), "current": number == page_obj.number}
        for number in paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
    ]
    return {
        "pages": pages,
        "previous": link(page_obj.previous_page_number()) if page_obj.has_previous() else None,
        "next": link(page_obj.next_page_number()) if page_obj.has_next() else None,
    }


@register.filter
def tel_href(number):
    """A `tel:` address for a number as people write it ("0532-8899 0000"): the
    digits and a leading +, which is all a tel: URI may hold (RFC 3966)."""
    text = unicodedata.normalize("NFKC", str(number or "")).strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"tel:{'+' if text.startswith('+') else ''}{digits}"

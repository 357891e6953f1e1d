import unicodedata

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
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


@register.simple_tag(takes_context=True)
def pagination(context, page_obj):
    """The pagination bar for ``page_obj``: the first and last pages, two either
    side of the current one and a gap between (a fixed handful however many
    pages there are), and the previous and next pages. Each link keeps the rest
    of the query (a tag, a category, the search terms), as Django's
    ``{% querystring page=… %}`` would, built from one copy of it.

    Written here rather than in a template: every listing draws it, and the
    template engine took about a sixteenth of rendering a listing for a dozen links."""
    paginator = page_obj.paginator
    if paginator.num_pages < 2:
        return ""
    query = context["request"].GET.copy()

    def link(number):
        query["page"] = number
        return f"?{query.urlencode()}"

    items = []
    if page_obj.has_previous():
        previous = link(page_obj.previous_page_number())
        items.append(
            format_html('<li><a href="{}" rel="prev">{}</a></li>', previous, gettext("上一页"))
        )
    for number in paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1):
        if number == paginator.ELLIPSIS:
            items.append(GAP)
        elif number == page_obj.number:
            items.append(format_html('<li><span aria-current="page">{}</span></li>', number))
        else:
            label = gettext("第 %(number)s 页") % {"number": number}
            items.append(
                format_html(
                    '<li><a href="{}" aria-label="{}">{}</a></li>', link(number), label, number
                )
            )
    if page_obj.has_next():
        following = link(page_obj.next_page_number())
        items.append(
            format_html('<li><a href="{}" rel="next">{}</a></li>', following, gettext("下一页"))
        )
    return format_html(
        '<nav class="pagination" aria-label="{}">\n<ul>\n{}\n</ul>\n</nav>',
        gettext("分页"),
        format_html_join("\n", "{}", ((item,) for item in items)),
    )


GAP = mark_safe('<li><span aria-hidden="true">…</span></li>')


@register.filter
def tel_href(number):
    """A `tel:` address for a number as people write it ("0532-8899 0000"): the
    digits and a leading +, which is all a tel: URI may hold (RFC 3966)."""
    text = unicodedata.normalize("NFKC", str(number or "")).strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"tel:{'+' if text.startswith('+') else ''}{digits}"

from django import template
from django.template.defaultfilters import filesizeformat

register = template.Library()


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
    """Minutes and seconds in Chinese, e.g. 12 分 5 秒."""
    if not seconds:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} 小时 {minutes} 分"
    if not minutes:
        return f"{secs} 秒"
    return f"{minutes} 分 {secs} 秒" if secs else f"{minutes} 分钟"

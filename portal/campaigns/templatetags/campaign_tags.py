"""Filters that describe an original image file for its download link."""

import posixpath

from django import template
from django.template.defaultfilters import filesizeformat

register = template.Library()


@register.filter
def image_format(image):
    """The upper-case extension of an image's original file, such as JPG."""
    return posixpath.splitext(image.file.name)[1].lstrip(".").upper()


@register.filter
def image_size(image):
    """A human-readable size of the original file; reads the stored size, not the disk."""
    size = image.file_size
    return filesizeformat(size) if size else ""

"""Uploaded files in development (`make run`, DEBUG on), served as nginx serves
them in production: the folders that may hold staff-only files are not
reachable by their file address, so what developers see is what production does."""

import posixpath

from django.conf import settings
from django.http import Http404
from django.urls import re_path
from django.views import static

# Talk recordings (wagtailmedia's "media" folder) and documents may belong to
# staff-only talks: they are served only through the talk page or Wagtail's
# document view, which check who may see them. nginx marks the same folders
# `internal` (docs/deploy.md).
PRIVATE_FOLDERS = ("media", "documents")


def serve_public(request, path):
    normalised = posixpath.normpath(path).lstrip("/")
    top = normalised.split("/", 1)[0]
    if top in PRIVATE_FOLDERS or top == "..":
        raise Http404
    return static.serve(request, normalised, document_root=settings.MEDIA_ROOT)


def development_urlpatterns():
    prefix = settings.MEDIA_URL.lstrip("/")
    return [re_path(rf"^{prefix}(?P<path>.*)$", serve_public)]

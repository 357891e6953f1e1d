"""A talk's recording and captions, served from the talk's own address
(<talk>/media/ and <talk>/captions/) so the page's privacy setting covers them:
Wagtail checks it before routing to the talk page's routes, which answer here."""

import mimetypes
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.encoding import iri_to_uri

from .ranges import file_response

# Browsers recognise these names more reliably than what mimetypes guesses
# (audio/x-wav, or nothing for .opus on a machine without /etc/mime.types).
MEDIA_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
}


# How long browsers keep a talk's recording and captions (seconds).
MEDIA_MAX_AGE = 60 * 60


def media_content_type(media):
    """The content type a recording is served and announced with."""
    if not media:
        return ""
    extension = media.file_extension.lower()
    guessed = mimetypes.guess_type(media.filename)[0]
    return MEDIA_CONTENT_TYPES.get(extension) or guessed or "application/octet-stream"


def captions_response(talk, request):
    """Captions are served from the talk's own address, so the track is
    same-origin, typed text/vtt (which browsers require of a <track>) and
    covered by the page's privacy setting."""
    captions = talk.captions
    if not captions or os.path.splitext(captions.filename)[1].lower() != ".vtt":
        raise Http404
    _check_collection_allows(request, captions)
    with captions.file.open("rb") as captions_file:
        content = captions_file.read()
    response = HttpResponse(content, content_type="text/vtt; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return _kept_for_an_hour(talk, response)


def media_response(talk, request):
    """The recording, served from the talk's own address so the page's
    privacy setting covers it (Wagtail checks it before routing). With
    MEDIA_ACCEL_REDIRECT on, nginx sends the file from an internal location
    and answers Range requests itself; otherwise Django answers them, as
    Safari needs to play and every browser needs to seek."""
    media = talk.media
    if not media:
        raise Http404
    _check_collection_allows(request, media)
    content_type = media_content_type(media)
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = iri_to_uri(media.file.url)
    else:
        storage, name = media.file.storage, media.file.name
        try:
            media_file = media.file.open("rb")
            size = storage.size(name)
            modified = storage.get_modified_time(name).timestamp()
        except FileNotFoundError as missing:
            raise Http404 from missing
        response = file_response(
            request, media_file, content_type, size=size, last_modified=modified
        )
    response["X-Content-Type-Options"] = "nosniff"
    return _kept_for_an_hour(talk, response)


def _check_collection_allows(request, item):
    """The file's own collection decides too: a public page that somehow
    points at a staff-only file serves it to staff only."""
    if not all(
        restriction.accept_request(request)
        for restriction in item.collection.get_view_restrictions()
    ):
        raise Http404


def _kept_for_an_hour(talk, response):
    """Browsers keep the recording and its captions for an hour (a replaced
    file shows within the hour; Last-Modified answers the re-check), shared
    caches only those of public talks."""
    audience = "private" if talk.get_view_restrictions().exists() else "public"
    patch_cache_control(response, max_age=MEDIA_MAX_AGE, **{audience: True})
    return response

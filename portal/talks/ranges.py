"""HTTP Range requests for talk recordings served by Django (RFC 9110 §14).

Safari and iOS play <video>/<audio> only from a server that answers a byte range
with 206 Partial Content, and every browser seeks by asking for a range. nginx
does this itself when MEDIA_ACCEL_REDIRECT hands it the file; without nginx the
talk page's media route answers through `file_response` here. One range per
request is enough for players; a multi-range request gets the whole file, which
the RFC allows."""

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date

SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
CHUNK_BYTES = 64 * 1024


class Unsatisfiable(Exception):
    """The range lies wholly outside the file."""


def requested_range(header, size):
    """The (first, last) byte positions, inclusive, that a Range header asks of
    a file of `size` bytes; None when the header is absent or not a single byte
    range (so the whole file is sent)."""
    match = SINGLE_RANGE.match(header or "")
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        # A suffix: the last N bytes.
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size - 1
    first = int(first)
    if last and int(last) < first:
        return None  # invalid syntax: ignored, as the RFC says
    if first >= size:
        raise Unsatisfiable
    return first, (min(int(last), size - 1) if last else size - 1)


class FileSlice:
    """Iterates over `length` bytes of an open file from `first`, and closes
    the file when the response is done, whether or not it was read."""

    def __init__(self, file, first, length):
        self.file = file
        self.first = first
        self.remaining = length

    def __iter__(self):
        self.file.seek(self.first)
        while self.remaining > 0:
            chunk = self.file.read(min(CHUNK_BYTES, self.remaining))
            if not chunk:
                break
            self.remaining -= len(chunk)
            yield chunk

    def close(self):
        self.file.close()


def file_response(request, file, content_type, *, size, last_modified=None):
    """The whole file (200), the requested byte range (206), or 416 when the
    range lies outside the file. `file` is open for reading; the response
    closes it. An If-Range that does not match `last_modified` (a timestamp)
    means the client's copy is stale, so it gets the whole file."""
    modified = http_date(last_modified) if last_modified is not None else None
    try:
        byte_range = requested_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        file.close()
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    if_range = request.headers.get("If-Range")
    if byte_range is None or (if_range is not None and if_range != modified):
        response = FileResponse(file, content_type=content_type)
    else:
        first, last = byte_range
        length = last - first + 1
        response = StreamingHttpResponse(
            FileSlice(file, first, length), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if modified:
        response["Last-Modified"] = modified
    return response

"""Counting the queries a page view costs."""

from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.core import pagecache


def render_queries(client, url, cold=True):
    """Queries for one view of ``url``, after a first view has created any
    missing image renditions.

    ``cold``: as right after a content change, with the renditions cache empty
    and every look-up and card kept per content generation gone: the most a
    visitor's view can cost. Otherwise the second view in a warm process."""
    client.get(url)
    if cold:
        caches["renditions"].clear()
        pagecache.invalidate()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)

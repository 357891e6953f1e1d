"""What visitors see when an outside part does not answer in time."""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views.defaults import server_error as default_server_error

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def busy_response():
    """503 系统繁忙, rendered without the database or the request's context."""
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """The site's handler500. A database that did not answer in time (a lock held
    past lock_timeout, a statement past statement_timeout, a connection cut under
    the request), in a view or in a middleware, is 系统繁忙 with 503 and
    Retry-After, which a resident can act on; anything else is the 500 page.
    Forms that hold what a resident typed answer such a moment themselves."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        return busy_response()
    return default_server_error(request)

"""What visitors see when an outside part does not answer in time."""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext_lazy as _
from django.views.defaults import server_error as default_server_error

from .storage import disk_refused

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


STORAGE_REFUSED = _(
    "服务器的存储空间已满或暂时不能写入,文件没有保存(也没有留下不完整的文件)。"
    "请联系网站管理员腾出空间后再上传一次。"
)


class StorageRefusedMiddleware:
    """An upload the media disk cannot take (full, over quota, read-only) is a
    clear Chinese message with 507, not a server error: as JSON for the admin's
    multiple upload, which shows `error_message` beside the file, and as a page
    for everything else. MediaStorage has already removed any partial file."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not disk_refused(exception):
            return None
        logger.error(
            "Upload not stored for %s %s: %s", request.method, request.path, exception.strerror
        )
        if request.headers.get("x-requested-with") == "XMLHttpRequest":
            return JsonResponse({"success": False, "error_message": str(STORAGE_REFUSED)})
        page = loader.render_to_string("507.html", {"message": STORAGE_REFUSED})
        return HttpResponse(page, status=507)

"""Security events as structured log records on the `portal.audit` logger, written as
JSON lines by portal.core.logging.JsonLinesFormatter.

Events carry identifiers (user id, username, address, path), never passwords,
codes or residents' personal data."""

import logging

from portal.core.clients import client_address

logger = logging.getLogger("portal.audit")


def log_event(event, request=None, *, user=None, level=logging.INFO, **fields):
    """Log one event with the acting user and, when there is a request, the
    visitor's address and the path it came through."""
    details = {}
    if user is not None and user.is_authenticated:
        details["user_id"] = user.pk
        details["username"] = user.get_username()
    if request is not None:
        details["ip"] = client_address(request)
        details["path"] = request.path
    details.update(fields)
    logger.log(level, event, extra=details)

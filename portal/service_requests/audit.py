"""The staff access log for residents' requests (PIPL): every list, detail,
export and action in the admin is written here with the references it showed
or touched, and logged as a JSON event on `portal.audit` (user id, action,
request ids; never residents' details)."""

import logging

from .models import RequestAccessLog

audit_log = logging.getLogger("portal.audit")

Action = RequestAccessLog.Action


def record(user, action, requests=(), detail=""):
    staff = user if user is not None and user.is_authenticated else None
    requests = list(requests)
    entry = RequestAccessLog.objects.create(
        user=staff,
        username=staff.get_username() if staff else "",
        action=action,
        references=" ".join(request.reference for request in requests),
        detail=detail[:300],
    )
    audit_log.info(
        f"request_data.{action}",
        extra={
            "user_id": staff.pk if staff else None,
            "username": staff.get_username() if staff else "",
            "action": str(action),
            "request_count": len(requests),
            "request_ids": [request.pk for request in requests],
            "access_log_id": entry.pk,
        },
    )
    return entry

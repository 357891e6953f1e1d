"""Messages to staff about a single request, sent by the task worker so that a
slow or failing mail server never holds up the resident's page. A message that
cannot be sent is logged and dropped: the request itself is in the queue, and
the daily digest (digest.py) lists it again while it is due."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from . import audit
from .models import ServiceRequest, StaffPost

logger = logging.getLogger(__name__)


def dissatisfied(request):
    """Queue the supervisors' email about a 不满意 rating (call on commit)."""
    try:
        tell_supervisors_of_dissatisfaction.enqueue(request.pk)
    except Exception:  # noqa: BLE001 - the queue being down must not fail the rating
        logger.warning("The 不满意 email for request %s could not be queued.", request.pk)


@task()
def tell_supervisors_of_dissatisfaction(request_id):
    """Tell the 街道's supervisors that a resident rated a reply 不满意: the
    request is reopened for a second handling, or, after the second, closed
    dissatisfied and theirs to follow up."""
    request = ServiceRequest.objects.select_related("category").get(pk=request_id)
    supervisors = list(
        get_user_model()
        .objects.filter(staff_post__role=StaffPost.Role.SUPERVISOR, is_active=True, email__gt="")
        .order_by("username")
    )
    if not supervisors:
        return
    reopened = request.state == ServiceRequest.State.REOPENED
    link = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
        "requests:inspect", args=[request.pk]
    )
    subject = _("【金家岭街道】居民对诉求 %(reference)s 的答复不满意") % {
        "reference": request.reference_display
    }
    body = "\n".join(
        [
            _("诉求 %(reference)s(%(category)s)的居民对答复评价“不满意”。")
            % {"reference": request.reference_display, "category": request.category},
            _("这条诉求已转为重办,请督促承办单位重新签收办理。")
            if reopened
            else _("这是第二轮答复后的不满意,诉求已办结,请跟进。"),
            link,
        ]
    )
    try:
        send_mail(subject, body, None, [user.email for user in supervisors])
    except OSError:
        logger.exception("Supervisors not told of a 不满意 rating; the request is in the queue.")
        return
    for user in supervisors:
        audit.record(user, audit.Action.EXPORT, [request], detail="不满意提醒邮件")

"""Publishing through the review workflow (先审后发): a page that refuses to go
live when a reviewer approves it (its own clean(), such as a public talk whose
recording has since moved to the staff-only collection) is told to the reviewer
on the page's edit screen, instead of Wagtail's bare server error."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

WORKFLOW_ACTION = "wagtailadmin_pages:workflow_action"


class WorkflowRefusalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        match = getattr(request, "resolver_match", None)
        if not isinstance(exception, ValidationError) or match is None:
            return None
        if match.view_name != WORKFLOW_ACTION:
            return None
        # Wagtail approves and publishes in one transaction, rolled back by now:
        # the page is still in review, unpublished.
        reasons = "、".join(str(message) for message in exception.messages)
        messages.error(
            request, _("没有发布:%(reasons)s 请修改后再提交审核。") % {"reasons": reasons}
        )
        edit_url = reverse("wagtailadmin_pages:edit", args=[match.kwargs["page_id"]])
        if request.headers.get("x-requested-with") == "XMLHttpRequest":
            # The approval dialog follows the address it is given.
            return JsonResponse({"step": "success", "redirect": edit_url})
        return HttpResponseRedirect(edit_url)

"""我要反映: the form on the ReportPage, the SMS code that proves the reply
number, and the confirmation with the reference. What the resident typed waits
in the session (encrypted) and the photos in the private store while the code
is on its way; nothing is a request until the code is right, and a request
is made once however often the form is sent (handling.receive)."""

import logging

from django.contrib import messages
from django.db import OperationalError, transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.core import code_step, verification
from portal.core.clients import client_key
from portal.core.forms import error_summary
from portal.core.privacy import mobile_digest
from portal.core.storage import disk_refused

from . import handling, photos
from .forms import ReportForm
from .models import Category, Unit
from .views import BUSY, DONE_KEY, PENDING_KEY, PURPOSE, SESSION_KEY, attempt, remember

logger = logging.getLogger(__name__)

TOO_MANY_REPORTS = gettext_lazy("提交的次数太多了,请一小时后再试。您填写的内容都还在。")
# A browser never shows a chosen file again: whenever the form comes back, say so.
PHOTOS_AGAIN = gettext_lazy("照片需要重新选择。")
DISK_FULL = gettext_lazy(
    "照片暂时保存不了,诉求还没有提交。您填写的文字都还在:请不传照片先提交,或稍后再试。"
)
GONE = gettext_lazy("您选择的类别或社区刚刚有了变动,请重新选择后再提交。您填写的内容都还在。")


def _render_form(request, page, form, error="", status=200):
    photos_again = PHOTOS_AGAIN if request.FILES.getlist("photos") else ""
    context = {
        "page": page,
        "self": page,
        "form": form,
        "errors": error_summary(form, error, photos_again),
        "step_label": _("第 1 步,共 2 步:填写问题"),
    }
    return render(request, "service_requests/report_page.html", context, status=status)


def receive(typed, *, category, place, partner=None):
    """The request for what ReportForm took (from the web, or a partner's post
    through Open311): handling.receive with the form's fields."""
    return handling.receive(
        category=category,
        place=place,
        description=typed["description"],
        address=typed["address"],
        mobile=typed["mobile"],
        name=typed["name"],
        email=typed["email"],
        publish_consent=typed["publish_consent"],
        partner=partner,
    )


def _typed(cleaned):
    """What waits in the session for the code: ids, not objects; no files."""
    return {
        "category": cleaned["category"].pk,
        "place": cleaned["place"].pk,
        "address": cleaned["address"],
        "description": cleaned["description"],
        "name": cleaned["name"],
        "mobile": cleaned["mobile"],
        "email": cleaned["email"],
        "publish_consent": cleaned["publish_consent"],
    }


@never_cache
@require_http_methods(["GET", "POST"])
def report(request, page):
    if request.method == "GET":
        # Back from the code step: what was typed is still there.
        typed = code_step.kept(request, PENDING_KEY) or {}
        return _render_form(request, page, ReportForm(initial=_initial(typed)))
    form = ReportForm(request.POST, request.FILES)
    try:
        if not attempt("report", "ip", client_key(request)):
            return _render_form(request, page, form, TOO_MANY_REPORTS, status=429)
        if not form.is_valid():
            return _render_form(request, page, form, status=400)
        if form.cleaned_data["website"]:
            return redirect(page.url)
        typed = _typed(form.cleaned_data)
        typed["photos"] = photos.store_pending(form.cleaned_data["photos"])
    except OperationalError:
        logger.exception("Report not taken: the database did not answer in time.")
        return _render_form(request, page, form, BUSY, status=503)
    except OSError as error:
        if not disk_refused(error):
            raise
        logger.exception("Report photos not stored: the disk refused them.")
        return _render_form(request, page, form, DISK_FULL, status=503)
    if verification.is_verified(request, typed["mobile"], PURPOSE):
        try:
            return _submit(request, page, typed)
        except OperationalError:
            logger.exception("Report not made: the database did not answer in time.")
            return _render_form(request, page, form, BUSY, status=503)
    code_step.keep(request, PENDING_KEY, typed)
    return code_step.ask_for_code(
        request,
        typed["mobile"],
        page.url + page.reverse_subpage("verify"),
        lambda message, status: _render_form(request, page, form, message, status=status),
        busy=BUSY,
    )


def _initial(typed):
    """The form's first values from what was typed: everything but the photos."""
    return {key: value for key, value in typed.items() if key != "photos"}


def _submit(request, page, typed):
    """Make the request from what was typed (once: the same report again within
    minutes is the first one), and show its reference. Reports per number are
    counted here, once the number is proven: nobody can use up another
    resident's allowance by typing their number into the form."""
    category = Category.objects.filter(pk=typed["category"], is_active=True).first()
    place = Unit.objects.filter(pk=typed["place"]).first()
    if category is None or place is None:
        code_step.keep(request, PENDING_KEY, typed)
        messages.warning(request, GONE)
        return redirect(page.url)
    if not attempt("report", "mobile", mobile_digest(typed["mobile"])):
        form = ReportForm(initial=_initial(typed))
        return _render_form(request, page, form, TOO_MANY_REPORTS, status=429)
    with transaction.atomic():
        made, created = receive(typed, category=category, place=place)
        if created:
            photos.attach(typed["photos"], made)
    request.session.pop(PENDING_KEY, None)
    request.session[DONE_KEY] = {
        "reference": made.reference,
        "display": made.reference_display,
        "again": not created,
    }
    remember(request, made)
    return redirect(page.url + page.reverse_subpage("done"))


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request, page):
    typed = code_step.kept(request, PENDING_KEY)
    if typed is None:
        messages.warning(request, _("页面已过期,请重新填写。"))
        return redirect(page.url)
    context = {
        "page": page,
        "self": page,
        "page_title": _("输入短信验证码"),
        "step_label": _("第 2 步,共 2 步:验证手机"),
        "change_url": page.url,
        "change_label": _("返回修改"),
        "submit_label": _("确认提交"),
    }
    return code_step.code_page(
        request,
        "service_requests/code_step.html",
        context,
        typed["mobile"],
        PURPOSE,
        lambda: _submit(request, page, typed),
    )


@never_cache
def done(request, page):
    reported = request.session.get(DONE_KEY)
    if reported is None:
        return redirect(page.url)
    context = {
        "page": page,
        "self": page,
        "page_title": _("已收到您反映的问题"),
        "reference": reported["reference"],
        "display": reported["display"],
        "again": reported["again"],
        "may_follow": request.session.get(SESSION_KEY) is not None,
    }
    return render(request, "service_requests/report_done.html", context)

"""The two-factor pages of the admin: enter a code, set up an authenticator, and a
superuser's reset for a lost phone."""

import logging

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from django_otp import login as otp_login
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import two_factor
from .audit import log_event
from .forms import CodeForm

WRONG_CODE = _("验证码不正确或已过期,请输入验证器当前显示的 6 位数字。")
TOO_MANY_WRONG_CODES = _("验证码错误次数较多,请在 %(time)s 之后再试。")


@method_decorator(never_cache, name="dispatch")
class TwoFactorStepView(FormView):
    """A page that takes one code from the authenticator and, when it is right,
    marks this session as verified and goes on to the admin page asked for."""

    form_class = CodeForm
    success_event = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.next_url(), **kwargs)

    def next_url(self):
        target = self.request.POST.get("next") or self.request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(
            target,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        ):
            return target
        return reverse("wagtailadmin_home")

    def get_success_url(self):
        return self.next_url()

    def form_valid(self, form):
        device = self.device
        allowed, refusal = device.verify_is_allowed()
        if not allowed:
            until = timezone.localtime(refusal.get("locked_until", timezone.now()))
            form.add_error("code", TOO_MANY_WRONG_CODES % {"time": until.strftime("%H:%M:%S")})
            return self.form_invalid(form)
        if not device.verify_token(form.cleaned_data["code"]):
            log_event("otp.failed", self.request, user=self.request.user, level=logging.WARNING)
            form.add_error("code", WRONG_CODE)
            return self.form_invalid(form)
        self.accept(device)
        # A new session key for the more trusted session, as a login would get.
        self.request.session.cycle_key()
        otp_login(self.request, device)
        log_event(self.success_event, self.request, user=self.request.user)
        return redirect(self.get_success_url())

    def accept(self, device):
        """What a right code does to the device besides verifying the session."""


class VerifyView(TwoFactorStepView):
    """Enter the current code from an authenticator set up before."""

    template_name = "accounts/two_factor_verify.html"
    success_event = "otp.verified"

    def dispatch(self, request, *args, **kwargs):
        if not two_factor.needs_verification(request.user):
            return redirect(self.next_url())
        self.device = two_factor.device_of(request.user)
        if self.device is None:
            return redirect(f"{reverse(two_factor.ENROL_VIEW)}?{request.GET.urlencode()}")
        return super().dispatch(request, *args, **kwargs)


class EnrolView(TwoFactorStepView):
    """Set up an authenticator: scan the QR code (or type the key), then prove it
    works with one code. Only for a user who has none, so a stolen password alone
    cannot add a second device."""

    template_name = "accounts/two_factor_enrol.html"
    success_event = "otp.enrolled"

    def dispatch(self, request, *args, **kwargs):
        if not two_factor.needs_verification(request.user):
            return redirect(self.next_url())
        if two_factor.device_of(request.user) is not None:
            return redirect(f"{reverse(two_factor.VERIFY_VIEW)}?{request.GET.urlencode()}")
        self.device = two_factor.pending_device_for(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            qr_code=two_factor.qr_code_data_uri(self.device),
            secret=two_factor.secret_for_typing(self.device),
            **kwargs,
        )

    def accept(self, device):
        two_factor.confirm(self.request, device)


class ResetView(WagtailAdminTemplateMixin, TemplateView):
    """A superuser removes a staff member's authenticator (a lost or replaced phone),
    after a confirmation; linked from the admin's user list."""

    template_name = "accounts/two_factor_reset.html"
    page_title = _("重置两步验证")
    header_icon = "key"

    def dispatch(self, request, user_id):
        if not request.user.is_superuser:
            raise PermissionDenied
        self.staff_member = get_object_or_404(get_user_model(), pk=user_id)
        return super().dispatch(request, user_id)

    def get_page_subtitle(self):
        return self.staff_member.get_username()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            staff_member=self.staff_member,
            has_authenticator=two_factor.device_of(self.staff_member) is not None,
            **kwargs,
        )

    def post(self, request, user_id):
        two_factor.reset(self.staff_member, request, by=request.user)
        messages.success(
            request,
            _("已重置 %(username)s 的两步验证,TA 下次进入后台时需要重新设置。")
            % {"username": self.staff_member.get_username()},
        )
        return redirect("wagtailusers_users:index")

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.widgets import Button

from . import two_factor, views


@hooks.register("register_admin_urls")
def register_two_factor_urls():
    return [
        path("two-factor/", views.VerifyView.as_view(), name=two_factor.VERIFY_VIEW),
        path("two-factor/setup/", views.EnrolView.as_view(), name=two_factor.ENROL_VIEW),
        path(
            "two-factor/reset/<int:user_id>/",
            views.ResetView.as_view(),
            name=two_factor.RESET_VIEW,
        ),
    ]


@hooks.register("register_user_listing_buttons")
def reset_two_factor_button(user, request_user):
    """重置两步验证 in each row's menu of the user list, for superusers."""
    if request_user.is_superuser:
        yield Button(
            _("重置两步验证"),
            reverse(two_factor.RESET_VIEW, args=[user.pk]),
            icon_name="key",
            priority=60,
        )

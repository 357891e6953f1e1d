from django.urls import path
from wagtail import hooks

from . import two_factor, views


@hooks.register("register_admin_urls")
def register_two_factor_urls():
    return [
        path("two-factor/", views.VerifyView.as_view(), name=two_factor.VERIFY_VIEW),
        path("two-factor/setup/", views.EnrolView.as_view(), name=two_factor.ENROL_VIEW),
    ]

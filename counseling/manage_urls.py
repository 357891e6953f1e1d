"""Managing a booking, at /yuyue/."""

from .urls import manage_urlpatterns as urlpatterns

app_name = "yuyue"

__all__ = ["app_name", "urlpatterns"]

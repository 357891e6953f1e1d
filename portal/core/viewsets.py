"""Admin viewset pieces the sections share."""

from django.urls import path


class ReadOnlyViewSetMixin:
    """Listing (and whatever detail and action views a viewset adds) only: no
    add, edit, delete, copy, history or usage views exist, so those URLs are
    404 for everyone. For records staff read but never edit by hand: bookings,
    residents' requests, access logs."""

    add_to_reference_index = False
    copy_view_enabled = False

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        for name in ["add", "edit", "delete", "copy", "history", "usage"]:
            view_kwargs[f"{name}_url_name"] = None
        return view_kwargs

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]

    def register_admin_url_finder(self):
        pass

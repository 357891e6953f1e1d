"""Signing in staff: Django's ModelBackend, loading the user with their post in
the residents' requests organisation (service_requests.StaffPost) and its unit
in the same query, since every admin page asks which requests they may see."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("staff_post__unit")
        try:
            user = users.get(pk=user_id)
        except users.model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

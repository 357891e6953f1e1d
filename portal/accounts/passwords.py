"""Password rules for staff accounts, with their refusals in Chinese."""

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule. Django 5.2 reworded its refusal and the zh-Hans
    catalogue has not caught up, so the admin showed it in English."""

    def get_error_message(self):
        return _("密码太短,至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}

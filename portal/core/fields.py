"""A model field that keeps its text encrypted in the database (see
portal.core.privacy). The model sees plain text; the database only Fernet tokens."""

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from . import privacy


class EmptyOnlyExact(Exact):
    """`field=""` still works (an empty value is stored empty, e.g. no email, or
    erased); any other value cannot be compared, since each token differs."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.target.name} is encrypted: compare it only with an empty "
                "string, or find rows by mobile through their mobile hash."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text encrypted at rest. Empty values stay empty (they reveal only that
    nothing was given). Only `=""` and `__isnull` lookups exist."""

    def from_db_value(self, value, expression, connection):
        return privacy.decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return privacy.encrypt(value) if value else value

    def get_lookup(self, lookup_name):
        return {"exact": EmptyOnlyExact, "isnull": IsNull}.get(lookup_name)

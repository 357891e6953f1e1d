"""Reference codes residents read aloud over the phone or type from an SMS:
eight digits, never starting with 0, shown in two groups of four (2041 7736).
Bookings and residents' requests each draw theirs from here."""

import secrets
import unicodedata

DIGITS = 8


def reference_display(reference):
    """Two groups of four digits, easy to read aloud: 2041 7736."""
    return f"{reference[:4]} {reference[4:]}"


def normalise_reference(text):
    """The digits of a code as people type it back: spaces, dashes and
    full-width digits allowed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text or "") if ch.isdigit())


def new_reference(queryset, field="reference"):
    """A code no row of `queryset` carries yet."""
    while True:
        reference = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
        if reference[0] != "0" and not queryset.filter(**{field: reference}).exists():
            return reference

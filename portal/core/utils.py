"""Small helpers the site sections share."""


def find_filter(queryset, **lookup):
    """The first object a filter from the query string names, or None.

    A value holding a NUL character names nothing stored, and PostgreSQL
    refuses to compare text with it at all, so it simply finds nothing."""
    if any("\x00" in value for value in lookup.values()):
        return None
    return queryset.filter(**lookup).first()

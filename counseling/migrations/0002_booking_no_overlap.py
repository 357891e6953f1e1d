"""On PostgreSQL the database itself refuses two bookings that hold overlapping
time in one room (an exclusion constraint over a btree_gist index). SQLite has no
such constraint; there the booking service's IMMEDIATE transaction serialises
writers and re-checks the slot."""

from django.db import migrations

STATUSES = "('confirmed', 'attended', 'no_show')"

CREATE = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE counseling_booking ADD CONSTRAINT booking_no_overlap_in_room
    EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status IN {STATUSES});
"""
DROP = "ALTER TABLE counseling_booking DROP CONSTRAINT IF EXISTS booking_no_overlap_in_room;"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("counseling", "0001_initial")]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]

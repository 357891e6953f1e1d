"""Give the counselling coordinators (心理咨询协调员) what they need in the admin:
rooms, counsellors and schedules to manage, bookings to view and change status
(through the booking service), and the access log to read."""

from django.db import migrations

COORDINATORS = "心理咨询协调员"

MANAGE = ["add", "change", "view"]
MANAGE_AND_REMOVE = ["add", "change", "delete", "view"]
COORDINATOR_PERMISSIONS = {
    "room": MANAGE,
    "counsellor": MANAGE,
    "openinghours": MANAGE_AND_REMOVE,
    "dutyshift": MANAGE_AND_REMOVE,
    "closure": MANAGE_AND_REMOVE,
    "holidayopening": MANAGE_AND_REMOVE,
    "booking": ["change", "view"],
    "bookingaccesslog": ["view"],
}


def get_permission(apps, app_label, model, codename):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": codename}
    )
    return permission


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    coordinators, _ = Group.objects.get_or_create(name=COORDINATORS)
    coordinators.permissions.add(
        *[
            get_permission(apps, "counseling", model, f"{action}_{model}")
            for model, actions in COORDINATOR_PERMISSIONS.items()
            for action in actions
        ]
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [
        f"{action}_{model}"
        for model, actions in COORDINATOR_PERMISSIONS.items()
        for action in actions
    ]
    permissions = Permission.objects.filter(
        content_type__app_label="counseling", codename__in=codenames
    )
    for group in Group.objects.filter(name=COORDINATORS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_staff_groups_and_workflow"),
        ("counseling", "0002_booking_no_overlap"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

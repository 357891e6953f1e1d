"""Counselling coordinators enter each year's holidays and make-up workdays
(节假日安排) from the State Council's notice."""

from django.db import migrations

COORDINATORS = "心理咨询协调员"
MODELS = ["holidayarrangement", "holidayperiod"]
ACTIONS = ["add", "change", "delete", "view"]


def permissions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    found = []
    for model in MODELS:
        content_type, _ = ContentType.objects.get_or_create(app_label="core", model=model)
        for action in ACTIONS:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{model}",
                defaults={"name": f"{action} {model}"},
            )
            found.append(permission)
    return found


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    coordinators, _ = Group.objects.get_or_create(name=COORDINATORS)
    coordinators.permissions.add(*permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=COORDINATORS):
        group.permissions.remove(*permissions(apps))


class Migration(migrations.Migration):
    dependencies = [("core", "0004_holiday_arrangements")]

    operations = [migrations.RunPython(grant, revoke)]

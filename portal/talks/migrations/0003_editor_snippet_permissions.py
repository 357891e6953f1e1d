"""Let editors (编辑) and reviewers (审核员) keep the snippets their pages use:
both manage speakers (主讲人) for talk pages; both see news categories (新闻分类)
so they can choose them, and reviewers may add and rename categories."""

from django.db import migrations

EDITORS = "编辑"
REVIEWERS = "审核员"

PERMISSIONS = {
    EDITORS: {
        ("talks", "speaker"): ["add", "change", "view"],
        ("news", "newscategory"): ["view"],
    },
    REVIEWERS: {
        ("talks", "speaker"): ["add", "change", "view"],
        ("news", "newscategory"): ["add", "change", "view"],
    },
}
VERBS = {"add": "Can add", "change": "Can change", "view": "Can view"}


def get_permission(apps, app_label, model, action):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename=f"{action}_{model}",
        defaults={"name": f"{VERBS[action]} {model}"},
    )
    return permission


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group_name, by_model in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for (app_label, model), actions in by_model.items():
            for action in actions:
                group.permissions.add(get_permission(apps, app_label, model, action))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group_name, by_model in PERMISSIONS.items():
        group = Group.objects.filter(name=group_name).first()
        if group is None:
            continue
        for (app_label, model), actions in by_model.items():
            for action in actions:
                group.permissions.remove(get_permission(apps, app_label, model, action))


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0002_audience_restricts_on_save"),
        ("news", "0001_initial"),
        ("core", "0002_staff_groups_and_workflow"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

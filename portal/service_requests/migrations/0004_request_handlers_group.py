"""The group that lets handlers, heads and supervisors of residents' requests
into the Wagtail admin, and admin access for grid workers, who handle the
requests of their grid there. What each of them sees is decided by their post
(service_requests.StaffPost), not by the group."""

from django.db import migrations

REQUEST_HANDLERS = "诉求办理人员"
GRID_WORKERS = "网格员"


def access_admin(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="wagtailadmin", model="admin")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="access_admin", defaults={"name": "Can access Wagtail admin"}
    )
    return permission


def create_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permission = access_admin(apps)
    for name in (REQUEST_HANDLERS, GRID_WORKERS):
        Group.objects.get_or_create(name=name)[0].permissions.add(permission)


def remove_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=REQUEST_HANDLERS).delete()
    grid_workers = Group.objects.filter(name=GRID_WORKERS).first()
    if grid_workers is not None:
        grid_workers.permissions.remove(access_admin(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("service_requests", "0003_access_log"),
        ("core", "0002_staff_groups_and_workflow"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]

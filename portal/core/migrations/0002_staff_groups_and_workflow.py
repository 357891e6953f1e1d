"""Staff groups and the review workflow (先审后发).

Editors draft and submit; a reviewer's approval publishes. Wagtail's own English
sample groups and their workflow are replaced by these.
"""

from django.db import migrations

EDITORS = "编辑"
REVIEWERS = "审核员"
COORDINATORS = "心理咨询协调员"
GRID_WORKERS = "网格员"
WORKFLOW_NAME = "先审后发"
TASK_NAME = "审核员审核"

PAGE_PERMISSIONS = {
    EDITORS: ["add_page", "change_page"],
    REVIEWERS: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
}
COLLECTION_PERMISSIONS = {
    EDITORS: {
        ("wagtailimages", "image"): ["add_image", "change_image", "choose_image"],
        ("wagtaildocs", "document"): ["add_document", "change_document", "choose_document"],
        ("wagtailmedia", "media"): ["add_media", "change_media"],
    },
    REVIEWERS: {
        ("wagtailimages", "image"): ["add_image", "change_image", "choose_image", "delete_image"],
        ("wagtaildocs", "document"): [
            "add_document",
            "change_document",
            "choose_document",
            "delete_document",
        ],
        ("wagtailmedia", "media"): ["add_media", "change_media", "delete_media"],
    },
}
ADMIN_GROUPS = [EDITORS, REVIEWERS, COORDINATORS]


def get_permission(apps, app_label, model, codename):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": codename}
    )
    return permission


def create_groups_and_workflow(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    ContentType = apps.get_model("contenttypes", "ContentType")

    groups = {
        name: Group.objects.get_or_create(name=name)[0]
        for name in [EDITORS, REVIEWERS, COORDINATORS, GRID_WORKERS]
    }
    access_admin = get_permission(apps, "wagtailadmin", "admin", "access_admin")
    for name in ADMIN_GROUPS:
        groups[name].permissions.add(access_admin)

    root_page = Page.objects.filter(depth=1).first()
    root_collection = Collection.objects.filter(depth=1).first()
    for name, codenames in PAGE_PERMISSIONS.items():
        for codename in codenames:
            GroupPagePermission.objects.get_or_create(
                group=groups[name],
                page=root_page,
                permission=get_permission(apps, "wagtailcore", "page", codename),
            )
    for name, by_model in COLLECTION_PERMISSIONS.items():
        for (app_label, model), codenames in by_model.items():
            for codename in codenames:
                GroupCollectionPermission.objects.get_or_create(
                    group=groups[name],
                    collection=root_collection,
                    permission=get_permission(apps, app_label, model, codename),
                )

    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    task = GroupApprovalTask.objects.create(name=TASK_NAME, content_type=task_type, active=True)
    task.groups.set([groups[REVIEWERS]])
    workflow = Workflow.objects.create(name=WORKFLOW_NAME, active=True)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)

    # Wagtail's sample "Moderators approval" workflow and English sample groups go.
    WorkflowPage.objects.filter(page=root_page).delete()
    WorkflowPage.objects.create(page=root_page, workflow=workflow)
    Workflow.objects.exclude(pk=workflow.pk).update(active=False)
    Group.objects.filter(name__in=["Moderators", "Editors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailmedia", "0005_alter_media_options"),
    ]

    operations = [migrations.RunPython(create_groups_and_workflow, migrations.RunPython.noop)]

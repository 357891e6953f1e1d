from django.db import migrations

SAMPLE = "Moderators approval"


def remove_sample_workflow(apps, schema_editor):
    """Wagtail's English sample workflow and its task, switched off since 0002,
    still showed in the workflow reports' filters. They go unless something ran
    through them."""
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowState = apps.get_model("wagtailcore", "WorkflowState")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    TaskState = apps.get_model("wagtailcore", "TaskState")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")

    used_workflows = WorkflowState.objects.values("workflow_id")
    Workflow.objects.filter(name=SAMPLE, active=False).exclude(pk__in=used_workflows).delete()
    GroupApprovalTask.objects.filter(name=SAMPLE).exclude(
        pk__in=TaskState.objects.values("task_id")
    ).exclude(pk__in=WorkflowTask.objects.values("task_id")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_crisis_words"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(remove_sample_workflow, migrations.RunPython.noop)]

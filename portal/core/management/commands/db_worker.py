"""`manage.py db_worker`: django-tasks-db's worker command with the worker that
survives a lost database connection and reclaims the tasks of dead workers
(portal.core.worker). Same options as django-tasks-db's."""

from django_tasks_db.management.commands import db_worker

from portal.core.worker import ResilientWorker


class Command(db_worker.Command):
    help = "运行任务进程(发送短信和邮件);数据库断开后自动重连,接管已停止进程的任务。"

    def handle(self, *args, **options):
        # The base command builds its Worker from the module's global name.
        original = db_worker.Worker
        db_worker.Worker = ResilientWorker
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original

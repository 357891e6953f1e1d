"""The task worker behind `manage.py db_worker`: it keeps sending when the
database hiccups, and no task stays with a worker that died.

django-tasks-db's own worker stops at the first database connection error (a
restarted PostgreSQL, a terminated backend, a statement timeout), and a task
whose worker was killed stays RUNNING for ever. This one

- survives connection loss: it drops the connection, waits with back-off and
  carries on, and the task it was running when the database went away goes
  back to the queue;
- beats a heartbeat row (`WorkerHeartbeat`) from a thread of its own, so a
  worker that stopped beating is known to be dead;
- hands back every RUNNING task whose worker has not beaten for the lease (or,
  for a worker that never beat, such as django-tasks-db's own, one started
  longer ago than the orphan age); a task that was already handed out
  `MAX_CLAIMS` times is failed instead, so a task that kills its worker cannot
  loop for ever.

A task may therefore run twice (killed after its work was done, before it was
marked done), never zero times: tasks here must be idempotent, as
`counseling.notifications.deliver` is (it sends only what is still pending)."""

import contextlib
import datetime
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

CONNECTION_ERRORS = (OperationalError, InterfaceError)
MAX_CLAIMS = 3
RETRY_DELAYS = (1, 2, 5, 10, 30)


def lease():
    return datetime.timedelta(seconds=settings.TASK_WORKER_LEASE)


def orphan_age():
    return datetime.timedelta(seconds=settings.TASK_WORKER_ORPHAN_AGE)


def heartbeat_interval():
    return settings.TASK_WORKER_HEARTBEAT


def reclaim_stale_tasks(now=None):
    """Put RUNNING tasks of dead workers back in the queue; return how many.

    A worker is dead when its heartbeat is older than the lease; a task of a
    worker that never beat is judged by its age alone."""
    now = now or timezone.now()
    last_seen = dict(WorkerHeartbeat.objects.values_list("worker_id", "seen_at"))
    reclaimed = 0
    for task in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        worker_id = task.worker_ids[-1] if task.worker_ids else None
        seen_at = last_seen.get(worker_id)
        if seen_at is not None and seen_at >= now - lease():
            continue
        if seen_at is None and task.started_at and task.started_at >= now - orphan_age():
            continue
        same_claim = DBTaskResult.objects.filter(
            pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at
        )
        if len(task.worker_ids) >= MAX_CLAIMS:
            changed = same_claim.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{__name__}.AbandonedTask",
                traceback=f"Its worker died {len(task.worker_ids)} times while running it.",
            )
            logger.error("Task %s failed: its worker died %s times.", task.pk, MAX_CLAIMS)
        else:
            changed = same_claim.update(status=TaskResultStatus.READY, started_at=None)
            logger.warning("Task %s of dead worker %s is back in the queue.", task.pk, worker_id)
        reclaimed += changed
    return reclaimed


class Heartbeat(threading.Thread):
    """Records every few seconds that the worker lives, and reclaims the tasks
    of workers that do not. A daemon thread: it dies with its process, which is
    the point."""

    daemon = True

    def __init__(self, worker_id):
        super().__init__(name=f"heartbeat-{worker_id}")
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(heartbeat_interval()):
            self.beat()
        self.forget()

    def beat(self):
        close_old_connections()
        try:
            WorkerHeartbeat.objects.update_or_create(
                worker_id=self.worker_id,
                defaults={
                    "seen_at": timezone.now(),
                    "host": socket.gethostname()[:100],
                    "pid": os.getpid(),
                },
            )
            reclaim_stale_tasks()
            WorkerHeartbeat.objects.filter(
                seen_at__lt=timezone.now() - datetime.timedelta(days=1)
            ).delete()
        except CONNECTION_ERRORS as error:
            logger.warning("Heartbeat of worker %s missed: %s", self.worker_id, error)
            drop_connection()
        close_old_connections()

    def forget(self):
        with contextlib.suppress(*CONNECTION_ERRORS):  # else the row ages out of the lease
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        connection.close()


def drop_connection():
    """Close this thread's database connection whatever state it is in; the
    next query opens a new one."""
    try:
        connection.close()
    except CONNECTION_ERRORS:
        connection.connection = None


class ResilientWorker(Worker):
    """django-tasks-db's worker loop, restarted after a lost connection."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.current_task_id = None

    def run(self):
        heartbeat = Heartbeat(self.worker_id)
        # The first beat is on record before any task is claimed: a worker that
        # dies in its first task is then known, and judged by the lease.
        heartbeat.beat()
        heartbeat.start()
        failures = 0
        try:
            while self.running:
                try:
                    self.hand_back_current_task()
                    return super().run()
                except CONNECTION_ERRORS as error:
                    delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                    failures += 1
                    logger.warning(
                        "Worker %s lost the database (%s); trying again in %s s.",
                        self.worker_id,
                        error,
                        delay,
                    )
                    drop_connection()
                    time.sleep(delay)
        finally:
            heartbeat.stopped.set()

    def run_task(self, db_task_result):
        self.current_task_id = db_task_result.pk
        super().run_task(db_task_result)
        self.current_task_id = None

    def hand_back_current_task(self):
        """The task interrupted by a lost connection runs again."""
        if self.current_task_id is None:
            return
        DBTaskResult.objects.filter(
            pk=self.current_task_id, status=TaskResultStatus.RUNNING
        ).update(status=TaskResultStatus.READY, started_at=None)
        logger.info("Task %s is back in the queue.", self.current_task_id)
        self.current_task_id = None

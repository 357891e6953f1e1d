"""A real task worker process for the fault tests, and SMS gateways that kill it.

    python -m tests.counseling.fault_worker <sms backend class> <outbox file> [serve]

runs `manage.py db_worker --batch` on the database in DATABASE_URL with the
database task queue and the given SMS backend; delivered texts are appended to
the outbox file, one per line, so the test can count them after the process
has died. With `serve` the worker keeps running, as in production, with a
heartbeat every half second and a lease of LEASE seconds, until it is stopped."""

import faulthandler
import os
import signal
import sys

OUTBOX = "FAULT_TEST_OUTBOX"
LEASE = 3


class FileBackend:
    """The gateway accepts the text: it lands in the outbox file."""

    def send(self, mobile, text):
        with open(os.environ[OUTBOX], "a", encoding="utf-8") as outbox:
            outbox.write(f"{mobile}\t{text}\n")
            outbox.flush()
            os.fsync(outbox.fileno())


class DiesWhileSending:
    """The worker is killed while it waits for the gateway: nothing was sent."""

    def send(self, mobile, text):
        os._exit(137)


class DiesAfterSending(FileBackend):
    """The worker is killed just after the gateway accepted the text, before the
    message is marked sent."""

    def send(self, mobile, text):
        super().send(mobile, text)
        os._exit(137)


def main():
    backend, outbox, *mode = sys.argv[1:]
    os.environ[OUTBOX] = outbox
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    serve = mode == ["serve"]
    if serve:  # SIGUSR1 prints every thread's stack to the log, to explain a hang
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    with override_settings(
        SMS_BACKEND=backend,
        TASKS=tasks,
        TASK_WORKER_HEARTBEAT=0.5,
        TASK_WORKER_LEASE=LEASE,
    ):
        options = ["--no-startup-delay", "--interval=0.2" if serve else "--interval=0"]
        verbosity = 2 if serve else 0  # a serving worker's log helps explain a failure
        call_command("db_worker", *options, *([] if serve else ["--batch"]), verbosity=verbosity)


if __name__ == "__main__":
    main()

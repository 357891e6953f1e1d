"""A real task worker process for the fault tests, and SMS gateways that kill it.

    python -m tests.counseling.fault_worker <sms backend class> <outbox file>

runs `manage.py db_worker --batch` on the database in DATABASE_URL with the
database task queue and the given SMS backend; delivered texts are appended to
the outbox file, one per line, so the test can count them after the process
has died."""

import os
import sys

OUTBOX = "FAULT_TEST_OUTBOX"


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
    backend, outbox = sys.argv[1], sys.argv[2]
    os.environ[OUTBOX] = outbox
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with override_settings(COUNSELING_SMS_BACKEND=backend, TASKS=tasks):
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval=0", verbosity=0)


if __name__ == "__main__":
    main()

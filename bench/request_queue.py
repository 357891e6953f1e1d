"""Time the residents' requests work-order queue in the admin.

    python bench/request_queue.py [--requests 10000] [--runs 15]

Builds the demo organisation and categories, adds `--requests` requests over
fourteen months with their trails (bench/request_data.py: most closed, the
newest still being handled, about one in fifty stalled and overdue), then
renders queue pages in a warm process with the Django test client, as a 管区
head (a fifth of the requests) and as the 街道's supervisor (all of them): the
first page, a deep page, the overdue filter and a unit filter. Prints
queries, CPU milliseconds and wall milliseconds per page (min and median).
Uses a throwaway SQLite file unless DATABASE_URL names a database (give it a
scratch PostgreSQL database: the benchmark writes to it).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
SCRATCH = tempfile.TemporaryDirectory(prefix="jjl-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SCRATCH.name}/bench.sqlite3")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

# Each page writes an access-log line; the numbers are what this prints.
logging.getLogger("portal.audit").disabled = True

import request_data  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from portal.service_requests.models import ServiceRequest, Unit  # noqa: E402

QUEUE = "/admin/service_requests/requests/"


def build(count):
    call_command("migrate", verbosity=0)
    request_data.seed_organisation()
    started = time.perf_counter()
    request_data.add_requests(count)
    return time.perf_counter() - started


def measure(client, url, runs):
    client.get(url)
    cpu, wall = [], []
    for _run in range(runs):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        response = client.get(url)
        cpu.append((time.process_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries), min(cpu), statistics.median(cpu), min(wall), statistics.median(wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    seconds = build(args.requests)
    print(
        f"{connection.vendor}: {ServiceRequest.objects.count()} requests "
        f"(built in {seconds:.1f} s)\n"
    )
    users = get_user_model().objects
    first_district = Unit.objects.get(depth=2, name="第一管区")
    pages = [
        ("first page", ""),
        ("page 20", "?p=20"),
        ("overdue", "?overdue=true"),
        ("one 社区", f"?unit={first_district.get_children().first().pk}"),
    ]
    print(
        f"{'who':<12} {'page':<10} {'rows':>7} {'queries':>7} {'cpu min':>8} "
        f"{'cpu med':>8} {'wall min':>9} {'wall med':>9}"
    )
    for who, username in (("管区 head", "district1"), ("supervisor", "supervisor")):
        user = users.get(username=username)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        visible = ServiceRequest.objects.visible_to(user).count()
        for label, query in pages:
            queries, cpu_min, cpu_med, wall_min, wall_med = measure(
                client, QUEUE + query, args.runs
            )
            print(
                f"{who:<12} {label:<10} {visible:>7} {queries:>7} {cpu_min:>7.1f}ms "
                f"{cpu_med:>7.1f}ms {wall_min:>8.1f}ms {wall_med:>8.1f}ms"
            )


if __name__ == "__main__":
    main()

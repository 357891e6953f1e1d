"""Time 回应公开 in a warm process: the listing, a deep page, a filter, one
answer, the RSS feed, the figures page and the figures' computation alone, at
one or more numbers of residents' requests.

    python bench/answers.py [--requests 1000,100000] [--runs 15] [--explain]

For each number in turn it adds requests with their trails up to it
(bench/request_data.py) to the demo site (bench/dataset.py), with production
settings, in a throwaway SQLite file unless DATABASE_URL names a scratch
database. Then, with the Django test client and the page cache off, it
requests each page once to warm up and `--runs` times timed, and prints the
queries of one more request, the CPU and wall milliseconds (min and median)
and the slowest of those queries, run again on its own. The figures page is
timed twice: with the cache cleared before each request, so it computes the
figures as the first visitor after their ten minutes does, and with the
figures kept. `--explain` prints the slowest query of each page with the
database's plan for it.
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


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        default="1000,100000",
        help="numbers of requests to measure at, ascending (default 1000,100000)",
    )
    parser.add_argument("--runs", type=int, default=15, help="timed requests per page")
    parser.add_argument(
        "--explain", action="store_true", help="print each page's slowest query and its plan"
    )
    return parser.parse_args()


class Measured:
    def __init__(self, queries, slowest, cpu, wall):
        self.queries = len(queries)
        self.slowest_sql, self.slowest_ms = slowest
        self.cpu_min, self.cpu_median = min(cpu), statistics.median(cpu)
        self.wall_min, self.wall_median = min(wall), statistics.median(wall)


def measure(call, runs, before=None):
    """Call once to warm up, `runs` times timed, and once counting queries;
    `before` (if given) runs ahead of each call, untimed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = before or (lambda: None)

    before()
    call()
    cpu, wall = [], []
    for _run in range(runs):
        before()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        call()
        cpu.append((time.process_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
    before()
    with CaptureQueriesContext(connection) as captured:
        call()
    statements = [query["sql"] for query in captured if query["sql"].startswith("SELECT")]
    slowest = max(((sql, database_ms(sql)) for sql in statements), key=lambda timed: timed[1])
    return Measured(captured, slowest, cpu, wall)


def database_ms(sql):
    """The milliseconds the database takes to run `sql` and hand over every
    row: SQLite runs a query as its rows are fetched, so the time Django
    records for the statement alone leaves most of it out."""
    from django.db import connection

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        return 1000 * (time.perf_counter() - started)


def subjects():
    """(label, what to call, what to do before each call) for each page."""
    from django.conf import settings
    from django.core.cache import caches
    from django.db.models import Count
    from django.db.models.functions import TruncMonth
    from django.test import Client
    from django.utils import timezone

    from portal.service_requests import figures
    from portal.service_requests.models import AnswersPage, PublishedAnswer

    client = Client(HTTP_HOST="127.0.0.1")
    page = AnswersPage.objects.live().get()
    today = timezone.localdate()
    newest = PublishedAnswer.objects.order_by("-published_at", "-pk").first()
    # The month with the most noise answers, so the filter finds some at any size.
    month = (
        PublishedAnswer.objects.filter(request__category__code="noise")
        .annotate(month=TruncMonth("request__received_at"))
        .values("month")
        .annotate(answers=Count("pk"))
        .order_by("-answers", "month")
        .first()["month"]
    )

    def get(url):
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return call

    def clear():
        caches[settings.PAGE_CACHE_ALIAS].clear()

    figures_url = page.url + page.reverse_subpage("figures")
    return [
        ("listing", get(page.url), None),
        ("listing ?page=50", get(f"{page.url}?page=50"), None),
        (
            "listing ?category=noise&month=…",
            get(f"{page.url}?category=noise&month={month:%Y-%m}"),
            None,
        ),
        ("one answer", get(page.answer_url(newest)), None),
        ("feed", get(page.feed_url()), None),
        ("figures, cache cleared", get(figures_url), clear),
        ("figures, kept", get(figures_url), None),
        ("figures.report() alone", lambda: figures.report(today), None),
    ]


def explain(sql):
    from django.db import connection

    command = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {sql}")
        return "\n".join("    " + " ".join(str(part) for part in row) for row in cursor.fetchall())


def main():
    options = parse_options()
    sizes = [int(size) for size in options.requests.split(",")]
    scratch = tempfile.TemporaryDirectory(prefix="jjl-answers-")
    workdir = Path(scratch.name)
    sys.path[:0] = [str(BENCH), str(ROOT)]
    import load
    from pages import environment

    env = environment(workdir, None)
    os.environ.update(env)
    load.ensure_static(ROOT, env)  # before setup: the storage reads its manifest once

    import django

    django.setup()
    import logging

    # Nothing here is worth a line on the console but the numbers.
    logging.getLogger("portal").setLevel(logging.ERROR)
    import dataset
    from django.db import connection
    from django.test.utils import override_settings

    from portal.service_requests.models import PublishedAnswer, RequestEvent, ServiceRequest

    results = {}
    for size in sizes:
        print(f"\n{connection.vendor}: building {size} requests")
        dataset.build(0, 0, size)
        print(
            f"{ServiceRequest.objects.count()} requests, {RequestEvent.objects.count()} trail"
            f" lines, {PublishedAnswer.objects.count()} published\n"
        )
        print(
            f"{'page':<40} {'queries':>7} {'cpu min':>9} {'cpu med':>9} {'wall min':>9}"
            f" {'wall med':>9} {'slowest query':>13}"
        )
        with override_settings(PAGE_CACHE_ENABLED=False):
            for label, call, before in subjects():
                measured = measure(call, options.runs, before)
                results[label, size] = measured
                print(
                    f"{label:<40} {measured.queries:>7} {measured.cpu_min:>7.1f}ms"
                    f" {measured.cpu_median:>7.1f}ms {measured.wall_min:>7.1f}ms"
                    f" {measured.wall_median:>7.1f}ms {measured.slowest_ms:>11.1f}ms"
                )
                if options.explain:
                    print(f"  {measured.slowest_sql}\n{explain(measured.slowest_sql)}")
    print("\n" + markdown(results, sizes))
    scratch.cleanup()


def markdown(results, sizes):
    labels = list(dict.fromkeys(label for label, _size in results))
    head = ["page"] + [f"queries at {size:,}" for size in sizes]
    head += [f"CPU min / median at {size:,}" for size in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in labels:
        row = [label] + [str(results[label, size].queries) for size in sizes]
        row += [
            f"{results[label, size].cpu_min:.1f} / {results[label, size].cpu_median:.1f} ms"
            for size in sizes
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

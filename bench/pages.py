"""Load the public pages under gunicorn with production settings and compare
each page's throughput with the static stylesheet's in the same run.

    python bench/pages.py [--news 2000] [--talks 50] [--requests 0] [--duration 10]
        [--connections 8]

Builds the demo site plus `--news` news items (with categories, tags and
featured images), `--talks` talks and `--requests` residents' requests with
their trails (bench/request_data.py; with any, the load includes 回应公开's
listing and figures) in a throwaway SQLite file (or in DATABASE_URL: a scratch
database, the benchmark writes to it), rebuilds the search index, counts each
page's queries in-process with the page cache off, then serves the site with
gunicorn (2 sync workers) on 127.0.0.1 twice, page cache off and on, and loads
every page with wrk for `--duration` seconds.
The cache is a redis-server of the benchmark's own, as in production
(`--no-redis`: each worker's local memory).

Each page's cost is the CPU the server spends per request (gunicorn's master and
workers, and redis-server), in ms and as a multiple of the static stylesheet's
in the same run. Prints one table per run and writes them as markdown to `--output`.
"""

import argparse
import contextlib
import datetime
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=int, default=2000, help="news items to add (default 2000)")
    parser.add_argument("--talks", type=int, default=50, help="talks to add (default 50)")
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        help="residents' requests to add; with any, 回应公开's pages are loaded too (default 0)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the database, media and static files here and reuse them next time"
        " (default: a temporary folder removed at the end)",
    )
    parser.add_argument("--output", type=Path, help="markdown file for the tables")
    parser.add_argument(
        "--first-renders",
        type=int,
        default=5,
        help="publishes per page to time the first request after (page cache on; 0: none)",
    )
    parser.add_argument(
        "--runs", default="off,on", help="page cache settings to run, in order (default off,on)"
    )
    parser.add_argument(
        "--no-redis",
        action="store_true",
        help="cache in each worker's memory instead of a redis-server (production uses Redis)",
    )
    return parser.parse_args()


def environment(workdir, redis_url):
    """The production environment of every process the benchmark starts."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
        "SECRET_KEY": "benchmark-only-not-secret",
        # Fernet keys for the benchmark's throwaway database only (base64 of 32 bytes).
        "BOOKING_DATA_KEY": "YmVuY2htYXJrLW9ubHktYm9va2luZy1kYXRhLWtleSE=",
        "BOOKING_LOOKUP_KEY": "benchmark-only-lookup-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        # Plain HTTP on the loopback: the cookies may not ask for HTTPS.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3"),
        "MEDIA_ROOT": str(workdir / "media"),
        "BENCH_STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
        # Mail goes to the console; texts (the soak's verification codes) to a file
        # the load reads (bench/phone_outbox.py).
        "ALLOW_CONSOLE_MESSAGES": "true",
        "SMS_BACKEND": "phone_outbox.FileBackend",
        "BENCH_SMS_OUTBOX": str(workdir / "sms.txt"),
        "WAGTAILADMIN_BASE_URL": "http://127.0.0.1",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        # Each worker keeps its own cache: nothing is published during a run, so
        # no worker can serve another's stale copy. Production needs REDIS_URL.
        env["SINGLE_PROCESS"] = "true"
    environ = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    return {**environ, **env}


def main():
    options = parse_options()
    scratch = None
    if options.workdir:
        workdir = options.workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        scratch = tempfile.TemporaryDirectory(prefix="jjl-pages-")
        workdir = Path(scratch.name)
    sys.path[:0] = [str(BENCH), str(ROOT)]
    import load

    try:
        with contextlib.ExitStack() as stack:
            redis_url, redis_group = None, None
            if not options.no_redis:
                if not shutil.which("redis-server"):
                    sys.exit("redis-server not found (Debian: redis-server); or pass --no-redis")
                redis_url, redis_group = stack.enter_context(load.redis_server(workdir))
            env = environment(workdir, redis_url)
            os.environ.clear()
            os.environ.update(env)
            return benchmark(options, workdir, env, redis_group)
    finally:
        if scratch:
            shutil.rmtree(scratch.name, ignore_errors=True)


def benchmark(options, workdir, env, redis_group):
    import load

    load.ensure_static(ROOT, env)  # before setup: the storage reads its manifest once

    import django

    django.setup()
    import dataset
    from django.db import connection

    print(f"数据库:{connection.vendor}({env['DATABASE_URL']})")
    print("构建数据:")
    build_seconds = dataset.build(options.news, options.talks, options.requests)
    pages = pages_to_load(with_answers=options.requests > 0)
    print("统计每页查询次数(进程内,页面缓存关闭,预热后)…")
    queries = count_queries(pages)

    cache = "Redis(本基准自己的 redis-server)" if redis_group else "各 worker 的本地内存"
    sections = [header(options, build_seconds, connection.vendor, load.tool_version(), cache)]
    for run in options.runs.split(","):
        cached = run.strip() == "on"
        title = "页面缓存开启" if cached else "页面缓存关闭"
        print(f"\n{title}:gunicorn {load.WORKERS} 个 sync worker,{load.tool_version()}")
        run_env = {**env, "PAGE_CACHE_ENABLED": "true" if cached else "false"}
        log_path = workdir / f"gunicorn-{run}.log"
        with load.gunicorn(ROOT, run_env, log_path) as (port, group):
            groups = [group] + ([redis_group] if redis_group else [])
            rows = load_pages(load, port, groups, pages, queries, options)
            table = markdown_table(rows)
            print(table)
            sections.append(f"## {title}\n\n{table}")
            if cached and options.first_renders:
                print("\n发布后第一次请求(整页缓存开启)…")
                table = markdown_table(first_renders(load, port, pages, options))
                print(table)
                sections.append(f"## 发布后第一次请求\n\n{FIRST_RENDERS}\n\n{table}")

    name = f"pages-{options.news}-{options.talks}"
    if options.requests:
        name += f"-{options.requests}"
    output = options.output or BENCH / "results" / f"{name}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n\n".join(sections) + "\n")
    print(f"\n已写入 {output}")
    return 0


def pages_to_load(with_answers=False):
    """(label, address) of each page, the static stylesheet first; with
    `with_answers`, 回应公开's listing, a deep page of it and its figures."""
    from django.templatetags.static import static
    from django.urls import reverse

    from counseling.availability import Availability
    from counseling.models import Room
    from portal.campaigns.models import CampaignPage
    from portal.news.models import NewsIndexPage, NewsPage
    from portal.service_requests.models import AnswersPage
    from portal.talks.models import TalkIndexPage
    from portal.talks.queries import public_talks

    news_index = NewsIndexPage.objects.get().url
    room = Room.objects.for_listing().first()
    day = Availability([room]).next_free_day(room)
    article = NewsPage.objects.live().exclude(featured_image=None).order_by("-date", "-pk").first()
    pages = [
        ("static: site.css", static("css/site.css")),
        ("home", "/"),
        ("news index", news_index),
        ("news index ?page=50", f"{news_index}?page=50"),
        ("news article", article.url),
        ("talk index", TalkIndexPage.objects.get().url),
        ("talk page", public_talks().exclude(media=None).first().url),
        ("campaign page", CampaignPage.objects.live().public().first().url),
        ("search ?q=心理", f"/search/?q={quote('心理')}"),
    ]
    if with_answers:
        answers = AnswersPage.objects.live().get().url
        pages += [
            ("回应公开 listing", answers),
            ("回应公开 ?page=50", f"{answers}?page=50"),
            # Computed at most once in ten minutes and kept (answers.current_report).
            ("回应公开 figures", f"{answers}shuju/"),
        ]
    return pages + [
        # Never page-cached: they show free times.
        ("booking: rooms", reverse("counseling:rooms")),
        ("booking: a room's days", reverse("counseling:days", args=[room.pk])),
        ("booking: a day's times", reverse("counseling:slots", args=[room.pk, day])),
    ]


def count_queries(pages):
    """Queries per page on the second request in one warm process, page
    cache off, so renditions and site settings are already cached."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST="127.0.0.1")
    counts = {}
    with override_settings(PAGE_CACHE_ENABLED=False):
        for _label, url in pages:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            counts[url] = len(captured)
    return counts


def load_pages(load, port, groups, pages, queries, options):
    """Load every page in turn, counting the CPU the processes in ``groups``
    spend. The stylesheet is loaded first and again last, and pages are
    compared with the mean of both, so a machine that gets busier or quieter
    during the run skews the ratios less."""
    results = {}
    for label, url in pages + [("static: site.css (again)", pages[0][1])]:
        try:
            status, size, _cache_state = load.fetch(port, url)
        except OSError as error:  # a page slower than the client's timeout
            print(f"  {label}: {error!r}")
            results[label] = (url, "–", f"failed: {error!r}", None)
            continue
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")
        load.run(port, url, 1, options.connections)  # warm every worker
        cache_state = load.fetch(port, url)[2] or "–"
        cpu_before = sum(load.cpu_seconds(group) for group in groups)
        result = load.run(port, url, options.duration, options.connections)
        cpu = sum(load.cpu_seconds(group) for group in groups) - cpu_before
        result.cpu_ms = 1000 * cpu / max(result.requests, 1)
        results[label] = (url, size, cache_state, result)
        print(f"  {label}: {result.requests_per_second:.1f} req/s, {result.cpu_ms:.2f} CPU-ms")
    static = (results[pages[0][0]][3], results["static: site.css (again)"][3])
    static_rate = sum(result.requests_per_second for result in static) / 2
    static_cpu = sum(result.cpu_ms for result in static) / 2
    rows = []
    for label, (url, size, cache_state, result) in results.items():
        row = {"page": label, "CPU-ms/req": "–", "× static CPU": "–"}
        row |= {"req/s": "–", "p50": "–", "p99": "–", "queries": str(queries[url])}
        row |= {"bytes": str(size), "% of static": "–", "page cache": cache_state, "errors": "–"}
        if result is not None:
            row |= {
                "CPU-ms/req": f"{result.cpu_ms:.2f}",
                "× static CPU": f"{result.cpu_ms / static_cpu:.1f}",
                "req/s": f"{result.requests_per_second:.1f}",
                "p50": f"{result.p50_ms:.1f} ms",
                "p99": f"{result.p99_ms:.1f} ms",
                "% of static": f"{100 * result.requests_per_second / static_rate:.1f} %",
                "errors": str(result.errors),
            }
        rows.append(row)
    return rows


FIRST_RENDERS = (
    "每页先不计时地发布并请求四次,让两个 worker 多半都渲染过这一页(哪个 worker 接连接由内核决定;模板在每个进程第一次用到时编译,"
    "那是重启后的代价,不是发布的代价)。然后重复:先请求一次让它进入缓存,再在基准进程里发布一条"
    "新闻(保存修订并发布,与编辑在后台发布相同),然后计时发布后的第一次请求:整页缓存、片段、"
    "卡片和查找结果都已随内容代数失效。"
    "墙钟时间在空闲机器上约等于这一次请求的 CPU 时间(/proc 的 CPU 计数以 10 ms 为单位,"
    "计不了单个请求)。取中位数和最大值。"
)


# Untimed renders after a publish before the timed ones, so that each worker has
# compiled the page's templates (what the first request after a restart pays).
WARM_RENDERS = 4


def first_renders(load, port, pages, options):
    """The first request for each page after a publish, when every layer the
    generation keys has to be refilled: wall time, median and worst of
    ``options.first_renders``."""
    from portal.news.models import NewsPage

    article = NewsPage.objects.live().order_by("-date", "-pk").first()
    rows = []
    for label, url in pages[1:]:
        for _ in range(WARM_RENDERS):
            article.save_revision().publish()
            load.fetch(port, url)
        walls = []
        for _ in range(options.first_renders):
            load.fetch(port, url)
            article.save_revision().publish()
            started = time.perf_counter()
            status, _size, cache_state = load.fetch(port, url)
            walls.append(1000 * (time.perf_counter() - started))
            if status != 200 or cache_state == "hit":
                raise RuntimeError(f"{url} after a publish: {status} {cache_state}")
        rows.append(
            {
                "page": label,
                "wall ms (median)": f"{statistics.median(walls):.1f}",
                "wall ms (max)": f"{max(walls):.1f}",
            }
        )
        print(f"  {label}: {statistics.median(walls):.1f} ms")
    return rows


def markdown_table(rows):
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row[column] for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def header(options, build_seconds, vendor, tool, cache):
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in build_seconds.items())
    return (
        f"# 页面基准测试 {datetime.date.today()}\n\n"
        f"- 数据:演示站点 + {options.news} 条新闻、{options.talks} 个讲座、"
        f"{options.requests} 条居民诉求;{vendor}\n"
        f"- 构建耗时:{steps}\n"
        f"- 机器:{os.cpu_count()} 核,Python {platform.python_version()},"
        f"gunicorn 2 个 sync worker,生产配置,缓存:{cache}\n"
        f"- 负载:{tool},2 线程,{options.connections} 个连接,每页 {options.duration} 秒\n"
        f"- 查询次数:进程内 Django 测试客户端,页面缓存关闭,预热后第二次请求\n"
        f"- CPU-ms/req:负载期间 gunicorn 主进程和 worker(以及 redis-server)用掉的 CPU 时间除以请求数;"
        f"× static CPU 与 % of static 都与同一轮开头和结尾两次测得的样式表的平均值相比"
    )


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"总耗时 {time.monotonic() - started:.0f} s")
    sys.exit(code)

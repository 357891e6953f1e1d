"""Soak the site: a mixed load of public pages and booking submissions against
gunicorn with production settings for a minute, watching each worker's memory.

    python bench/soak.py [--duration 60] [--connections 32] [--booking-share 0.1]

Builds the page benchmark's dataset (bench/dataset.py: demo site, six rooms
with schedules, `--news` news items and `--talks` talks) in a throwaway SQLite
file (or DATABASE_URL: a scratch database, the soak writes bookings to it),
serves it with gunicorn (bench/load.py: 2 sync workers, production settings,
127.0.0.1 only), warms every page, then runs `--connections` clients for
`--duration` seconds. Each client loops: with probability `--booking-share` a
new visitor books a random free slot (GET the form, POST it with its CSRF
token, from its own X-Real-IP and mobile so the attempt limits do not apply,
then type the SMS code, read from the text file the site writes to), otherwise
it GETs a random public page. Slots run out and collide: a booking
the site refuses with its message (400) is an expected refusal, counted apart
from errors. Every few seconds it reads VmRSS of each gunicorn worker from
/proc/<pid>/status. It prints totals, errors, p50/p99 per kind of request and
the memory samples, and whether memory stayed flat (mean of the last third of
samples against the first third). Exits 1 if there was any error.

Confirmation messages are queued with django-tasks' database backend, as in
production; no task worker runs, so they stay queued.

Set REDIS_URL (a Redis database of its own) to share the cache between
workers as production does; otherwise each worker has a local-memory cache.
"""

import argparse
import contextlib
import http.client
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

import phone_outbox  # bench/, next to this script

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HOST = "127.0.0.1"
TASK_BACKEND = "django_tasks_db.DatabaseBackend"
FLAT_GROWTH = 0.05
# As long as nginx waits for gunicorn in docs/deploy.md (proxy_read_timeout);
# a slower answer is an error.
CLIENT_TIMEOUT = 60  # memory is "flat" if the last third is within 5 % of the first
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
VERIFY = "/counseling/verify/"
OUTBOX = None  # the file the site writes texts to, set in main()


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--booking-share", type=float, default=0.1, help="share of loops that book (default 0.1)"
    )
    parser.add_argument("--sample-every", type=float, default=5, help="seconds between RSS samples")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of unmeasured load first")
    parser.add_argument("--news", type=int, default=2000, help="news items to add (default 2000)")
    parser.add_argument("--talks", type=int, default=50, help="talks to add (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument(
        "--gunicorn-args",
        default="",
        help='more gunicorn options, e.g. "--max-requests 2000 --max-requests-jitter 200"',
    )
    return parser.parse_args()


class Tally:
    """Outcomes and latencies by kind of request, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.outcomes = Counter()
        self.error_examples = []

    def record(self, kind, milliseconds, outcome, detail=""):
        with self.lock:
            self.latencies[kind].append(milliseconds)
            self.outcomes[outcome] += 1
            if outcome == "error" and len(self.error_examples) < 10:
                self.error_examples.append(f"{kind}: {detail}")


def request(port, method, url, headers=None, body=None):
    """One request on a new connection (sync workers close it anyway):
    status, headers, body and milliseconds taken."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
    try:
        connection.request(method, url, body=body, headers=headers or {})
        response = connection.getresponse()
        content = response.read()
        return response.status, response.getheaders(), content, elapsed_ms(started)
    finally:
        connection.close()


def elapsed_ms(started):
    return (time.perf_counter() - started) * 1000


def cookie(headers, name):
    for header, value in headers:
        if header.lower() == "set-cookie" and value.startswith(f"{name}="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


class Visitors:
    """Distinct visitors for booking submissions: an address reported in
    X-Real-IP (gunicorn sees nginx's address, as in production) and a mobile."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            self.count += 1
            number = self.count
        address = f"198.18.{number // 250 % 250}.{number % 250 + 1}"
        return address, f"139{number:08d}"


def book(port, slot_url, visitor, tally):
    """GET the booking form for one slot, then POST it as a new visitor."""
    address, mobile = visitor
    headers = {"X-Real-IP": address}
    try:
        status, response_headers, content, ms = request(port, "GET", slot_url, headers)
    except OSError as error:
        tally.record("booking form", 0, "error", repr(error))
        return
    token = CSRF_FIELD.search(content)
    csrf_cookie = cookie(response_headers, "csrftoken")
    if status != 200:
        tally.record("booking form", ms, "error", f"{slot_url} answered {status}")
        return
    if token is None or csrf_cookie is None:  # the slot was taken: no form, alternatives shown
        tally.record("booking form", ms, "slot gone before the form")
        return
    tally.record("booking form", ms, "ok")
    form = {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "name": "压测居民",
        "mobile": mobile,
        "email": "",
        "visit_type": "first",
        "note": "",
        "website": "",
    }
    headers |= {
        "Cookie": f"csrftoken={csrf_cookie}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    try:
        status, response_headers, content, ms = request(
            port, "POST", slot_url, headers, urlencode(form)
        )
    except OSError as error:
        tally.record("booking submit", 0, "error", repr(error))
        return
    session = cookie(response_headers, "sessionid")
    if status != 302 or dict(response_headers).get("Location") != VERIFY or session is None:
        tally.record("booking submit", ms, "error", f"POST {slot_url} answered {status}")
        return
    tally.record("booking submit", ms, "code sent")
    code = phone_outbox.latest_code(OUTBOX, mobile)
    if code is None:
        tally.record("booking code", 0, "error", "no code reached the phone")
        return
    headers["Cookie"] += f"; sessionid={session}"
    body = urlencode({"csrfmiddlewaretoken": form["csrfmiddlewaretoken"], "code": code})
    try:
        status, _headers, content, ms = request(port, "POST", VERIFY, headers, body)
    except OSError as error:
        tally.record("booking code", 0, "error", repr(error))
        return
    if status == 302:
        tally.record("booking code", ms, "booked")
    elif status == 400 and "刚刚被别人预约".encode() in content:
        tally.record("booking code", ms, "refused: slot just taken")
    elif status == 400 and "选择其他日期".encode() in content:  # shown only with a refusal
        tally.record("booking code", ms, "refused: slot no longer free")
    else:
        tally.record("booking code", ms, "error", f"POST {VERIFY} answered {status}")


def visit(port, url, tally):
    try:
        status, _headers, _content, ms = request(port, "GET", url)
    except OSError as error:
        tally.record("page", 0, "error", repr(error))
        return
    if status < 400:
        tally.record("page", ms, "ok")
    else:
        tally.record("page", ms, "error", f"{url} answered {status}")


def run_clients(port, pages, slot_urls, options, seconds, tally):
    deadline = time.monotonic() + seconds
    visitors = Visitors()

    def client(seed):
        chooser = random.Random(seed)
        while time.monotonic() < deadline:
            if chooser.random() < options.booking_share:
                book(port, chooser.choice(slot_urls), visitors.next(), tally)
            else:
                visit(port, chooser.choice(pages), tally)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(options.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def worker_pids(master_pid):
    """gunicorn's workers: the processes whose parent is the master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master_pid:
                pids.append(int(entry.name))
    return sorted(pids)


def rss_kib(pid):
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def sample_memory(master_pid, every, stop, samples):
    started = time.monotonic()
    while not stop.is_set():
        reading = {pid: rss_kib(pid) for pid in worker_pids(master_pid)}
        samples.append((time.monotonic() - started, reading))
        stop.wait(every)


def memory_report(samples):
    """Lines describing each worker's RSS and whether it stayed flat."""
    pids = sorted({pid for _t, reading in samples for pid in reading})
    lines = ["| 秒 | " + " | ".join(f"worker {pid} RSS" for pid in pids) + " |"]
    lines.append("|---|" + "---|" * len(pids))
    for seconds, reading in samples:
        cells = [f"{reading[pid] / 1024:.1f} MB" if reading.get(pid) else "–" for pid in pids]
        lines.append(f"| {seconds:.0f} | " + " | ".join(cells) + " |")
    verdicts = []
    for pid in pids:
        values = [reading[pid] for _t, reading in samples if reading.get(pid)]
        third = max(1, len(values) // 3)
        first, last = statistics.mean(values[:third]), statistics.mean(values[-third:])
        growth = (last - first) / first
        flat = "平稳" if growth <= FLAT_GROWTH else "增长"
        verdicts.append(
            f"- worker {pid}:前三分之一均值 {first / 1024:.1f} MB,后三分之一均值 "
            f"{last / 1024:.1f} MB,变化 {growth:+.1%} → {flat}"
        )
    flat_overall = all("平稳" in verdict for verdict in verdicts)
    return lines, verdicts, flat_overall


def percentile_table(tally):
    lines = ["| 请求 | 次数 | p50 | p99 | 最长 | 超过 5 秒 |", "|---|---|---|---|---|---|"]
    everything = []
    for kind, values in sorted(tally.latencies.items()):
        measured = [value for value in values if value > 0]
        everything += measured
        lines.append(f"| {kind} | {len(values)} | {row(measured)} |")
    lines.append(f"| 全部 | {len(everything)} | {row(everything)} |")
    return lines


def row(values):
    """p50, p99, the longest and how many took over 5 s: stalls show in the last two."""
    longest = f"{max(values) / 1000:.1f} s" if values else "–"
    slow = sum(1 for value in values if value > 5000)
    return f"{p(values, 50)} | {p(values, 99)} | {longest} | {slow}"


def p(values, percentile):
    if len(values) < 2:
        return "–"
    return f"{statistics.quantiles(values, n=100)[percentile - 1]:.1f} ms"


def free_slot_urls():
    """The address of every bookable slot in every room, as residents reach them."""
    from counseling.availability import Availability
    from counseling.models import Room
    from counseling.views import _slot_url

    rooms = list(Room.objects.for_listing())
    availability = Availability(rooms)
    return [_slot_url(room, slot.start) for room in rooms for slot in availability.slots(room)]


def soak(options, workdir, env):
    import load
    import pages

    load.ensure_static(ROOT, env)

    import django

    django.setup()
    import dataset
    from django.db import connection

    cache = "Redis(REDIS_URL)" if env.get("REDIS_URL") else "各 worker 本地内存"
    print(f"数据库:{connection.vendor};缓存:{cache}")
    dataset.build(options.news, options.talks)
    page_urls = [url for _label, url in pages.pages_to_load()]
    slot_urls = free_slot_urls()
    print(f"公开页面 {len(page_urls)} 个;可预约时段 {len(slot_urls)} 个")
    connection.close()

    pid_file = workdir / "gunicorn.pid"
    # As in production, confirmations are queued for the task worker rather than
    # sent inside the request; no worker runs here, so they stay queued.
    gunicorn_args = f"--pid {pid_file} {options.gunicorn_args}".strip()
    run_env = {**env, "GUNICORN_CMD_ARGS": gunicorn_args, "TASK_BACKEND": TASK_BACKEND}
    load.WORKERS = options.workers
    with load.gunicorn(ROOT, run_env, workdir / "gunicorn-soak.log") as (port, _group):
        master_pid = int(pid_file.read_text())
        print(f"gunicorn {load.WORKERS} 个 sync worker {options.gunicorn_args},端口 {port};预热…")
        warm_every_worker(port, page_urls, options.connections)
        run_clients(port, page_urls, slot_urls, options, options.warmup, Tally())
        load_before = os.getloadavg()[0]

        samples, stop = [], threading.Event()
        sampler = threading.Thread(
            target=sample_memory, args=(master_pid, options.sample_every, stop, samples)
        )
        tally = Tally()
        print(f"负载 {options.duration} 秒,{options.connections} 个连接…")
        started = time.monotonic()
        sampler.start()
        try:
            run_clients(port, page_urls, slot_urls, options, options.duration, tally)
        finally:
            elapsed = time.monotonic() - started
            stop.set()
            sampler.join()
        samples.append((elapsed, {pid: rss_kib(pid) for pid in worker_pids(master_pid)}))
    return report(options, tally, samples, elapsed, (load_before, os.getloadavg()[0]))


def warm_every_worker(port, page_urls, connections):
    """Send each page `connections` times at once, so that every worker has
    built what it keeps for the process (jieba's dictionary on the first
    search, templates, renditions) before memory is measured."""
    for url in page_urls:
        threads = [
            threading.Thread(target=visit, args=(port, url, Tally())) for _ in range(connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def report(options, tally, samples, elapsed, load_average):
    total = sum(tally.outcomes.values())
    errors = tally.outcomes["error"]
    refusals = {k: v for k, v in tally.outcomes.items() if k.startswith(("refused", "slot gone"))}
    memory_lines, verdicts, flat = memory_report(samples)
    print(f"\n# 持续负载 {options.duration} 秒,{options.connections} 个连接\n")
    print(f"- 请求总数:{total}({total / elapsed:.1f} 次/秒)")
    print(
        f"- 机器负载(1 分钟平均,{os.cpu_count()} 核):开始 {load_average[0]:.1f},结束 {load_average[1]:.1f}"
    )
    print(f"- 错误(非 2xx/3xx 或连接失败,预期的预约拒绝除外):{errors}")
    print(f"- 预约成功:{tally.outcomes['booked']}")
    for outcome, count in sorted(refusals.items()):
        print(f"- 预期的拒绝({outcome}):{count}")
    for example in tally.error_examples:
        print(f"  错误示例:{example}")
    print()
    print("\n".join(percentile_table(tally)))
    print(f"\n每 {options.sample_every:g} 秒的 worker 常驻内存(VmRSS):\n")
    print("\n".join(memory_lines))
    print()
    print("\n".join(verdicts))
    print(f"\n内存:{'平稳' if flat else '有增长,见上'};错误:{'无' if errors == 0 else errors}")
    return 0 if errors == 0 else 1


def main():
    options = parse_options()
    sys.path[:0] = [str(BENCH), str(ROOT)]
    import pages

    with tempfile.TemporaryDirectory(prefix="jjl-soak-") as scratch:
        workdir = Path(scratch)
        env = pages.environment(workdir)
        os.environ.update(env)
        global OUTBOX
        OUTBOX = Path(env["BENCH_SMS_OUTBOX"])
        OUTBOX.touch()
        return soak(options, workdir, env)


if __name__ == "__main__":
    sys.exit(main())

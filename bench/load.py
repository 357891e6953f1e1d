"""Run the site under gunicorn on a loopback port and load one address at a
time with wrk (Debian's `wrk` package) or, without it, a small threaded
Python load generator."""

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
WORKERS = 2
THREADS = 2


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0


def cpu_seconds(group):
    """User and system CPU seconds used so far by every process in the process
    group ``group`` (gunicorn's master and workers, or a redis-server)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        # After the command: state, ppid, pgrp, …; utime and stime are fields 14 and 15.
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@contextlib.contextmanager
def redis_server(workdir):
    """A redis-server of the benchmark's own on a free loopback port, configured
    like production's (no persistence, a memory limit with LRU eviction); yields
    its URL and process group."""
    port = free_port()
    command = [
        "redis-server", "--port", str(port), "--bind", HOST, "--save", "",
        "--appendonly", "no", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru",
        "--dir", str(workdir),
    ]  # fmt: skip
    server = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield f"redis://{HOST}:{port}/0", server.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(root, env, log_path):
    """Serve the site with gunicorn (sync workers) on a free loopback port;
    yield the port and stop the server on the way out, even after an error."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "portal.wsgi:application",
        "--workers", str(WORKERS), "--worker-class", "sync",
        "--bind", f"{HOST}:{port}", "--chdir", str(root),
        "--error-logfile", str(log_path), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        wait_until_serving(server, port, log_path)
        yield port, server.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def wait_until_serving(server, port, log_path, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log_path}")
        with contextlib.suppress(OSError):
            fetch(port, "/robots.txt")
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {seconds} s; see {log_path}")


def fetch(port, url):
    """One GET: status, body length and the page cache header."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", url)
        response = connection.getresponse()
        body = response.read()
        return response.status, len(body), response.getheader("X-Page-Cache", "")
    finally:
        connection.close()


def tool():
    return "wrk" if shutil.which("wrk") else "python"


def run(port, url, seconds, connections):
    if tool() == "wrk":
        return run_wrk(port, url, seconds, connections)
    return run_python(port, url, seconds, connections)


def run_wrk(port, url, seconds, connections):
    output = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "30s",
            f"http://{HOST}:{port}{url}",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    return parse_wrk(output)


def parse_wrk(output):
    def latency(percentile):
        value, unit = re.search(
            rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\b", output, re.M
        ).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    if non_2xx := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(non_2xx.group(1))
    return Load(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=latency(50),
        p99_ms=latency(99),
        errors=errors,
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
    )


def run_python(port, url, seconds, connections):
    """The fallback: `connections` threads, each sending one request after the
    other on a new connection (gunicorn's sync workers close it anyway)."""
    deadline = time.monotonic() + seconds
    latencies, errors, lock = [], [0], threading.Lock()

    def client():
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok = fetch(port, url)[0] < 400
            except OSError:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Load(len(latencies) / elapsed, cuts[49], cuts[98], errors[0], len(latencies))


def tool_version():
    if tool() == "python":
        return "Python http.client load generator (wrk not installed)"
    output = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return output.splitlines()[0] if output else "wrk"


def ensure_static(root, env):
    """Collect static files for whitenoise into the benchmark's STATIC_ROOT."""
    subprocess.run(
        [sys.executable, str(Path(root) / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env=env,
        check=True,
        cwd=root,
    )

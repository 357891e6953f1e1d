"""Two app servers sharing one PostgreSQL database and one Redis, as production
runs them: gunicorn with the production settings (bench/bench_settings.py, the
benchmark's own way of running them), the page cache on, each server its own
processes.

- Residents sending the same slot to both servers at once get exactly one
  booking; everyone else gets a clear message, and nobody a server error.
- A page published while both servers hold it in their cache is served new by
  the other server on its very next request: the cache generation lives in
  the shared Redis.
- Every database connection cut under the servers (pg_terminate_backend)
  costs no request: the next one on each is served.
- The booking tables locked from another connection: the resident gets
  系统繁忙 with the form as typed within the lock timeout, and cached pages
  are served meanwhile.

Needs PostgreSQL (DATABASE_URL) and Redis on 127.0.0.1:6379; creates and drops
its own database and uses Redis database 5."""

import contextlib
import http.cookiejar
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _bench_module(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load = _bench_module("load")  # the benchmark's gunicorn runner

REDIS_URL = "redis://127.0.0.1:6379/5"
VERIFY = "/counseling/verify/"
CONTENDERS = 12
LOCK_TIMEOUT_MS = 1500

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="two servers share one PostgreSQL; set DATABASE_URL=postgres://... to run",
    ),
]


def admin_connection():
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or 5432,
        autocommit=True,
    )


def database_url(name):
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{name}"


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A migrated database of its own and the production environment for it."""
    import redis

    name = f"{settings.DATABASES['default']['NAME']}_two_processes"
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    workdir = tmp_path_factory.mktemp("two-processes")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
        "SECRET_KEY": "two-process-test-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        # Plain HTTP on the loopback: the cookies may not ask for HTTPS.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url(name),
        "REDIS_URL": REDIS_URL,
        "PAGE_CACHE_ENABLED": "true",
        "TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "MEDIA_ROOT": str(workdir / "media"),
        "BENCH_STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
        # Production's lock wait, shortened so the lock test does not sit it out.
        "DB_LOCK_TIMEOUT_MS": str(LOCK_TIMEOUT_MS),
        # Texts land in a file the test reads, as each resident reads the phone;
        # mail goes to the console.
        "ALLOW_CONSOLE_MESSAGES": "true",
        "SMS_BACKEND": "tests.counseling.fault_worker.FileBackend",
        "FAULT_TEST_OUTBOX": str(workdir / "sms.txt"),
        "WAGTAILADMIN_BASE_URL": "http://127.0.0.1",
        "BOOKING_DATA_KEY": "dHdvLXByb2Nlc3MtdGVzdC1vbmx5LWRhdGEta2V5ISE=",
        "BOOKING_LOOKUP_KEY": "two-process-test-only-lookup-key",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    load.ensure_static(ROOT, env)
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.portal.two_process_site", "seed"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    paths = json.loads(seeded.stdout.strip().splitlines()[-1])
    yield env, paths, workdir
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture(scope="module")
def servers(production):
    """Server A and server B: separate gunicorn masters with their own workers."""
    env, paths, workdir = production
    with contextlib.ExitStack() as stack:
        ports = [
            stack.enter_context(load.gunicorn(ROOT, env, workdir / f"gunicorn-{name}.log"))[0]
            for name in ("a", "b")
        ]
        yield ports, paths, env


def query(sql, *params, env):
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as db:
        return db.execute(sql, params).fetchall()


def get(port, path, opener=None):
    opener = opener or urllib.request.build_opener()
    with opener.open(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
        return response.status, response.headers, response.read().decode()


class Resident:
    """A browser of its own (cookies, CSRF token) behind the reverse proxy, which
    reports its address in X-Real-IP."""

    def __init__(self, number):
        self.number = number
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )
        self.opener.addheaders = [("X-Real-IP", f"10.0.0.{number + 1}")]

    def open_form(self, port, path):
        status, _headers, html = get(port, path, self.opener)
        assert status == 200
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    @property
    def mobile(self):
        return f"1390000{self.number:04d}"

    def post(self, port, path, fields):
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(f"http://127.0.0.1:{port}{path}", data, timeout=120) as reply:
                return reply.status, reply.headers, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def fill_in(self, port, path, token):
        """The booking form; the server answers with the code step."""
        status, headers, _html = self.post(
            port,
            path,
            {
                "csrfmiddlewaretoken": token,
                "name": f"居民{self.number}",
                "mobile": self.mobile,
                "email": "",
                "visit_type": "first",
                "note": "",
                "website": "",
            },
        )
        assert status == 302 and headers["Location"] == VERIFY, status
        return self.open_form(port, VERIFY)

    def enter_code(self, port, token, outbox):
        code = re.findall(rf"^{self.mobile}\t.*验证码 (\d{{6}})", outbox.read_text(), re.M)[-1]
        status, _headers, html = self.post(
            port, VERIFY, {"csrfmiddlewaretoken": token, "code": code}
        )
        return status, html


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_same_slot_sent_to_both_servers_at_once_is_booked_once(servers):
    ports, paths, env = servers
    outbox = Path(env["FAULT_TEST_OUTBOX"])
    residents = [Resident(number) for number in range(CONTENDERS)]
    server_of = [ports[number % 2] for number in range(CONTENDERS)]
    # Each resident fills in the form and gets the code on the phone; then all
    # type their codes at the same moment.
    tokens = [
        r.fill_in(port, paths["book"], r.open_form(port, paths["book"]))
        for r, port in zip(residents, server_of, strict=True)
    ]
    barrier = threading.Barrier(CONTENDERS)
    outcomes = [None] * CONTENDERS

    def submit(number):
        barrier.wait()
        outcomes[number] = residents[number].enter_code(server_of[number], tokens[number], outbox)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    statuses = [status for status, _html in outcomes]
    assert statuses.count(302) == 1, statuses
    assert statuses.count(400) == CONTENDERS - 1, statuses
    for status, html in outcomes:
        if status == 400:
            assert "这个时段刚刚被别人预约了,请选择其他时段。" in html
    winner = statuses.index(302)
    # Names are stored encrypted, with the servers' key.
    cipher = Fernet(env["BOOKING_DATA_KEY"])
    booked = [
        cipher.decrypt(name.encode()).decode()
        for (name,) in query("SELECT name FROM counseling_booking", env=env)
    ]
    assert booked == [f"居民{winner}"]


def test_a_page_published_is_served_new_by_the_other_server_at_once(servers):
    ports, paths, env = servers
    server_a, server_b = ports
    for port in ports:
        get(port, paths["news"])
        status, headers, html = get(port, paths["news"])
        assert status == 200 and headers["X-Page-Cache"] == "hit"
        assert "心理咨询室开放通知" in html

    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.portal.two_process_site",
            "publish",
            "心理咨询室延长开放时间",
        ],
        env=env,
        cwd=ROOT,
        check=True,
    )

    for port in (server_b, server_a):
        status, headers, html = get(port, paths["news"])
        assert status == 200 and headers["X-Page-Cache"] == "miss"
        assert "心理咨询室延长开放时间" in html and "心理咨询室开放通知" not in html


def terminate_connections(env):
    """Cut every connection to the servers' database, as a PostgreSQL restart or
    an administrator's pg_terminate_backend does."""
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    with admin_connection() as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return len(cut)


def test_connections_cut_under_the_servers_cost_no_request(servers):
    ports, _paths, env = servers
    rounds = 2 * load.WORKERS  # enough to reach every worker's kept connection
    for port in ports:
        for _ in range(rounds):
            assert get(port, "/counseling/")[0] == 200
    assert terminate_connections(env) >= 2

    statuses = [get(port, "/counseling/")[0] for port in ports for _ in range(rounds)]
    assert statuses == [200] * len(statuses)


def test_booking_tables_locked_give_503_with_what_was_typed_kept_and_cached_pages_are_served(
    servers,
):
    """The form and the code step read the rooms the process keeps; the booking
    itself waits for the locked tables, gives up within the lock timeout with
    系统繁忙, and the same code books once the tables are free."""
    import psycopg

    ports, paths, env = servers
    port = ports[0]
    outbox = Path(env["FAULT_TEST_OUTBOX"])
    get(port, paths["news"])
    resident = Resident(90)
    token = resident.fill_in(
        port, paths["book_spare"], resident.open_form(port, paths["book_spare"])
    )
    with psycopg.connect(env["DATABASE_URL"]) as holder:
        holder.execute("LOCK TABLE counseling_room, counseling_booking IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        status, html = resident.enter_code(port, token, outbox)
        waited = time.monotonic() - started
        cached = get(port, paths["news"])
        holder.rollback()

    assert status == 503, html[:300]
    assert "系统繁忙,验证码还没有核对" in html and "刚收到的验证码仍然有效" in html
    assert waited < LOCK_TIMEOUT_MS / 1000 + 5
    assert cached[0] == 200 and cached[1]["X-Page-Cache"] == "hit"
    status, html = resident.enter_code(port, token, outbox)
    assert status == 302, html[:300]

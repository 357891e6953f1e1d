"""The database made to fail for real: locks taken from a second connection,
backends terminated, and a short lock wait so tests do not sit out production's."""

import contextlib
import errno
import os
import sqlite3
import subprocess
import uuid

import pytest
from django.db import connection

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... to run",
)


def other_connection():
    """A second, independent connection to the test database (autocommit off on
    PostgreSQL, so what it locks stays locked until it rolls back)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return sqlite3.connect(settings_dict["NAME"], isolation_level=None)
    import psycopg

    return psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
    )


@contextlib.contextmanager
def tables_locked(*tables):
    """Another connection holds `tables` so that nobody may even read them until
    the block ends: an exclusive lock on the whole file on SQLite, ACCESS
    EXCLUSIVE on each table on PostgreSQL (what a long migration or a stuck
    maintenance job holds)."""
    other = other_connection()
    if connection.vendor == "sqlite":
        other.execute("BEGIN EXCLUSIVE")
    else:
        other.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


@contextlib.contextmanager
def writes_held():
    """Another connection holds the write lock (SQLite) or the limits' table
    (PostgreSQL), as a long maintenance job would: reads go on, writes wait."""
    other = other_connection()
    if connection.vendor == "sqlite":
        other.execute("BEGIN IMMEDIATE")
    else:
        other.execute("LOCK TABLE core_attemptcount IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


@contextlib.contextmanager
def lock_wait(seconds):
    """This process gives up waiting for a lock after `seconds` (production's
    lock_timeout on PostgreSQL, the busy timeout on SQLite)."""
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    if connection.vendor == "sqlite":
        options["timeout"] = seconds
    else:
        options["options"] = f"-c lock_timeout={int(seconds * 1000)}"
    connection.close()
    try:
        yield
    finally:
        options.clear()
        options.update(saved)
        connection.close()


def terminate_other_backends():
    """Cut every connection to the test database but this test's own, as a
    PostgreSQL restart or an administrator's pg_terminate_backend does; returns
    how many were cut."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()
    with other_connection() as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
            [own],
        ).fetchall()
        admin.commit()
    return len(rows)


# The media disk made to fail: a small tmpfs mounted as MEDIA_ROOT, filled to
# the last byte or remounted read-only. Mounting needs root (as CI and the
# development machines run); elsewhere the tests are skipped, except in CI.


def mount(*args):
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def media_disk(settings, tmp_path):
    """A 4 MB disk of its own as MEDIA_ROOT."""
    root = tmp_path / "media"
    root.mkdir()
    mounted = mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root))
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a test disk: {mounted.stderr}")
        pytest.skip(f"cannot mount a test disk (needs root): {mounted.stderr.strip()}")
    settings.MEDIA_ROOT = str(root)
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def fill(disk):
    """Write a filler file until the disk has no byte left; return it."""
    filler = disk / f"filler-{uuid.uuid4().hex}"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(descriptor, b"\0" * chunk)
    finally:
        os.close(descriptor)
    with pytest.raises(OSError) as full:
        (disk / "probe").write_bytes(b"x")
    assert full.value.errno == errno.ENOSPC
    return filler


def read_only(disk):
    assert mount("-o", "remount,ro", str(disk)).returncode == 0


def writable(disk):
    assert mount("-o", "remount,rw", str(disk)).returncode == 0

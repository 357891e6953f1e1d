"""Back up the database and the uploaded files into one archive.

The archive is an uncompressed tar holding these parts:

- ``database.pgdump`` (``pg_dump --format=custom``) on PostgreSQL, or
  ``database.sqlite3``, a consistent copy made with SQLite's online backup API;
- ``media.tar.gz``, everything under MEDIA_ROOT;
- ``private.tar.gz``, everything under PRIVATE_MEDIA_ROOT (residents' request
  photos, already encrypted by the site), a part of its own so it is restored
  to that directory and never into the public media;
- ``authenticators.fernet``: the staff's two-factor devices, encrypted with a
  key derived from SECRET_KEY (portal.core.backup_secrets);
- ``manifest.json``: when and from which database engine and app version the
  archive was made, and the SHA-256 of each part, which ``restore`` checks
  before it changes anything.

Staff sessions are left out (a session key from a backup must not open the
admin), and the authenticators' secret keys are in the archive only encrypted:
neither table's rows are in the database part.
"""

import contextlib
import datetime
import hashlib
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from portal.core import backup_secrets

MANIFEST = "manifest.json"
MEDIA_PART = "media.tar.gz"
PRIVATE_PART = "private.tar.gz"
AUTHENTICATORS_PART = "authenticators.fernet"
DATABASE_PARTS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
# Format 2 added the authenticators part, format 3 the private files part.
ARCHIVE_FORMAT = 3
# Tables whose rows never go into the database part: live sessions, and the
# authenticators' keys, which travel encrypted in their own part instead.
TABLES_LEFT_OUT = ("django_session", "otp_totp_totpdevice")
DISTRIBUTION = "jinjialing-portal"


def app_version():
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def sha256_of(fileobj):
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def postgres_program(program, connection):
    """The path of pg_dump or pg_restore and the environment that carries the
    connection's password and SSL options (as `manage.py dbshell` passes them)."""
    path = shutil.which(program)
    if path is None:
        raise CommandError(
            f"找不到 {program}。请安装与数据库服务器版本相同或更新的 PostgreSQL 客户端"
            "(Debian:apt-get install postgresql-client)。"
        )
    _args, extra_env = connection.client.settings_to_cmd_args_env(connection.settings_dict, [])
    return path, {**os.environ, **(extra_env or {})}


def postgres_connection_args(connection):
    """-h/-p/-U/-d for the connection's database (from DATABASE_URL)."""
    config = connection.settings_dict
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if config.get(key):
            args.append(f"{flag}={config[key]}")
    return [*args, f"--dbname={config['NAME']}"]


def analyze(connection):
    """Refresh the planner's statistics after a restore or a bulk load. pg_restore
    and bulk inserts leave PostgreSQL without them: at 20,000 news a cold news
    listing then took 97 s (Wagtail's `.public()` filter planned as a nested
    loop) instead of 47 ms. Not bound by production's statement_timeout."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET statement_timeout = 0")
            cursor.execute("ANALYZE")
            cursor.execute("RESET statement_timeout")
        else:
            cursor.execute("ANALYZE")


def run_program(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(
            f"{Path(command[0]).name} 失败(退出码 {result.returncode}):\n{result.stderr}"
        )


def sqlite_path(connection):
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        raise CommandError("内存中的 SQLite 数据库无法备份或恢复。")
    return name


class Command(BaseCommand):
    help = (
        "把数据库和上传文件(MEDIA_ROOT 和 PRIVATE_MEDIA_ROOT)备份为一个归档文件,"
        "放在指定目录下,并打印它的路径。"
        "归档含个人信息:只存放在仅管理员可读的位置,复制到别处前先加密。"
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="存放备份归档的目录(不存在时会创建)")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="要备份的数据库别名(默认 default)"
        )

    def handle(self, *args, directory, database, **options):
        connection = connections[database]
        engine = connection.vendor
        if engine not in DATABASE_PARTS:
            raise CommandError(f"不支持备份 {engine} 数据库,只支持 PostgreSQL 和 SQLite。")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        created = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        archive = directory / f"jinjialing-{created:%Y%m%d-%H%M%S}.tar"
        if archive.exists():
            raise CommandError(f"{archive} 已存在;请稍后再试或换一个目录。")

        with tempfile.TemporaryDirectory(prefix=".backup-", dir=directory) as work:
            work = Path(work)
            database_part = work / DATABASE_PARTS[engine]
            if engine == "postgresql":
                self.dump_postgres(connection, database_part)
            else:
                self.copy_sqlite(connection, database_part)
            self.pack_directory(Path(settings.MEDIA_ROOT), work / MEDIA_PART)
            self.pack_directory(Path(settings.PRIVATE_MEDIA_ROOT), work / PRIVATE_PART)
            authenticators = work / AUTHENTICATORS_PART
            authenticators.write_bytes(backup_secrets.export_authenticators(database))
            manifest = {
                "format": ARCHIVE_FORMAT,
                "created": created.isoformat(),
                "database_engine": engine,
                "app_version": app_version(),
                "parts": {
                    part.name: self.describe(part)
                    for part in (
                        database_part,
                        work / MEDIA_PART,
                        work / PRIVATE_PART,
                        authenticators,
                    )
                },
            }
            (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
            self.write_archive(work, archive, [MANIFEST, *manifest["parts"]])

        size = archive.stat().st_size / (1024 * 1024)
        self.stdout.write(f"已备份到 {archive}({size:.1f} MB,数据库 {engine})。")
        self.stdout.write(str(archive))

    def dump_postgres(self, connection, target):
        program, env = postgres_program("pg_dump", connection)
        command = [
            program,
            "--format=custom",
            f"--file={target}",
            *[f"--exclude-table-data={table}" for table in TABLES_LEFT_OUT],
            *postgres_connection_args(connection),
        ]
        run_program(command, env)

    def copy_sqlite(self, connection, target):
        """SQLite's online backup copies a consistent snapshot page by page
        even while the site keeps writing; the left-out tables are then emptied
        in the copy, and VACUUM rewrites it so no freed page keeps their rows."""
        source = sqlite3.connect(sqlite_path(connection))
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
            with copy:
                for table in TABLES_LEFT_OUT:
                    copy.execute(f'DELETE FROM "{table}"')  # noqa: S608 - fixed names
            copy.execute("VACUUM")
        finally:
            copy.close()
            source.close()

    def pack_directory(self, root, target):
        """Everything under `root`, named relative to it. A directory not made
        yet (no file uploaded there so far) gives an empty part, so a new site
        backs up like any other."""
        with tarfile.open(target, "w:gz") as part:
            if root.is_dir():
                for entry in sorted(root.iterdir()):
                    part.add(entry, arcname=entry.name)

    def describe(self, part):
        with part.open("rb") as content:
            return {"sha256": sha256_of(content), "bytes": part.stat().st_size}

    def write_archive(self, work, archive, names):
        """Write the archive under a temporary name readable by its owner only,
        then rename it, so a half-written archive never looks complete."""
        partial = archive.with_name(archive.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with (
                os.fdopen(descriptor, "wb") as output,
                tarfile.open(fileobj=output, mode="w") as tar,
            ):
                for name in names:
                    tar.add(work / name, arcname=name)
            partial.rename(archive)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise

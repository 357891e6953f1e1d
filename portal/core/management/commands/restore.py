"""Restore the database and the uploaded files from an archive made by ``backup``.

Every part is checked against the archive's manifest (SHA-256) and the file
names in the parts of uploaded files (MEDIA_ROOT's and PRIVATE_MEDIA_ROOT's)
are checked before anything is changed: a damaged or tampered archive is
refused whole.

All or nothing: the uploaded files are first unpacked into a staging folder
under the directory they belong in, on its own disk, so a disk without room
for them stops the restore before the database is touched; only then is the
database replaced, and the staged files are moved into place by renames,
which need no space. Afterwards ANALYZE gives PostgreSQL the planner
statistics pg_restore leaves out (without them a cold news listing took over
a minute).

Archives made before the private files had a part of their own restore
everything else and leave PRIVATE_MEDIA_ROOT as it is: they hold nothing to put
there, and emptying it would lose the photos residents have sent.
"""

import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from portal.core import backup_secrets
from portal.core.storage import disk_refused

from .backup import (
    ARCHIVE_FORMAT,
    AUTHENTICATORS_PART,
    DATABASE_PARTS,
    MANIFEST,
    MEDIA_PART,
    PRIVATE_PART,
    analyze,
    app_version,
    postgres_connection_args,
    postgres_program,
    run_program,
    sha256_of,
    sqlite_path,
)

# Format 1 archives (before sessions were left out) and format 2 archives
# (before the private files had their own part) are still read; their sessions
# are ended after the restore like any others.
READABLE_FORMATS = {1, 2, ARCHIVE_FORMAT}
# The parts each later format added to the database and media parts of format 1.
ADDED_IN_FORMAT = {AUTHENTICATORS_PART: 2, PRIVATE_PART: 3}


def expected_parts(archive_format, engine):
    added = {part for part, since in ADDED_IN_FORMAT.items() if archive_format >= since}
    return {DATABASE_PARTS[engine], MEDIA_PART, *added}


def file_roots(parts):
    """The parts of uploaded files among `parts`, each with the directory it is
    restored into."""
    roots = {MEDIA_PART: settings.MEDIA_ROOT, PRIVATE_PART: settings.PRIVATE_MEDIA_ROOT}
    return {part: Path(root) for part, root in roots.items() if part in parts}


DAMAGED = "备份文件 {archive} 已损坏或不完整({reason}),没有做任何更改。请换用另一份备份。"
NO_SPACE = "{where} 的磁盘空间不足或不能写入({reason}),没有做任何更改。请腾出空间后再恢复。"


class Command(BaseCommand):
    help = (
        "用 backup 生成的归档恢复数据库和上传文件。先校验归档,任何一部分对不上就拒绝恢复、"
        "不做任何更改。恢复会覆盖当前数据库:先停止网站和任务进程。"
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="backup 生成的 .tar 归档")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="要恢复到的数据库别名(默认 default)"
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="不询问确认,直接恢复",
        )

    def handle(self, *args, archive, database, interactive, **options):
        connection = connections[database]
        if not archive.is_file():
            raise CommandError(f"找不到备份文件 {archive}。")
        try:
            with tempfile.TemporaryDirectory(prefix="jjl-restore-") as work:
                self.restore(Path(work), archive, connection, database, interactive)
        except OSError as error:
            if not disk_refused(error):
                raise
            where = error.filename or tempfile.gettempdir()
            raise CommandError(NO_SPACE.format(where=where, reason=error.strerror)) from error
        self.stdout.write(self.style.SUCCESS(f"已从 {archive} 恢复数据库和上传文件。"))

    def restore(self, work, archive, connection, database, interactive):
        manifest = self.unpack_checked(archive, work)
        engine = manifest["database_engine"]
        if engine != connection.vendor:
            raise CommandError(
                f"这份备份来自 {engine} 数据库,当前数据库是 {connection.vendor},不能直接恢复。"
            )
        self.stdout.write(
            f"备份时间 {manifest['created']},数据库 {engine},版本 {manifest['app_version']};"
            "校验通过。"
        )
        if manifest["app_version"] != app_version():
            self.stdout.write(
                self.style.WARNING(
                    f"备份来自版本 {manifest['app_version']},当前代码是 {app_version()}:"
                    "恢复后请运行 python manage.py migrate。"
                )
            )
        roots = file_roots(manifest["parts"])
        if PRIVATE_PART not in roots:
            self.stdout.write(
                self.style.WARNING(
                    "这份备份是旧格式,不含 PRIVATE_MEDIA_ROOT 的文件(居民诉求照片):"
                    f"{settings.PRIVATE_MEDIA_ROOT} 保持原样,既不恢复也不删除。"
                )
            )
        if interactive and not self.confirmed(connection, roots.values()):
            raise CommandError("已取消,没有做任何更改。")

        staged = []
        database_part = work / DATABASE_PARTS[engine]
        try:
            for part, root in roots.items():
                staged.append((root, self.stage_files(work / part, root)))
            if engine == "postgresql":
                self.restore_postgres(connection, database_part)
            else:
                self.restore_sqlite(connection, database_part)
        except BaseException:
            for _root, folder in staged:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        for root, folder in staged:
            self.switch_files(folder, root)
        analyze(connection)
        self.end_sessions(database)
        self.restore_authenticators(work / AUTHENTICATORS_PART, database)

    def unpack_checked(self, archive, work):
        """Extract the parts into `work` and return the manifest, or refuse
        the archive if anything is missing, extra or different."""
        try:
            with tarfile.open(archive, "r:") as tar:
                members = {member.name: member for member in tar.getmembers()}
                if MANIFEST not in members:
                    raise CommandError(DAMAGED.format(archive=archive, reason="缺少清单"))
                manifest = self.read_manifest(tar, members[MANIFEST], archive)
                expected = {MANIFEST, *manifest["parts"]}
                if set(members) != expected:
                    reason = f"应含 {sorted(expected)},实际为 {sorted(members)}"
                    raise CommandError(DAMAGED.format(archive=archive, reason=reason))
                for name, described in manifest["parts"].items():
                    member = members[name]
                    if not member.isfile():
                        raise CommandError(
                            DAMAGED.format(archive=archive, reason=f"{name} 不是文件")
                        )
                    if sha256_of(tar.extractfile(member)) != described["sha256"]:
                        reason = f"{name} 的 SHA-256 与清单不符"
                        raise CommandError(DAMAGED.format(archive=archive, reason=reason))
                    tar.extract(member, work, filter="data")
        except (tarfile.TarError, EOFError, OSError) as error:
            if disk_refused(error):
                raise
            raise CommandError(DAMAGED.format(archive=archive, reason=error)) from error
        for part, root in file_roots(manifest["parts"]).items():
            self.check_member_names(work / part, root, archive)
        return manifest

    def read_manifest(self, tar, member, archive):
        try:
            manifest = json.load(tar.extractfile(member))
            engine = manifest["database_engine"]
            parts = manifest["parts"]
            fits = (
                manifest["format"] in READABLE_FORMATS
                and engine in DATABASE_PARTS
                and set(parts) == expected_parts(manifest["format"], engine)
                and all(isinstance(part["sha256"], str) for part in parts.values())
            )
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(DAMAGED.format(archive=archive, reason="清单无法读取")) from error
        if not fits:
            raise CommandError(DAMAGED.format(archive=archive, reason="清单内容不符合备份格式"))
        return manifest

    def check_member_names(self, part, root, archive):
        """Refuse absolute paths, '..', links out of `root` and device files in
        a part of uploaded files before restoring anything (the checks
        tarfile's 'data' filter makes). The filter would quietly strip the
        leading '/' of an absolute name; backup never writes one, so such a
        name means the archive was tampered with and is refused too."""
        try:
            with tarfile.open(part, "r:gz") as files:
                for member in files.getmembers():
                    if tarfile.data_filter(member, str(root)).name != member.name:
                        raise tarfile.AbsolutePathError(member)
        except (tarfile.TarError, EOFError, OSError) as error:
            reason = f"{part.name}:{error}"
            raise CommandError(DAMAGED.format(archive=archive, reason=reason)) from error

    def confirmed(self, connection, roots):
        name = connection.settings_dict["NAME"]
        folders = "、".join(str(root) for root in roots)
        answer = input(
            f"将用备份覆盖数据库 {name} 和 {folders} 中的同名文件。"
            "请先停止网站和任务进程。输入 yes 继续:"
        )
        return answer.strip().lower() == "yes"

    def restore_postgres(self, connection, dump):
        """pg_restore in one transaction: on any error nothing is changed."""
        connection.close()
        program, env = postgres_program("pg_restore", connection)
        command = [
            program,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *postgres_connection_args(connection),
            str(dump),
        ]
        run_program(command, env)

    def restore_sqlite(self, connection, copy):
        """SQLite's backup API replaces the live database's pages in one step
        under its write lock."""
        connection.close()
        source = sqlite3.connect(copy)
        live = sqlite3.connect(sqlite_path(connection), timeout=30)
        try:
            source.backup(live)
        except sqlite3.Error as error:
            raise CommandError(f"恢复 SQLite 数据库失败:{error}") from error
        finally:
            live.close()
            source.close()

    def end_sessions(self, database):
        """No session survives a restore: everyone signs in again."""
        from django.contrib.sessions.models import Session

        Session.objects.using(database).all().delete()

    def restore_authenticators(self, part, database):
        if not part.exists():  # a format 1 archive: the devices came with the database
            return
        try:
            count = backup_secrets.import_authenticators(part.read_bytes(), database)
        except backup_secrets.AuthenticatorsUnreadable:
            self.stdout.write(
                self.style.WARNING(
                    "两步验证设备无法解密(备份时的 SECRET_KEY 不在本机的 SECRET_KEY 或"
                    " SECRET_KEY_FALLBACKS 中),没有恢复:每位工作人员下次进入后台时要重新设置验证器。"
                )
            )
            return
        self.stdout.write(f"已恢复 {count} 个两步验证设备。")

    def stage_files(self, part, root):
        """Unpack a part of uploaded files into a staging folder under `root`
        (the same disk, so moving them later is a rename) and make every folder
        they go to. A disk too small fails here, before anything is changed."""
        root.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=".restore-", dir=root))
        try:
            with tarfile.open(part, "r:gz") as files:
                files.extractall(staged, filter="data")
            for folder, _folders, _files in os.walk(staged):
                (root / Path(folder).relative_to(staged)).mkdir(exist_ok=True)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return staged

    def switch_files(self, staged, root):
        for folder, _folders, files in os.walk(staged):
            for name in files:
                source = Path(folder) / name
                os.replace(source, root / source.relative_to(staged))
        shutil.rmtree(staged)

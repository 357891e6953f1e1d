"""Backup and restore: a real archive of the database and the uploaded files,
made with pg_dump or SQLite's backup API, brings back deleted and changed data,
a deleted file and a resident's deleted photo; a damaged archive is refused and
changes nothing; an archive from before the photos had a part of their own
still restores."""

import base64
import datetime
import hashlib
import io
import json
import sqlite3
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.documents import get_document_model
from wagtail.models import Collection

from counseling.models import LOCAL_TZ, Booking, Room
from portal.service_requests import handling, photos
from portal.service_requests.models import RequestPhoto
from tests.factories import (
    authenticator_code,
    log_in_verified,
    make_document,
    make_weekday_room,
)
from tests.outages import fill

SLOT = datetime.datetime(2026, 9, 15, 10, 0, tzinfo=LOCAL_TZ)
FILE_CONTENT = b"%PDF-1.4\n% backup test\n%%EOF\n"
PHOTO_CONTENT = b"\xff\xd8\xff\xe0 backup test photo \xff\xd9"

# pg_dump and SQLite's backup API read committed data, so the tests commit.
committed_db = pytest.mark.django_db(transaction=True)


def on(vendor):
    return pytest.mark.skipif(
        connection.vendor != vendor, reason=f"runs when the test database is {vendor}"
    )


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """A PRIVATE_MEDIA_ROOT of the test's own, not made yet (as on a site where
    no resident has sent a photo): the session-wide one holds photos other test
    modules leave, which a backup would carry and a restore write back."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


def make_site_data():
    if not Collection.objects.exists():  # emptied by an earlier committing test's flush
        Collection.add_root(name="Root")
    room = make_weekday_room(name="街道咨询室")
    booking = Booking.objects.create(
        reference="20260915",
        room=room,
        starts_at=SLOT,
        ends_at=SLOT + datetime.timedelta(minutes=50),
        status=Booking.Status.CONFIRMED,
        name="王女士",
        mobile="13800000000",
    )
    document = make_document(title="预约须知", content=FILE_CONTENT, name="notice.pdf")
    return room, booking, document


def make_photo():
    """A resident's photo as the site keeps it: encrypted, under PRIVATE_MEDIA_ROOT."""
    token = photos.store_pending([(PHOTO_CONTENT, 4, 3)])
    return RequestPhoto.objects.get(pending_token=token)


def files_under(root):
    """Every file under `root` and its bytes, to show a directory was left alone."""
    return {path.relative_to(root): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def back_up(directory):
    call_command("backup", str(directory), stdout=io.StringIO())
    (archive,) = Path(directory).glob("jinjialing-*.tar")
    return archive


def damage_site(room, booking, document):
    """What an accident might do: a booking deleted, a room renamed, an
    uploaded file and its record removed."""
    Booking.objects.filter(pk=booking.pk).delete()
    Room.objects.filter(pk=room.pk).update(name="改错的名字")
    file_path = Path(document.file.path)
    get_document_model().objects.get(pk=document.pk).delete()  # and its file
    assert not file_path.exists()
    return file_path


def assert_site_back(room, booking, document, file_path):
    restored = Booking.objects.get(pk=booking.pk)
    assert (restored.reference, restored.name, restored.starts_at) == ("20260915", "王女士", SLOT)
    assert Room.objects.get(pk=room.pk).name == "街道咨询室"
    restored_document = get_document_model().objects.get(pk=document.pk)
    assert restored_document.title == "预约须知"
    assert Path(restored_document.file.path) == file_path
    assert file_path.read_bytes() == FILE_CONTENT


def round_trip(tmp_path):
    room, booking, document = make_site_data()
    archive = back_up(tmp_path)
    file_path = damage_site(room, booking, document)
    assert not Booking.objects.filter(pk=booking.pk).exists()

    output = io.StringIO()
    call_command("restore", str(archive), interactive=False, stdout=output)

    assert "校验通过" in output.getvalue()
    assert_site_back(room, booking, document, file_path)


@on("sqlite")
@committed_db
def test_restore_brings_back_deleted_bookings_changed_rooms_and_files_on_sqlite(tmp_path):
    round_trip(tmp_path)


@on("postgresql")
@pytest.mark.postgres
@committed_db
def test_restore_brings_back_deleted_bookings_changed_rooms_and_files_on_postgresql(tmp_path):
    round_trip(tmp_path)
    # The planner has statistics at once (pg_restore leaves reltuples at -1,
    # "never analysed", and a cold news listing took over a minute).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname IN"
            " ('wagtailcore_page', 'counseling_booking', 'news_newspage') AND reltuples < 0"
        )
        assert cursor.fetchall() == []
    # The no-double-booking guarantee comes back with the tables.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = 'booking_no_overlap_in_room'")
        assert cursor.fetchone() == (1,)


@committed_db
def test_the_archive_is_private_and_its_manifest_describes_every_part(tmp_path):
    make_site_data()
    archive = back_up(tmp_path)

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    database_part = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
    assert manifest["format"] == 3
    assert manifest["database_engine"] == connection.vendor
    assert manifest["app_version"] == "0.1.0"
    assert datetime.datetime.fromisoformat(manifest["created"]).tzinfo is not None
    assert set(manifest["parts"]) == {
        database_part[connection.vendor],
        "media.tar.gz",
        "private.tar.gz",
        "authenticators.fernet",
    }
    assert names == {"manifest.json", *manifest["parts"]}
    assert all(len(part["sha256"]) == 64 for part in manifest["parts"].values())


def flip_byte_in(archive, member_name):
    with tarfile.open(archive) as tar:
        member = tar.getmember(member_name)
        offset = member.offset_data + member.size // 2
    with archive.open("r+b") as raw:
        raw.seek(offset)
        byte = raw.read(1)
        raw.seek(offset)
        raw.write(bytes([byte[0] ^ 0xFF]))


def truncate(archive, _member_name):
    with archive.open("r+b") as raw:
        raw.truncate(archive.stat().st_size // 2)


@pytest.mark.parametrize(
    ("damage", "part"),
    [
        (flip_byte_in, "database"),
        (flip_byte_in, "media.tar.gz"),
        (flip_byte_in, "private.tar.gz"),
        (flip_byte_in, "manifest.json"),
        (truncate, None),
    ],
)
@committed_db
def test_a_damaged_archive_is_refused_with_a_clear_message_and_changes_nothing(
    tmp_path, damage, part
):
    room, booking, document = make_site_data()
    archive = back_up(tmp_path)
    with tarfile.open(archive) as tar:
        member = next(name for name in tar.getnames() if name.startswith(part or "manifest"))
    damage(archive, member)
    file_path = damage_site(room, booking, document)

    with pytest.raises(CommandError, match="已损坏或不完整.*没有做任何更改"):
        call_command("restore", str(archive), interactive=False, stdout=io.StringIO())

    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert Room.objects.get(pk=room.pk).name == "改错的名字"
    assert not file_path.exists()


@committed_db
def test_a_media_disk_without_room_for_the_files_stops_the_restore_before_the_database(
    tmp_path, media_disk
):
    """All or nothing: with the media disk full, the database is left as it was
    (before, it was replaced and part of the files came back)."""
    room, booking, document = make_site_data()
    archive = back_up(tmp_path)
    file_path = damage_site(room, booking, document)
    fill(media_disk)
    before = sorted(path.name for path in media_disk.iterdir())

    with pytest.raises(CommandError, match="磁盘空间不足或不能写入.*没有做任何更改"):
        call_command("restore", str(archive), interactive=False, stdout=io.StringIO())

    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert Room.objects.get(pk=room.pk).name == "改错的名字"
    assert not file_path.exists()
    assert sorted(path.name for path in media_disk.iterdir()) == before  # no staging left


@committed_db
def test_restore_brings_back_a_residents_photo_byte_for_byte_into_the_private_directory(
    tmp_path, private_root, settings
):
    photo = make_photo()
    photo_pk, file_path = photo.pk, Path(photo.file.path)
    stored = file_path.read_bytes()
    archive = back_up(tmp_path / "archive")
    handling.forget_photos(RequestPhoto.objects.filter(pk=photo.pk))
    assert not file_path.exists()

    call_command("restore", str(archive), interactive=False, stdout=io.StringIO())

    assert file_path.is_relative_to(private_root)
    assert file_path.read_bytes() == stored
    restored = RequestPhoto.objects.get(pk=photo_pk)
    assert Path(restored.file.path) == file_path
    assert restored.read() == PHOTO_CONTENT
    assert not list(Path(settings.MEDIA_ROOT).rglob(file_path.name))  # never in public media
    assert files_under(private_root) == {file_path.relative_to(private_root): stored}


@pytest.mark.parametrize("made", [False, True], ids=["missing", "empty"])
@committed_db
def test_a_missing_or_empty_private_directory_backs_up_as_an_empty_part(
    tmp_path, private_root, made
):
    if made:
        private_root.mkdir()
    archive = back_up(tmp_path / "archive")

    with (
        tarfile.open(archive) as tar,
        tarfile.open(fileobj=tar.extractfile("private.tar.gz")) as part,
    ):
        assert part.getnames() == []
    call_command("restore", str(archive), interactive=False, stdout=io.StringIO())
    assert files_under(private_root) == {}


def read_parts(archive):
    """The archive's manifest and its other parts, by name."""
    with tarfile.open(archive) as tar:
        parts = {member.name: tar.extractfile(member).read() for member in tar.getmembers()}
    return json.loads(parts.pop("manifest.json")), parts


def write_parts(archive, manifest, parts):
    """Write the archive anew with a manifest whose checksums match its parts:
    what someone able to replace the backup file could make."""
    manifest["parts"] = {
        name: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
        for name, content in parts.items()
    }
    files = {"manifest.json": json.dumps(manifest).encode(), **parts}
    with tarfile.open(archive, "w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def private_part_holding(name, kind, linkname=""):
    """A private.tar.gz with one member of the given name and type."""
    member = tarfile.TarInfo(name)
    member.type, member.linkname = kind, linkname
    content = PHOTO_CONTENT if kind == tarfile.REGTYPE else b""
    member.size = len(content)
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as part:
        part.addfile(member, io.BytesIO(content))
    return packed.getvalue()


@pytest.mark.parametrize(
    ("name", "kind", "linkname"),
    [
        ("../outside.jpg.enc", tarfile.REGTYPE, ""),
        ("/outside.jpg.enc", tarfile.REGTYPE, ""),
        ("requests/link.jpg.enc", tarfile.SYMTYPE, "../../outside.jpg.enc"),
        ("requests/hard.jpg.enc", tarfile.LNKTYPE, "/etc/passwd"),
        ("requests/device", tarfile.CHRTYPE, ""),
    ],
    ids=["dot-dot", "absolute", "symlink-out", "hardlink-absolute", "device"],
)
@committed_db
def test_an_unsafe_private_member_is_refused_even_with_matching_checksums_and_changes_nothing(
    tmp_path, private_root, name, kind, linkname
):
    room, booking, document = make_site_data()
    photo = make_photo()
    archive = back_up(tmp_path / "archive")
    manifest, parts = read_parts(archive)
    parts["private.tar.gz"] = private_part_holding(name, kind, linkname)
    write_parts(archive, manifest, parts)
    file_path = damage_site(room, booking, document)
    handling.forget_photos(RequestPhoto.objects.filter(pk=photo.pk))
    before = files_under(tmp_path)

    with pytest.raises(CommandError, match=r"已损坏或不完整\(private\.tar\.gz:.*没有做任何更改"):
        call_command("restore", str(archive), interactive=False, stdout=io.StringIO())

    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert Room.objects.get(pk=room.pk).name == "改错的名字"
    assert not file_path.exists()
    assert not RequestPhoto.objects.exists()
    assert files_under(tmp_path) == before
    assert not (tmp_path / "outside.jpg.enc").exists()


@committed_db
def test_an_archive_from_before_the_private_part_restores_and_leaves_the_private_files_alone(
    tmp_path, private_root
):
    room, booking, document = make_site_data()
    make_photo()
    archive = back_up(tmp_path / "archive")
    manifest, parts = read_parts(archive)
    del parts["private.tar.gz"]
    write_parts(archive, {**manifest, "format": 2}, parts)  # as backup wrote it then
    make_photo()  # sent after the backup
    file_path = damage_site(room, booking, document)
    before = files_under(private_root)

    output = io.StringIO()
    call_command("restore", str(archive), interactive=False, stdout=output)

    assert "旧格式,不含 PRIVATE_MEDIA_ROOT 的文件" in output.getvalue()
    assert f"{private_root} 保持原样" in output.getvalue()
    assert_site_back(room, booking, document, file_path)
    assert len(before) == 2 and files_under(private_root) == before


@committed_db
def test_a_private_disk_without_room_stops_the_restore_and_leaves_no_staged_files(
    tmp_path, settings, media_disk
):
    """The media part is staged first; when the photos then find no room, the
    staged media go too and the database is left as it was."""
    settings.MEDIA_ROOT = str(tmp_path / "public")
    settings.PRIVATE_MEDIA_ROOT = media_disk
    room, booking, document = make_site_data()
    make_photo()
    archive = back_up(tmp_path / "archive")
    file_path = damage_site(room, booking, document)
    fill(media_disk)
    before = sorted(path.name for path in media_disk.iterdir())

    with pytest.raises(CommandError, match="磁盘空间不足或不能写入.*没有做任何更改"):
        call_command("restore", str(archive), interactive=False, stdout=io.StringIO())

    assert not Booking.objects.filter(pk=booking.pk).exists()
    assert not file_path.exists()
    assert sorted(path.name for path in media_disk.iterdir()) == before
    assert not list((tmp_path / "public").glob(".restore-*"))


@pytest.mark.django_db
def test_seeding_onto_a_full_disk_says_so_and_loads_nothing(media_disk):
    from portal.home.models import HomePage

    fill(media_disk)
    with pytest.raises(CommandError, match="磁盘空间不足或不能写入.*演示内容没有载入"):
        call_command("seed_demo", "--no-admin", stdout=io.StringIO())
    assert not HomePage.objects.exists() and not Room.objects.exists()


@pytest.mark.django_db
def test_a_missing_archive_is_named_in_the_message(tmp_path):
    with pytest.raises(CommandError, match="找不到备份文件"):
        call_command("restore", str(tmp_path / "nope.tar"), interactive=False)


def make_verified_staff_session():
    """A coordinator signed in with password and authenticator code, as a browser
    holds it: returns the client, its session key and the authenticator."""
    user = get_user_model().objects.create_superuser("beifen", password="a-long-test-password")
    client = Client()
    device = log_in_verified(client, user)
    assert client.get("/admin/counseling/booking/").status_code == 200
    return client, client.session.session_key, device


def database_text(archive, work):
    """Everything the archive's database part holds, as text to search."""
    with tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
    if connection.vendor == "postgresql":
        dump = work / "database.pgdump"
        return subprocess.run(
            ["pg_restore", "--data-only", "--file=-", str(dump)],
            capture_output=True,
            check=True,
        ).stdout
    return (work / "database.sqlite3").read_bytes()


@committed_db
def test_a_backup_holds_no_staff_session_and_no_readable_authenticator_key(tmp_path):
    make_site_data()
    _client, session_key, device = make_verified_staff_session()
    archive = back_up(tmp_path / "archive")

    everything = archive.read_bytes() + database_text(archive, tmp_path / "parts")

    assert session_key.encode() not in everything
    assert device.key.encode() not in everything
    assert base64.b32encode(device.bin_key) not in everything
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(tmp_path / "parts" / "database.sqlite3")
        assert copy.execute("SELECT count(*) FROM django_session").fetchone() == (0,)
        assert copy.execute("SELECT count(*) FROM otp_totp_totpdevice").fetchone() == (0,)
        copy.close()


@committed_db
def test_after_a_restore_old_sessions_are_gone_and_authenticators_still_work(tmp_path):
    make_site_data()
    client, _session_key, device = make_verified_staff_session()
    archive = back_up(tmp_path)
    TOTPDevice.objects.all().delete()  # lost with the database, say

    output = io.StringIO()
    call_command("restore", str(archive), interactive=False, stdout=output)

    assert "已恢复 1 个两步验证设备" in output.getvalue()
    # The session from before the backup opens nothing: the login page instead.
    response = client.get("/admin/counseling/booking/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    restored = TOTPDevice.objects.get(user__username="beifen")
    assert restored.key == device.key and restored.confirmed
    # The staff member's phone app still gives codes the server accepts.
    assert restored.verify_token(authenticator_code(restored))
    # New devices can still be added after the ids came back.
    TOTPDevice.objects.create(user=restored.user, name="新手机", confirmed=False)


@committed_db
def test_a_restore_under_another_secret_key_asks_staff_to_set_up_again(tmp_path, settings):
    make_site_data()
    make_verified_staff_session()
    archive = back_up(tmp_path)
    settings.SECRET_KEY = "a-different-server-key"

    output = io.StringIO()
    call_command("restore", str(archive), interactive=False, stdout=output)

    assert "两步验证设备无法解密" in output.getvalue()
    assert not TOTPDevice.objects.exists()
    assert Booking.objects.filter(reference="20260915").exists()

"""Residents' details at rest: a copy of the database shows none of them while a
coordinator (here a superuser) still reads them; bookings are found by mobile through a keyed hash
that erasure clears; keys rotate; the data migration encrypts existing rows and
reverses; production refuses to start without keys of its own."""

import base64
import datetime
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from counseling import booking as service
from counseling.availability import Availability
from counseling.models import LOCAL_TZ, Booking, Notification
from portal.core import privacy
from portal.core.sms import SmsError
from tests.counseling.test_access_matrix import log_in_staff, make_staff
from tests.factories import make_weekday_room, prove_mobile

ROOT = Path(__file__).resolve().parents[2]
RESIDENT = {
    "name": "欧阳晓测",
    "mobile": "13912340001",
    "email": "ouyang.xiaoce@example.com",
    "note": "失眠三个月,工作压力很大",
}
CANCEL_REASON = "欧阳晓测家中有事改期"
HERE = __name__


class QuotingSmsBackend:
    """A gateway whose refusals quote the number, as some providers' do."""

    def send(self, mobile, text):
        raise SmsError(f"number {mobile} is not reachable")


@pytest.fixture
def room(db):
    return make_weekday_room(
        "隐私测试咨询室",
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        hours=(8, 20),
        starts_on=datetime.date(2024, 1, 1),  # so bookings can be made in the past
    )


def free_slots(room):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return [slot for slot in Availability([room]).slots(room) if slot.day >= tomorrow]


def book_through_the_form(client, room, slot, **resident):
    local = slot.start.astimezone(LOCAL_TZ)
    url = reverse(
        "counseling:book", kwargs={"room_id": room.pk, "day": local.date(), "time": local.time()}
    )
    data = {**RESIDENT, **resident, "visit_type": "first", "note_consent": "on", "website": ""}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    return Booking.objects.get(starts_at=slot.start, room=room)


def database_dump():
    """Everything the database holds, as text. SQLite: the SQL dump and the raw
    bytes of the database file. PostgreSQL: pg_dump, or where it is missing or
    cannot talk to this server, every column of every table read as text."""
    if connection.vendor == "sqlite":
        dump = "\n".join(connection.connection.iterdump())
        raw = Path(connection.settings_dict["NAME"]).read_bytes().decode("utf-8", "replace")
        return dump + raw
    db = connection.settings_dict
    if shutil.which("pg_dump"):
        result = subprocess.run(
            ["pg_dump", "--data-only", "--no-owner", "-h", db["HOST"] or "localhost"]
            + (["-p", str(db["PORT"])] if db["PORT"] else [])
            + (["-U", db["USER"]] if db["USER"] else [])
            + [db["NAME"]],
            env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode == 0:
            return result.stdout
    return select_every_column()


def select_every_column():
    quote = connection.ops.quote_name
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = connection.introspection.get_table_description(cursor, table)
            selected = ", ".join(f"CAST({quote(column.name)} AS TEXT)" for column in columns)
            cursor.execute(f"SELECT {selected} FROM {quote(table)}")
            rows += [" ".join(str(value) for value in row) for row in cursor.fetchall()]
    return "\n".join(rows)


# Committed rows, so that pg_dump (another connection) sees them. Such tests run
# after the others and empty the database, groups included: no group is needed.
committed = pytest.mark.django_db(transaction=True)


@committed
def test_a_database_dump_shows_no_plaintext_phone_or_note(
    client, room, settings, django_capture_on_commit_callbacks
):
    # The resident proves the mobile with the code; from then on the gateway
    # refuses every text, quoting the number in its errors.
    prove_mobile(client, RESIDENT["mobile"])
    settings.SMS_BACKEND = f"{HERE}.QuotingSmsBackend"
    first, second = free_slots(room)[:2]
    booking = book_through_the_form(client, room, first)
    other = book_through_the_form(client, room, second)
    # The resident finds the booking again; staff search by the mobile,
    # opens it and cancels the other with a reason that names the resident.
    listed = client.get("/yuyue/", follow=True).content.decode()
    assert booking.reference_display in listed
    log_in_staff(client, make_staff("root", is_superuser=True, is_staff=True))
    asked = client.post("/admin/counseling/booking/search/", {"query": RESIDENT["mobile"]})
    listing = client.get(asked["Location"])
    assert booking.reference_display in listing.content.decode()
    assert client.get(f"/admin/counseling/booking/{booking.pk}/").status_code == 200
    client.post(f"/admin/counseling/booking/{other.pk}/cancel/", {"reason": CANCEL_REASON})
    assert Notification.objects.filter(booking=booking).exclude(last_error="").exists()

    dump = database_dump()
    assert booking.reference in dump  # the dump does hold the bookings
    for secret in (*RESIDENT.values(), CANCEL_REASON):
        assert secret not in dump

    shown = client.get(f"/admin/counseling/booking/{booking.pk}/").content.decode()
    for value in RESIDENT.values():
        assert value in shown
    export = client.get("/admin/counseling/booking/", {"export": "csv"})
    assert RESIDENT["name"] in b"".join(export.streaming_content).decode("utf-8-sig")


def test_personal_fields_are_stored_as_tokens_that_only_the_key_opens(room, settings):
    booking = service.create_booking(
        room=room,
        starts_at=free_slots(room)[0].start,
        visit_type="first",
        note_consent=True,
        **RESIDENT,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, mobile, email, note, mobile_hash FROM counseling_booking WHERE id = %s",
            [booking.pk],
        )
        *tokens, mobile_hash = cursor.fetchone()
    cipher = Fernet(settings.BOOKING_DATA_KEYS[0])
    assert [cipher.decrypt(token.encode()).decode() for token in tokens] == [
        RESIDENT[field] for field in ("name", "mobile", "email", "note")
    ]
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(tokens[1].encode())
    assert mobile_hash == privacy.mobile_digest(RESIDENT["mobile"]) != RESIDENT["mobile"]
    assert Booking.objects.get(pk=booking.pk).note == RESIDENT["note"]


def test_encrypted_fields_cannot_be_compared_by_value(room):
    with pytest.raises(FieldError, match="encrypted"):
        Booking.objects.filter(mobile=RESIDENT["mobile"]).exists()
    with pytest.raises(FieldError):
        Booking.objects.filter(note__icontains="失眠").exists()
    assert not Booking.objects.filter(email="").exists()


def found(mobile, reference):
    return Booking.objects.for_mobile(mobile).filter(reference=reference).first()


def test_lookup_by_mobile_goes_through_the_keyed_hash(client, room):
    booking = service.create_booking(
        room=room, starts_at=free_slots(room)[0].start, visit_type="first", **RESIDENT
    )
    typed = "+86 139-1234-0001"
    assert found(typed, booking.reference) == booking
    assert found("13912340002", booking.reference) is None
    response = prove_mobile(client, typed)
    assert response["Location"] == reverse("yuyue:bookings")
    assert booking.reference_display in client.get(response["Location"]).content.decode()


def test_erasure_clears_the_lookup_hash_too(room):
    then = timezone.now() - datetime.timedelta(days=200)
    slot = Availability([room], then).slots(room)[0]
    booking = service.create_booking(
        room=room, starts_at=slot.start, visit_type="first", now=then, **RESIDENT
    )
    call_command("purge_bookings", stdout=StringIO())
    erased = Booking.objects.get(pk=booking.pk)
    assert (erased.mobile, erased.mobile_hash, erased.note, erased.email) == ("", "", "", "")
    assert not Booking.objects.for_mobile(RESIDENT["mobile"]).exists()


def new_fernet_key(seed):
    return base64.urlsafe_b64encode(seed.encode().ljust(32, b"-")[:32]).decode()


def test_rotating_keys_reencrypts_and_rehashes_every_booking(room, settings):
    booking = service.create_booking(
        room=room, starts_at=free_slots(room)[0].start, visit_type="first", **RESIDENT
    )
    old_data, old_lookup = settings.BOOKING_DATA_KEYS[0], settings.BOOKING_LOOKUP_KEYS[0]
    new_data = new_fernet_key("rotated data key")
    settings.BOOKING_DATA_KEYS = [new_data, old_data]
    settings.BOOKING_LOOKUP_KEYS = ["rotated lookup key", old_lookup]
    # Before the rotation has run, both keys are in use: the old rows still open
    # and are still found.
    assert found(RESIDENT["mobile"], booking.reference) == booking

    out = StringIO()
    call_command("rotate_booking_keys", stdout=out)
    assert "1 个预约" in out.getvalue()

    settings.BOOKING_DATA_KEYS = [new_data]
    settings.BOOKING_LOOKUP_KEYS = ["rotated lookup key"]
    rotated = found(RESIDENT["mobile"], booking.reference)
    assert rotated == booking
    assert (rotated.name, rotated.email) == (RESIDENT["name"], RESIDENT["email"])


@committed
def test_the_migration_encrypts_existing_rows_and_its_reverse_restores_them():
    before, after = (
        ("counseling", "0002_booking_no_overlap"),
        (
            "counseling",
            "0003_encrypt_booking_personal_data",
        ),
    )
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps
        room = old.get_model("counseling", "Room").objects.create(name="旧咨询室", address="旧地址")
        start = datetime.datetime(2025, 3, 10, 9, tzinfo=LOCAL_TZ)
        old.get_model("counseling", "Booking").objects.create(
            reference="20417736",
            room_id=room.pk,
            starts_at=start,
            ends_at=start + datetime.timedelta(minutes=50),
            name="老居民",
            mobile="13700000007",
            note="旧的简述",
        )

        MigrationExecutor(connection).migrate([after])
        assert raw_row() != ("老居民", "13700000007", "旧的简述")
        assert raw_hash() == privacy.mobile_digest("13700000007")
        # Only the columns 0003 knows: later migrations add others.
        found_then = (
            Booking.objects.for_mobile("13700000007")
            .filter(reference="20417736")
            .only("reference", "note")
            .first()
        )
        assert found_then.note == "旧的简述"

        MigrationExecutor(connection).migrate([before])
        assert raw_row() == ("老居民", "13700000007", "旧的简述")
    finally:
        MigrationExecutor(connection).migrate(leaves)


def raw_row():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, mobile, note FROM counseling_booking")
        return cursor.fetchone()


def raw_hash():
    with connection.cursor() as cursor:
        cursor.execute("SELECT mobile_hash FROM counseling_booking")
        return cursor.fetchone()[0]


def test_production_refuses_to_start_without_booking_keys():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("BOOKING_DATA_KEY", "BOOKING_LOOKUP_KEY")
    }
    for extra in ({}, {"BOOKING_DATA_KEY": "not-a-fernet-key", "BOOKING_LOOKUP_KEY": "x"}):
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            cwd=ROOT,
            env={
                **env,
                **extra,
                "SECRET_KEY": "x" * 50,
                "WAGTAILADMIN_BASE_URL": "https://www.example.gov.cn",
                "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert "BOOKING_DATA_KEY" in result.stderr

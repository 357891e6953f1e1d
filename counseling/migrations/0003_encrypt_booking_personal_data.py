"""Encrypt residents' details at rest and find bookings by a keyed hash of the
mobile (portal.core.privacy). The columns first become plain text wide enough
for a token, existing rows are encrypted and hashed, then the fields become
encrypted fields (no schema change). Reversible: the reverse decrypts."""

from django.db import migrations, models

import portal.core.fields
from portal.core import privacy

PERSONAL_FIELDS = ("name", "mobile", "email", "note", "cancel_reason")


def encrypt_rows(apps, schema_editor):
    Booking = apps.get_model("counseling", "Booking")
    for booking in Booking.objects.values("pk", *PERSONAL_FIELDS).iterator():
        Booking.objects.filter(pk=booking["pk"]).update(
            mobile_hash=privacy.mobile_digest(booking["mobile"]) if booking["mobile"] else "",
            **{
                field: privacy.encrypt(booking[field]) if booking[field] else ""
                for field in PERSONAL_FIELDS
            },
        )


def decrypt_rows(apps, schema_editor):
    Booking = apps.get_model("counseling", "Booking")
    for booking in Booking.objects.values("pk", *PERSONAL_FIELDS).iterator():
        Booking.objects.filter(pk=booking["pk"]).update(
            mobile_hash="",
            **{
                field: privacy.decrypt(booking[field]) if booking[field] else ""
                for field in PERSONAL_FIELDS
            },
        )


def plain(verbose_name):
    return models.TextField(verbose_name, blank=True)


class Migration(migrations.Migration):
    dependencies = [("counseling", "0002_booking_no_overlap")]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="mobile_hash",
            field=models.CharField(
                blank=True,
                db_index=True,
                editable=False,
                max_length=64,
                verbose_name="手机号码查找码",
                default="",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="booking",
            name="over_mobile_limit",
            field=models.BooleanField(
                default=False,
                help_text="预约时这个号码已有上限数量的未到期预约;是否保留由协调员决定。",
                verbose_name="超出同一号码预约上限",
            ),
        ),
        migrations.AlterField("booking", "name", plain("称呼")),
        migrations.AlterField("booking", "mobile", plain("手机号码")),
        migrations.AlterField("booking", "email", plain("电子邮箱")),
        migrations.AlterField("booking", "note", plain("困扰简述")),
        migrations.AlterField("booking", "cancel_reason", plain("取消原因")),
        migrations.RunPython(encrypt_rows, decrypt_rows),
        migrations.AlterField(
            "booking", "name", portal.core.fields.EncryptedTextField(verbose_name="称呼")
        ),
        migrations.AlterField(
            "booking", "mobile", portal.core.fields.EncryptedTextField(verbose_name="手机号码")
        ),
        migrations.AlterField(
            "booking",
            "email",
            portal.core.fields.EncryptedTextField(blank=True, verbose_name="电子邮箱"),
        ),
        migrations.AlterField(
            "booking",
            "note",
            portal.core.fields.EncryptedTextField(blank=True, verbose_name="困扰简述"),
        ),
        migrations.AlterField(
            "booking",
            "cancel_reason",
            portal.core.fields.EncryptedTextField(blank=True, verbose_name="取消原因"),
        ),
    ]

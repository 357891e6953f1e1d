"""Residents prove their mobile with an SMS code (MobileCode), so the per-mobile
cap is a plain refusal again and the over_mobile_limit flag goes. Bookings that
carried it were made and confirmed; they stay as they are, and the count is
reported so coordinators can review them (the bulk cancel takes fake ones)."""

import django.utils.timezone
from django.db import migrations, models


def report_flagged(apps, schema_editor):
    Booking = apps.get_model("counseling", "Booking")
    flagged = Booking.objects.filter(over_mobile_limit=True, status="confirmed").count()
    if flagged:
        print(f"\n  {flagged} confirmed booking(s) were over the per-mobile cap; they stay booked.")


class Migration(migrations.Migration):

    dependencies = [
        ('counseling', '0003_encrypt_booking_personal_data'),
    ]

    operations = [
        migrations.CreateModel(
            name='MobileCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mobile_hash', models.CharField(db_index=True, max_length=64, verbose_name='手机号码查找码')),
                ('requester_hash', models.CharField(db_index=True, help_text='发出申请的浏览器会话。', max_length=64, verbose_name='申请者会话摘要')),
                ('code_hash', models.CharField(max_length=64, verbose_name='验证码摘要')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='发送时间')),
                ('expires_at', models.DateTimeField(verbose_name='失效时间')),
                ('tries', models.PositiveSmallIntegerField(default=0, verbose_name='已试次数')),
                ('used_at', models.DateTimeField(blank=True, null=True, verbose_name='使用时间')),
            ],
            options={
                'verbose_name': '短信验证码',
                'verbose_name_plural': '短信验证码',
                'ordering': ['-created_at'],
            },
        ),
        migrations.RunPython(report_flagged, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='booking',
            name='over_mobile_limit',
        ),
    ]

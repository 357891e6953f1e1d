from django.core.management import BaseCommand

from counseling import booking, notifications


class Command(BaseCommand):
    help = "发送明天预约的提醒,并重新排队到期重试的消息。建议每小时由 cron 运行一次;重复运行不会重复提醒。"

    def handle(self, *args, **options):
        reminders = booking.send_reminders()
        retried = notifications.retry_due()
        self.stdout.write(f"已安排提醒 {reminders} 个预约;重新排队待重试消息 {retried} 条。")

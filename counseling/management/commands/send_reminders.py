from django.core.management import BaseCommand

from counseling import booking


class Command(BaseCommand):
    help = "发送明天预约的提醒。建议每小时由 cron 运行一次;重复运行不会重复提醒。"

    def handle(self, *args, **options):
        reminders = booking.send_reminders()
        self.stdout.write(f"已安排提醒 {reminders} 个预约。")

from django.core.management import BaseCommand

from counseling import booking


class Command(BaseCommand):
    help = (
        "候补:把到期未确认的保留时段让给下一位,结束候补期已过的登记,"
        "并把空出来的时间保留给候补的居民。建议每分钟由 cron 运行一次。"
    )

    def handle(self, *args, **options):
        released, ended, made = booking.run_waitlist()
        self.stdout.write(
            f"到期释放保留 {released} 个,结束候补 {ended} 条,新保留并通知 {made} 个时段。"
        )

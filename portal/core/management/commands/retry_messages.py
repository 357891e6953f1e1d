from django.core.management import BaseCommand

from portal.core.outbox import retry_all_due


class Command(BaseCommand):
    help = (
        "把到了重试时间、还没发出的短信和邮件(预约通知、居民诉求的回执和答复)重新交给任务进程。"
        "建议每 10 分钟由 cron 运行一次。"
    )

    def handle(self, *args, **options):
        for model, count in retry_all_due().items():
            self.stdout.write(f"{model._meta.verbose_name}:重新排队 {count} 条。")

from django.core.management import BaseCommand, CommandError

from portal.service_requests.digest import send_digests
from portal.service_requests.handling import close_unrated


class Command(BaseCommand):
    help = (
        "给各单位负责人和街道督办发送逾期及今天到期的诉求清单,并把居民 7 天未评价的答复"
        "自动办结。建议每天早上由 cron 运行一次。"
    )

    def handle(self, *args, **options):
        closed = close_unrated()
        sent, nothing_due, no_email, failed = send_digests()
        self.stdout.write(
            f"已发送提醒 {len(sent)} 封;无待办 {len(nothing_due)} 人;"
            f"自动办结未评价的诉求 {closed} 件。"
        )
        if no_email:
            self.stderr.write(
                "这些负责人有待办诉求,但账号没有填写电子邮箱,未能提醒:" + "、".join(no_email)
            )
        if failed:
            raise CommandError(
                "发信服务器暂时不可用,这些负责人的提醒没有发出(明天会连同新的待办一起再发):"
                + "、".join(failed)
            )

import datetime

from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from counseling import booking, conf
from portal.core import verification


class Command(BaseCommand):
    help = "删除预约结束若干天后的个人信息(称呼、手机、邮箱、简述、取消原因),保留匿名统计所需的咨询室、时间、状态和类型;并删除一天以前的短信验证码记录。建议每天运行一次。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=(
                "预约结束多少天后删除个人信息(默认取 COUNSELING_RETENTION_DAYS,"
                f"未设置时为 {conf.DEFAULTS['RETENTION_DAYS']} 天)"
            ),
        )

    def handle(self, *args, days=None, **options):
        days = conf.get("RETENTION_DAYS") if days is None else days
        if days < 0:
            raise CommandError("--days 不能为负数。")
        before = timezone.now() - datetime.timedelta(days=days)
        erased, messages = booking.erase_personal_data(before)
        codes = verification.purge(timezone.now() - verification.codes_kept_for())
        self.stdout.write(
            f"已删除 {erased} 个预约的个人信息(结束超过 {days} 天);删除消息记录 {messages} 条;"
            f"删除过期的短信验证码 {codes} 条。"
        )

import datetime

from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from portal.core import verification
from portal.service_requests.handling import (
    erase_personal_data,
    forget_stray_photo_files,
    forget_unsent_photos,
    retention_days,
)


class Command(BaseCommand):
    help = (
        "删除办结若干天后的居民诉求中的个人信息(称呼、手机、邮箱、地址、诉求内容、评价意见、答复和"
        "办理记录中的文字和照片),保留类别、单位、时间、状态和评价,用于匿名统计;并删除没有完成"
        "短信验证的表单留下的照片、没有记录对应的照片文件和一天以前的短信验证码。建议每天运行一次。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="办结多少天后删除(默认取 SERVICE_REQUESTS_RETENTION_DAYS,未设置时为 365 天)",
        )

    def handle(self, *args, days=None, **options):
        days = retention_days() if days is None else days
        if days < 0:
            raise CommandError("--days 不能为负数。")
        erased = erase_personal_data(timezone.now() - datetime.timedelta(days=days))
        now = timezone.now()
        # A form waiting for its code is kept this long; its photos then go too.
        waiting = datetime.timedelta(minutes=verification.knob("PENDING_FORM_MINUTES"))
        unsent = forget_unsent_photos(now - waiting)
        stray = forget_stray_photo_files(now - datetime.timedelta(hours=1))
        codes = verification.purge(now - verification.codes_kept_for())
        self.stdout.write(
            f"已删除 {erased} 条诉求的个人信息(办结超过 {days} 天);删除未提交表单的照片 {unsent} 张、"
            f"无主的照片文件 {stray} 个;删除过期的短信验证码 {codes} 条。"
        )

"""Remove a staff member's authenticator, for a lost or replaced phone: their next
admin visit asks them to set up a new one."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.accounts import two_factor


class Command(BaseCommand):
    help = "删除某位工作人员的两步验证设备(手机丢失或更换时),下次进入后台时重新设置。"

    def add_arguments(self, parser):
        parser.add_argument("username", help="工作人员的用户名")

    def handle(self, username, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as missing:
            raise CommandError(f"没有用户名为 {username} 的账号。") from missing
        removed = two_factor.reset(user)
        self.stdout.write(
            f"已删除 {username} 的 {removed} 个验证设备;TA 下次进入后台时需要重新设置两步验证。"
        )

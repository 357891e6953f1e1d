from django.core.management import BaseCommand, CommandError

from portal.service_requests.models import ApiPartner


class Command(BaseCommand):
    help = (
        "为合作平台(如 12345 政务服务便民热线平台、微信小程序)创建开放接口(Open311)密钥,"
        "密钥只显示这一次,系统只保存它的摘要;加 --revoke 则停用这个平台的密钥。"
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="合作平台的名称,例如“12345 平台”")
        parser.add_argument(
            "--revoke", action="store_true", help="停用这个平台的密钥(它已提交的诉求照常办理)"
        )

    def handle(self, *args, name, revoke=False, **options):
        if revoke:
            if not ApiPartner.objects.filter(name=name).update(is_active=False):
                raise CommandError(f"没有名为“{name}”的合作平台。")
            self.stdout.write(f"已停用“{name}”的密钥。")
            return
        if ApiPartner.objects.filter(name=name).exists():
            raise CommandError(f"已有名为“{name}”的合作平台;要换密钥,先停用它,再用新名称创建。")
        _partner, key = ApiPartner.issue(name)
        self.stdout.write(f"已为“{name}”创建密钥(只显示这一次,请通过安全渠道交给对方):\n{key}")

from django.core.management import BaseCommand

from counseling import booking


class Command(BaseCommand):
    help = "用 BOOKING_DATA_KEY 的第一个密钥重新加密全部预约的个人信息,并用 BOOKING_LOOKUP_KEY 的第一个密钥重算手机号码查找码。更换密钥时先把新密钥放在最前面,运行本命令后再去掉旧密钥。"

    def handle(self, *args, **options):
        rotated = booking.rotate_keys()
        self.stdout.write(f"已用新密钥重新加密 {rotated} 个预约。")

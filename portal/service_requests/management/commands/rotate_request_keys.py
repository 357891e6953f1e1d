from django.core.management import BaseCommand

from portal.service_requests.handling import rotate_keys


class Command(BaseCommand):
    help = (
        "用 BOOKING_DATA_KEY 的第一个密钥重新加密全部居民诉求的个人信息、办理记录中的文字和照片,并用 "
        "BOOKING_LOOKUP_KEY 的第一个密钥重算手机号码查找码。更换密钥时先把新密钥放在最前面,运行本命令"
        "和 rotate_booking_keys 后再去掉旧密钥。"
    )

    def handle(self, *args, **options):
        requests, lines = rotate_keys()
        self.stdout.write(f"已用新密钥重新加密 {requests} 条诉求和 {lines} 条办理记录。")

import secrets
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, call_command
from django.db import OperationalError, connection, transaction

from portal.core.management.commands.backup import analyze
from portal.core.storage import disk_refused

PASSWORD_FILE = Path(settings.BASE_DIR) / ".admin-password"


def demo_loaders():
    """The section loaders of the demo package. The package lives only in the
    source tree, never in an installed portal, so it is imported when the command
    runs and its absence is said plainly."""
    try:
        from demo import campaigns, news, organisation, rooms, service_requests, site, talks
    except ModuleNotFoundError as error:
        if error.name != "demo":
            raise
        raise CommandError(
            "找不到演示内容(源代码根目录下的 demo/ 目录)。演示内容不随网站安装,"
            "请在源代码目录中运行本命令。"
        ) from error
    return site, organisation, service_requests, rooms, news, talks, campaigns


class Command(BaseCommand):
    help = "创建(或补全)演示站点内容;可重复运行,结果相同。"

    def add_arguments(self, parser):
        parser.add_argument("--no-admin", action="store_true", help="不创建管理员账号")

    def handle(self, *args, no_admin=False, **options):
        try:
            self.seed(no_admin)
        except OSError as error:
            if not disk_refused(error):
                raise
            raise CommandError(
                f"磁盘空间不足或不能写入({error.strerror}:{error.filename or settings.MEDIA_ROOT}),"
                "演示内容没有载入(数据库没有改动)。请腾出空间后再运行。"
            ) from error
        except OperationalError as error:
            if "disk is full" not in str(error) and "No space left" not in str(error):
                raise
            raise CommandError(
                "数据库所在的磁盘已满,演示内容没有载入(数据库没有改动)。请腾出空间后再运行。"
            ) from error

    def seed(self, no_admin):
        site, organisation, service_requests, rooms, news, talks, campaigns = demo_loaders()
        with transaction.atomic():
            home = site.seed_home()
            site.seed_pages(home)
            organisation.seed()
            service_requests.seed(home)
            rooms.seed()
            news.seed(home)
            talks.seed(home)
            campaigns.seed(home)
        call_command("update_index", stdout=StringIO(), stderr=StringIO())
        analyze(connection)
        self.stdout.write(self.style.SUCCESS("演示内容已就绪。"))
        if not no_admin:
            self.report_admin_login()

    def report_admin_login(self):
        """Create the demo superuser with a generated password on first run and
        say how to log in; the password is kept in a private local file."""
        User = get_user_model()
        user = User.objects.filter(username="admin").first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser("admin", "admin@jinjialing.example", password)
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        elif PASSWORD_FILE.exists():
            password = PASSWORD_FILE.read_text().strip()
        else:
            password = None
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        self.stdout.write(f"管理后台:{base}/admin/  用户名:admin")
        if password:
            self.stdout.write(f"密码:{password}(保存在 {PASSWORD_FILE.name},仅本机可读)")
        else:
            self.stdout.write("密码:请运行 python manage.py changepassword admin 重新设置。")

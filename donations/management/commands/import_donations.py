"""python manage.py import_donations PATH --format wechat|alipay|bank|template [--branch CODE] [--campaign SLUG]
[--user USERNAME] [--mapping NAME]

``--mapping NAME`` reads a bank statement with the branch's saved column mapping of that name
(made once in the admin upload); without it a bank statement whose header a saved mapping of the
branch was made for is read with that mapping anyway.

Prints ``imported: N; duplicates: N; refunded: N; rejected: N`` and then one
``line N: reason`` per rejected row (skipped rows grouped by reason, then
warnings). Exits 0 when the file was read, even with rejected rows; exits
non-zero (CommandError) when the file is rejected whole and nothing was written.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from donations.imports import FORMATS, ImportFileError, import_statement
from donations.imports.base import HeaderNotRecognised
from donations.models import Campaign
from donations.services.statement_mappings import statement_mapping_named
from redcross.models import Branch
from redcross.selectors import city_branch


class Command(BaseCommand):
    help = "导入捐赠对账单（微信支付、支付宝、银行对账单、本平台导入模板）"

    def add_arguments(self, parser):
        parser.add_argument("path", help="对账单文件（CSV 或 XLSX）")
        parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS, help="文件格式")
        parser.add_argument("--branch", help="接收组织代码（默认：市红十字会）")
        parser.add_argument("--campaign", help="募捐活动短名（默认：该组织的日常捐赠）")
        parser.add_argument("--user", help="登记人用户名（默认：第一个启用的超级用户）")
        parser.add_argument("--mapping", help="银行对账单的列映射名称（在管理后台建立；默认按表头自动识别）")

    def handle(self, *args, path, fmt, branch=None, campaign=None, user=None, mapping=None, **options):
        by = self._user(user)
        target = self._branch(branch)
        saved = None
        if mapping:
            if fmt != "bank":
                raise CommandError("--mapping 只用于银行对账单（--format bank）")
            saved = statement_mapping_named(target, mapping)
            if saved is None:
                raise CommandError(f"{target.name}没有名为“{mapping}”的列映射")
        chosen = None
        if campaign:
            chosen = Campaign.objects.select_related("branch").filter(slug=campaign).first()
            if chosen is None:
                raise CommandError(f"募捐活动不存在：{campaign}")
        try:
            report = import_statement(path_or_file=path, fmt=fmt, by=by, branch=target, campaign=chosen, mapping=saved)
        except HeaderNotRecognised as exc:
            hint = "可在管理后台“导入对账单”上传此文件，为这家银行建立列映射；以后的文件会自动使用，或用 --mapping 指定"
            raise CommandError(f"文件未导入：{exc.message}\n{hint}") from None
        except ImportFileError as exc:
            raise CommandError(f"文件未导入：{exc.message}") from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)

    def _user(self, username):
        users = get_user_model().objects.filter(is_active=True)
        if username:
            found = users.filter(username=username, is_staff=True).first()
            if found is None:
                raise CommandError(f"没有启用的工作人员账号：{username}")
            return found
        found = users.filter(is_superuser=True).order_by("id").first()
        if found is None:
            raise CommandError("没有启用的超级用户；请用 --user 指定登记人（须有导入捐赠对账单权限）")
        return found

    def _branch(self, code):
        if code:
            found = Branch.objects.filter(code=code).first()
            if found is None:
                raise CommandError(f"组织代码不存在：{code}")
            return found
        found = city_branch()
        if found is None:
            raise CommandError("还没有市红十字会；请用 --branch 指定接收组织")
        return found

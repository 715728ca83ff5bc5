"""python manage.py monthly_report --month YYYY-MM | --year YYYY [--branch CODE] [--system]
--format xlsx|csv|pdf --output PATH [--user USERNAME]

Builds the monthly (or annual) report synchronously and writes it to PATH, whole or not at all:
the file is written under a temporary name in the same folder and renamed at the end. Bad input
(unknown branch or user, malformed or future period, a branch the user may not see, a folder
that cannot be written) stops with one line and leaves no file.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from redcross.models import Branch
from redcross.scoping import can_access_branch
from redcross.selectors import BranchScope, city_branch
from reports.exports import FORMATS
from reports.periods import ReportPeriod
from reports.selectors import report_build
from reports.services import report_write_file


class Command(BaseCommand):
    help = "生成统计报表（月报或年报），写入 --output 指定的文件"

    def add_arguments(self, parser):
        period = parser.add_mutually_exclusive_group(required=True)
        period.add_argument("--month", help="月报的月份，如 2026-03")
        period.add_argument("--year", help="年报的年度，如 2025（含与上年比较和目标完成情况）")
        parser.add_argument("--branch", help="组织代码（默认：市红十字会）")
        parser.add_argument("--system", action="store_true", help="全市系统：含全部下级组织（默认：本级）")
        parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS, help="文件格式")
        parser.add_argument("--output", required=True, help="输出文件路径")
        parser.add_argument("--user", help="以该工作人员的权限生成（检查其可见的组织）")

    def handle(self, *args, month=None, year=None, branch=None, system=False, fmt, output, user=None, **options):
        period = self._period(month, year)
        target = self._branch(branch)
        if user:
            self._check_user(user, target)
        path = self._output(output)
        scope = BranchScope.SYSTEM if system else BranchScope.OWN
        report = report_build(period=period, branch=target, scope=scope)
        try:
            size = report_write_file(report=report, fmt=fmt, path=path)
        except OSError as exc:
            raise CommandError(f"--output：无法写入 {path}（{exc.strerror or exc}）") from None
        self.stdout.write(f"written: {path} ({size} bytes); {report.title}")

    def _period(self, month, year) -> ReportPeriod:
        try:
            if month is not None:
                return ReportPeriod.month_of(month, field="--month")
            return ReportPeriod.year_of(year, field="--year")
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise CommandError(f"{field}：{messages[0]}") from None

    def _branch(self, code) -> Branch:
        if code:
            found = Branch.objects.filter(code=code.strip().upper()).first()
            if found is None:
                raise CommandError(f"--branch：组织代码不存在：{code}")
            return found
        found = city_branch()
        if found is None:
            raise CommandError("--branch：还没有市红十字会；请用 --branch 指定组织")
        return found

    def _check_user(self, username: str, branch: Branch) -> None:
        found = get_user_model().objects.filter(username=username, is_active=True, is_staff=True).first()
        if found is None:
            raise CommandError(f"--user：没有启用的工作人员账号：{username}")
        if not found.has_perm("reports.view_reportexport"):
            raise CommandError(f"--user：{username} 没有查看统计报表的权限")
        if not can_access_branch(found, branch):
            raise CommandError(f"--branch：{username} 无权查看 {branch.name}（{branch.code}）的数据")

    def _output(self, output: str) -> Path:
        path = Path(output).expanduser()
        if path.is_dir():
            raise CommandError(f"--output：{path} 是一个文件夹，请给出文件名")
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise CommandError(f"--output：文件夹不存在：{folder}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CommandError(f"--output：没有写入权限：{folder}")
        if path.exists() and not os.access(path, os.W_OK):
            raise CommandError(f"--output：文件不可覆盖：{path}")
        return path

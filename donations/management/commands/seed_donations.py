"""python manage.py seed_donations --count N [--branch CODE] [--campaign SLUG_OR_ID] [--start YYYY-MM-DD] [--days D]
[--seed S]

Brings a campaign to at least N invented donations for benchmarks (see ``donations.seeding``):
by default the city branch's 新冠肺炎疫情防控专项募捐, created if missing. Prints a progress line
per batch of 5,000 (not with ``--verbosity 0``) and one summary line::

    seeded: 100000 donations, 37764 donors, 23175 items in 31.2 s (3203 donations/s); campaign ...
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from donations.models import Campaign
from donations.seeding import MAX_SEED_COUNT, seed_donations
from redcross.models import Branch


class Command(BaseCommand):
    help = "生成用于性能测试的虚构捐赠数据（补足到指定笔数，可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--count", type=int, required=True, help=f"募捐活动至少应有的捐赠笔数（1-{MAX_SEED_COUNT}）"
        )
        parser.add_argument("--branch", help="接收组织代码（默认：市红十字会，或所选募捐活动的组织）")
        parser.add_argument("--campaign", help="募捐活动短名或编号（默认：新冠肺炎疫情防控专项募捐，没有则创建）")
        parser.add_argument("--start", default="2020-01-24", help="第一天，YYYY-MM-DD（默认 2020-01-24）")
        parser.add_argument("--days", type=int, default=60, help="天数（默认 60）")
        parser.add_argument("--seed", type=int, default=2020, help="随机数种子（默认 2020）")

    def handle(self, *args, count, branch=None, campaign=None, start, days, seed, **options):
        if not 1 <= count <= MAX_SEED_COUNT:
            raise CommandError(f"--count must be between 1 and {MAX_SEED_COUNT}, not {count}")
        if days < 1:
            raise CommandError(f"--days must be at least 1, not {days}")
        try:
            first_day = date.fromisoformat(start)
        except ValueError:
            raise CommandError(f"--start must be a date as YYYY-MM-DD, not {start!r}") from None
        target_branch = None
        if branch:
            target_branch = Branch.objects.filter(code=branch).first()
            if target_branch is None:
                raise CommandError(f"unknown branch code: {branch}")
        target_campaign = None
        if campaign:
            target_campaign = Campaign.objects.filter(slug=campaign).first()
            if target_campaign is None and campaign.isdigit():
                target_campaign = Campaign.objects.filter(pk=int(campaign)).first()
            if target_campaign is None:
                raise CommandError(f"unknown campaign: {campaign}")
        progress = self.stdout if options.get("verbosity", 1) >= 1 else None
        try:
            report = seed_donations(
                count=count,
                branch=target_branch,
                campaign=target_campaign,
                start=first_day,
                days=days,
                seed=seed,
                stdout=progress,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(report.summary())

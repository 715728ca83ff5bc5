"""python manage.py rebuild_campaign_figures [--campaign SLUG]

Recomputes the kept public figures (``CampaignDayFigures``, ``CampaignRecipientFigures``) from the
ledgers: once after the migration that adds them (0013), and after the nightly reconciliation
reported that they differ from the books. Run it at a quiet moment (see
``donations.services.figures.rebuild_kept_figures``).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from donations.models import Campaign
from donations.services.figures import rebuild_kept_figures


class Command(BaseCommand):
    help = "根据账目重新计算募捐活动的公开数字（迁移后运行一次；对账发现差异后运行）"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="募捐活动短名（默认：全部募捐活动）")

    def handle(self, *args, campaign=None, **options):
        chosen = None
        if campaign:
            chosen = Campaign.objects.filter(slug=campaign[:80]).first()
            if chosen is None:
                raise CommandError(f"no campaign with the short name {campaign!r}")
        began = time.perf_counter()
        rows = rebuild_kept_figures(campaign=chosen)
        self.stdout.write(f"rebuilt {rows} day rows in {time.perf_counter() - began:.1f} s")

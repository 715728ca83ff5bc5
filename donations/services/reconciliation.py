"""The nightly check of every campaign's books (received = allocated + in stock + cash balance),
and of the kept public figures against a full recomputation of the ledgers."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import connection, transaction

from donations.models import (
    FIGURE_COLUMNS,
    Campaign,
    CampaignDayFigures,
    CampaignRecipientFigures,
    ReconciliationRun,
)
from donations.selectors.books import Bucket, Figures, campaign_ledgers, campaigns_to_reconcile
from donations.services.figures import ledger_recipient_figures
from redcross.models import Branch

logger = logging.getLogger(__name__)

MAX_FIGURE_DISCREPANCIES = 20  # per campaign and branch; the rest are counted

# the kept figures' names in the discrepancies staff read
FIGURE_LABELS = {
    "donations": "捐赠笔数",
    "cash_gross": "捐款金额",
    "cash_refunded": "退款金额",
    "goods_received": "物资价值",
    "unvalued_lots": "未标价物资批次",
    "cash_allocated": "已拨付捐款",
    "cash_reserved": "待复核拨付",
    "cash_paid": "拨付金额",
    "goods_allocated": "已调拨物资价值",
    "goods_in_stock": "库存物资价值",
    "goods_awaiting_check": "待验收物资价值",
    "goods_written_off": "损耗核销价值",
}


def kept_figure_differences(campaign: Campaign, branch: Branch, ledgers: dict[Bucket, Figures]) -> list[str]:
    """Every kept figure of the campaign at the branch that differs from the ledgers' (by day, and
    by kind of recipient), as discrepancies for staff."""
    kept: dict[Bucket, Figures] = {
        (campaign.pk, branch.pk, row["day"]): Figures.from_fen(row)
        for row in CampaignDayFigures.objects.filter(campaign=campaign, branch=branch).values("day", *FIGURE_COLUMNS)
    }
    differences: list[str] = []
    for key in sorted(set(kept) | set(ledgers), key=lambda k: k[2]):
        shown, books = kept.get(key, Figures()), ledgers.get(key, Figures())
        for name in FIGURE_COLUMNS:
            if getattr(shown, name) != getattr(books, name):
                differences.append(
                    f"公开数字与账目不符：{key[2]:%Y-%m-%d} {FIGURE_LABELS[name]} 公开 {getattr(shown, name)}，"
                    f"账目重算 {getattr(books, name)}"
                )
    kept_kinds = {
        row["recipient_kind"]: Decimal(row["allocated"]) / 100
        for row in CampaignRecipientFigures.objects.filter(campaign=campaign, branch=branch).values(
            "recipient_kind", "allocated"
        )
    }
    ledger_kinds = {kind: value for (_c, _b, kind), value in ledger_recipient_figures(campaign, branch).items()}
    for kind in sorted(set(kept_kinds) | set(ledger_kinds)):
        shown, books = kept_kinds.get(kind, Decimal("0")), ledger_kinds.get(kind, Decimal("0"))
        if shown != books:
            differences.append(f"公开数字与账目不符：拨付给 {kind} 类受赠单位 公开 {shown:.2f}，账目重算 {books:.2f}")
    if len(differences) > MAX_FIGURE_DISCREPANCIES:
        extra = len(differences) - MAX_FIGURE_DISCREPANCIES
        differences = [*differences[:MAX_FIGURE_DISCREPANCIES], f"公开数字与账目另有 {extra} 处不符"]
    return differences


def reconciliation_check(*, campaign: Campaign, branch: Branch) -> ReconciliationRun:
    """Compute the campaign's books at the branch gift by gift, compare the kept public figures with
    them, and record the result with any discrepancy. On PostgreSQL, when it is a transaction of
    its own, everything is read from one snapshot (REPEATABLE READ): confirmations committed
    meanwhile are in both or in neither, never reported as a difference."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        books, ledgers = campaign_ledgers(campaign, branch)
        discrepancies = [*books.discrepancies, *kept_figure_differences(campaign, branch, ledgers)]
        run = ReconciliationRun.objects.create(
            campaign=campaign,
            branch=branch,
            is_balanced=not discrepancies,
            figures=books.figures(),
            discrepancies=discrepancies,
        )
    if discrepancies:
        # ids only: the discrepancies themselves are for staff, in the admin
        logger.warning(
            "reconciliation: campaign %s at branch %s has %d discrepancies",
            campaign.pk,
            branch.pk,
            len(discrepancies),
        )
    return run


def reconciliation_check_all() -> list[ReconciliationRun]:
    """One record per campaign and branch with any confirmed donation or allocation, or any kept figure."""
    pairs = campaigns_to_reconcile()
    seen = {(c.pk, b.pk) for c, b in pairs}
    kept = set(CampaignDayFigures.objects.values_list("campaign_id", "branch_id").distinct())
    kept |= set(CampaignRecipientFigures.objects.values_list("campaign_id", "branch_id").distinct())
    extra = sorted(kept - seen)
    if extra:
        campaigns = Campaign.objects.in_bulk({c for c, _b in extra})
        branches = Branch.objects.in_bulk({b for _c, b in extra})
        pairs = [*pairs, *((campaigns[c], branches[b]) for c, b in extra)]
    return [reconciliation_check(campaign=c, branch=b) for c, b in pairs]

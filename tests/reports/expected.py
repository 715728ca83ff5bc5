"""The report's figures computed another way: Python loops over the rows, the branch tree walked
through ``parent`` (not the materialised path), months taken from local times in Python, goods
valued by ``DonationItem.value`` and ``AllocationSource.value``. No SQL aggregate anywhere."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from donations.models import (
    Allocation,
    Channel,
    Donation,
    DonationKind,
    Receipt,
    ReceiptReversal,
    Recipient,
    StockMovement,
)
from redcross.models import Branch

ZERO = Decimal("0.00")


def in_scope(branch_id: int, root: Branch, scope: str) -> bool:
    if scope == "own":
        return branch_id == root.pk
    node = Branch.objects.get(pk=branch_id)
    while node is not None:
        if node.pk == root.pk:
            return True
        node = node.parent
    return False


def in_period(moment, period) -> bool:
    local = timezone.localtime(moment)
    if period.kind == "year":
        return local.year == period.year
    return (local.year, local.month) == (period.year, period.month)


def before_end(moment, period) -> bool:
    local = timezone.localtime(moment)
    if period.kind == "year":
        return local.year <= period.year
    return (local.year, local.month) <= (period.year, period.month)


def donations(period, root, scope) -> list[Donation]:
    return [
        d
        for d in Donation.objects.prefetch_related("items").order_by("id")
        if d.status == "confirmed" and in_period(d.received_at, period) and in_scope(d.branch_id, root, scope)
    ]


def cash_of(donation: Donation) -> Decimal:
    return donation.amount - donation.refunded_amount if donation.kind == DonationKind.CASH else ZERO


def goods_of(donation: Donation) -> Decimal:
    return sum((item.value for item in donation.items.all() if item.value is not None), ZERO)


def _add(table, key, count, cash, goods):
    row = table[key]
    row[0] += count
    row[1] += cash
    row[2] += goods
    row[3] += cash + goods


def _table():
    return defaultdict(lambda: [0, ZERO, ZERO, ZERO])


def intake(period, root, scope, key) -> dict:
    """{key(donation): [count, cash, goods, total]}"""
    out = _table()
    for donation in donations(period, root, scope):
        _add(out, key(donation), 1, cash_of(donation), goods_of(donation))
    return dict(out)


def by_campaign(period, root, scope):
    return intake(period, root, scope, lambda d: d.campaign.name)


def by_channel(period, root, scope):
    return intake(period, root, scope, lambda d: str(Channel(d.channel).label))


def by_kind(period, root, scope):
    table = intake(period, root, scope, lambda d: str(DonationKind(d.kind).label))
    return {label: [row[0], row[3]] for label, row in table.items()}


def directed(period, root, scope):
    return intake(period, root, scope, lambda d: "定向捐赠" if d.designated_recipient_id else "非定向捐赠")


def allocations(period, root, scope) -> dict:
    """{recipient kind label: [count, cash, goods, total]} for allocations confirmed in the period."""
    out = _table()
    for allocation in Allocation.objects.prefetch_related("sources__item").select_related("recipient"):
        if allocation.status != "confirmed" or not in_period(allocation.confirmed_at, period):
            continue
        if not in_scope(allocation.branch_id, root, scope):
            continue
        cash = allocation.amount if allocation.kind == DonationKind.CASH else ZERO
        goods = sum((s.value for s in allocation.sources.all() if s.item_id is not None and s.value is not None), ZERO)
        _add(out, str(Recipient.Kind(allocation.recipient.kind).label), 1, cash, goods)
    return dict(out)


def rollup(period, root) -> dict:
    """{branch name: [own count, own cash, own goods, own total, subtree total, own allocated]}"""
    out = {}
    for branch in Branch.objects.all():
        if not in_scope(branch.pk, root, "system"):
            continue
        own = intake(period, branch, "own", lambda d: "all").get("all", [0, ZERO, ZERO, ZERO])
        subtree = intake(period, branch, "system", lambda d: "all").get("all", [0, ZERO, ZERO, ZERO])
        allocated = sum((row[3] for row in allocations(period, branch, "own").values()), ZERO)
        if subtree[3] or allocated or branch.pk == root.pk:
            out[branch.name] = [*own, subtree[3], allocated]
    return out


def receipts(period, root, scope) -> dict:
    issued = [r for r in Receipt.objects.all() if in_period(r.issued_at, period) and in_scope(r.branch_id, root, scope)]
    reversed_ = [
        v
        for v in ReceiptReversal.objects.select_related("receipt")
        if in_period(v.reversed_at, period) and in_scope(v.receipt.branch_id, root, scope)
    ]
    issued_amount = sum((r.total_amount for r in issued if r.total_amount is not None), ZERO)
    reversed_amount = sum((v.receipt.total_amount for v in reversed_ if v.receipt.total_amount is not None), ZERO)
    return {
        "开具票据": [len(issued), issued_amount],
        "冲红票据": [len(reversed_), reversed_amount],
        "净额（开具减冲红）": [len(issued) - len(reversed_), issued_amount - reversed_amount],
    }


def stock(period, root, scope) -> dict:
    """{(warehouse, item name): [quantity, unvalued quantity, value]} at the end of the period."""
    lots = defaultdict(Decimal)
    for m in StockMovement.objects.select_related("warehouse", "item"):
        if m.status == "confirmed" and before_end(m.moved_at, period) and in_scope(m.warehouse.branch_id, root, scope):
            lots[(m.warehouse, m.item)] += m.quantity
    out = defaultdict(lambda: [Decimal("0"), Decimal("0"), ZERO])
    for (warehouse, item), quantity in lots.items():
        if not quantity:
            continue
        row = out[(warehouse.name, item.name)]
        row[0] += quantity
        if item.value is None:
            row[1] += quantity
        else:
            row[2] += (quantity * item.unit_value).quantize(Decimal("0.01"))
    return dict(out)


def received_all_time(campaign, branch) -> Decimal:
    """What the books call received for a campaign at a branch: every confirmed gift, ever."""
    return sum(
        (
            cash_of(d) + goods_of(d)
            for d in Donation.objects.filter(campaign=campaign, branch=branch).prefetch_related("items")
            if d.status == "confirmed"
        ),
        ZERO,
    )

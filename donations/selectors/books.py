"""The books of a campaign at a branch: received = allocated + in stock + cash balance.

Every term is computed in the database from a different ledger, so the equation is a real
check and not a tautology:
- received: confirmed donations (cash net of refunds; goods: each lot's registered quantity)
- allocated: the sources (款物去向) of confirmed allocations
- in stock: confirmed stock movements, plus goods confirmed but not yet through their check
- cash balance: cash received minus the amounts of confirmed cash allocations
- written off (goods only): shortfalls found at the check and stock-taking losses, with reasons;
  shown as their own term so the equation stays exact.
Goods are valued at their lot's unit value where it has evidence of value; lots without a
value are counted in quantities (and reconciled in quantities, lot by lot).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from donations.models import (
    FIGURE_COLUMNS,
    Allocation,
    AllocationSource,
    AllocationStatus,
    Campaign,
    Donation,
    DonationItem,
    DonationKind,
    MovementKind,
    MovementStatus,
    OpenCash,
    StockMovement,
    public_donation_q,
)
from donations.models.figures import COUNT_COLUMNS
from donations.valuation import fen_to_yuan, has_value_evidence, lot_value, lot_value_fen
from redcross.models import Branch
from redcross.money import fen

ZERO = Decimal("0.00")
_QTY = DecimalField(max_digits=20, decimal_places=3)
_MONEY = DecimalField(max_digits=20, decimal_places=2)


Bucket = tuple[int, int, date]  # (campaign id, branch id, day): the key of a kept row


@dataclass
class Figures:
    """The additive figures of the books, and the one definition of the figures derived from them.

    ``campaign_books`` sums them over a campaign's ledgers at a branch; the kept rows
    (``donations.models.CampaignDayFigures``) hold the same sums per day, maintained as the
    difference of these sums before and after each write (``donations.services.figures``).
    """

    donations: int = 0
    cash_gross: Decimal = ZERO  # confirmed cash gifts as received
    cash_refunded: Decimal = ZERO
    goods_received: Decimal = ZERO
    unvalued_lots: int = 0
    cash_allocated: Decimal = ZERO  # the cash sources (款物去向) of confirmed allocations
    cash_reserved: Decimal = ZERO  # drawn by allocations registered but not yet confirmed
    cash_paid: Decimal = ZERO  # the amounts of confirmed cash allocations
    goods_allocated: Decimal = ZERO
    goods_in_stock: Decimal = ZERO
    goods_awaiting_check: Decimal = ZERO
    goods_written_off: Decimal = ZERO

    @property
    def cash_received(self) -> Decimal:
        return self.cash_gross - self.cash_refunded

    @property
    def cash_balance(self) -> Decimal:
        return self.cash_received - self.cash_paid

    @property
    def received(self) -> Decimal:
        return self.cash_received + self.goods_received

    @property
    def allocated(self) -> Decimal:
        return self.cash_allocated + self.goods_allocated

    @property
    def in_stock(self) -> Decimal:
        return self.goods_in_stock + self.goods_awaiting_check

    @property
    def right_side(self) -> Decimal:
        """The equation's other side, what became of what was received: allocated + in stock +
        cash balance + written off (goods lost at the check or in stock-taking)."""
        return self.allocated + self.in_stock + self.cash_balance + self.goods_written_off

    def add(self, other: Figures, sign: int = 1) -> None:
        for name in FIGURE_COLUMNS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))

    def fen(self) -> dict[str, int]:
        """The figures as the kept rows store them: whole fen, counts as they are."""
        return {
            name: int(value) if name in COUNT_COLUMNS else int(value * 100)
            for name in FIGURE_COLUMNS
            if (value := getattr(self, name)) is not None
        }

    @classmethod
    def from_fen(cls, row: dict[str, Any]) -> Figures:
        return cls(
            **{
                name: int(row[name] or 0) if name in COUNT_COLUMNS else fen_to_yuan(row[name])
                for name in FIGURE_COLUMNS
            }
        )

    @classmethod
    def total(cls, parts) -> Figures:
        figures = cls()
        for part in parts:
            figures.add(part)
        return figures


@dataclass(kw_only=True)
class Books(Figures):
    campaign_id: int
    branch_id: int
    discrepancies: list[str] = field(default_factory=list)

    @property
    def is_balanced(self) -> bool:
        # judged on the lot-by-lot quantities and the cash ledgers (``discrepancies``), not on
        # received == right_side: valuing each term to the fen may leave a fen between them
        return not self.discrepancies

    def figures(self) -> dict[str, str | int]:
        """JSON-ready figures (yuan as strings) for the reconciliation record and the API."""
        out: dict[str, str | int] = {}
        for key, value in asdict(self).items():
            if key in ("discrepancies", "campaign_id", "branch_id"):
                continue
            out[key] = str(value) if isinstance(value, Decimal) else value
        out.update(
            received=str(self.received),
            allocated=str(self.allocated),
            in_stock=str(self.in_stock),
            cash_received=str(self.cash_received),
            cash_balance=str(self.cash_balance),
        )
        return out


def _sum(queryset, expression) -> Decimal:
    return fen(queryset.aggregate(total=Coalesce(Sum(expression), Value(ZERO), output_field=_MONEY))["total"])


def _day(field_name: str) -> TruncDate:
    """The local day (``TIME_ZONE``) of a time: the day of a kept row, whatever the request's zone."""
    return TruncDate(field_name, tzinfo=timezone.get_default_timezone())


def _bucket(buckets: dict[Bucket, Figures], key: Bucket) -> Figures:
    figures = buckets.get(key)
    if figures is None:
        figures = buckets[key] = Figures()
    return figures


def donation_figures(donations, buckets: dict[Bucket, Figures] | None = None) -> dict[Bucket, Figures]:
    """What these donations count for (the public ones): gifts and cash, by campaign, branch and
    day received. One grouped query."""
    buckets = {} if buckets is None else buckets
    cash = Q(kind=DonationKind.CASH)
    rows = (
        donations.filter(public_donation_q())
        .order_by()
        .values("campaign_id", "branch_id", day=_day("received_at"))
        .annotate(
            n=Count("id"),
            gross=Coalesce(Sum("amount", filter=cash), Value(ZERO), output_field=_MONEY),
            refunded=Coalesce(Sum("refunded_amount", filter=cash), Value(ZERO), output_field=_MONEY),
        )
    )
    for row in rows:
        figures = _bucket(buckets, (row["campaign_id"], row["branch_id"], row["day"]))
        figures.donations += row["n"]
        figures.cash_gross += fen(row["gross"])
        figures.cash_refunded += fen(row["refunded"])
    return buckets


LOT_CHUNK = 5000


def _lots(items):
    """Each goods lot among ``items`` (of public in-kind donations) with its quantities in every
    ledger: the lots are read in one pass, and for each chunk of ``LOT_CHUNK`` of them two grouped
    queries read their sources and stock movements, so the memory stays proportional to the
    chunk, not to the campaign."""
    lots = (
        items.filter(public_donation_q("donation__"), donation__kind=DonationKind.IN_KIND)
        .order_by("pk")
        .annotate(day=_day("donation__received_at"))
        .values_list(
            "pk",
            "donation__campaign_id",
            "donation__branch_id",
            "day",
            "name",
            "donation__serial",
            "quantity",
            "unit_value",
            "value_basis",
        )
    )
    zero = Decimal("0")
    rows = lots.iterator(chunk_size=LOT_CHUNK)  # one pass (a server-side cursor on PostgreSQL)
    while True:
        chunk = list(itertools.islice(rows, LOT_CHUNK))
        if not chunk:
            return
        ids = [row[0] for row in chunk]
        sources = (
            AllocationSource.objects.filter(item__in=ids, allocation__status=AllocationStatus.CONFIRMED)
            .order_by()
            .values("item")
            .annotate(
                total=Sum("quantity"),
                direct=Count("pk", filter=Q(allocation__is_retroactive=True)),
            )
        )
        allocated = {row["item"]: (row["total"], row["direct"] > 0) for row in sources}
        confirmed_moves = StockMovement.objects.filter(item__in=ids, status=MovementStatus.CONFIRMED).order_by()
        moves = {
            row["item"]: row
            for row in confirmed_moves.values("item").annotate(
                stock=Sum("quantity"),
                adjusted=Sum("quantity", filter=Q(kind=MovementKind.ADJUSTMENT)),
                shortfall=Sum("shortfall_quantity", filter=Q(kind=MovementKind.STOCK_IN)),
                stock_ins=Count("pk", filter=Q(kind=MovementKind.STOCK_IN)),
            )
        }
        negative = set(
            confirmed_moves.values("item", "warehouse")
            .annotate(total=Sum("quantity"))
            .filter(total__lt=0)
            .values_list("item", flat=True)
        )
        for pk, campaign_id, branch_id, day, name, serial, quantity, unit_value, basis in chunk:
            allocated_q, direct = allocated.get(pk, (zero, False))
            move = moves.get(pk, {})
            yield (
                campaign_id,
                branch_id,
                day,
                name,
                serial,
                quantity,
                unit_value,
                basis,
                allocated_q or zero,
                move.get("stock") or zero,
                move.get("adjusted") or zero,
                move.get("shortfall") or zero,
                bool(move.get("stock_ins")),
                direct,
                pk in negative,
            )


def lot_figures(
    items, buckets: dict[Bucket, Figures] | None = None, discrepancies: list[str] | None = None
) -> dict[Bucket, Figures]:
    """What these goods lots count for, valued lot by lot, by the campaign, branch and day of their
    donation; with ``discrepancies``, each lot whose ledgers do not add up to what was registered
    is named there. Read in chunks (``_lots``): memory stays flat at any number of lots."""
    buckets = {} if buckets is None else buckets
    for (
        campaign_id,
        branch_id,
        day,
        name,
        serial,
        quantity,
        unit_value,
        basis,
        allocated_q,
        stock_q,
        adjusted_q,
        shortfall,
        checked_in,
        direct,
        negative,
    ) in _lots(items):
        awaiting_q = quantity if not checked_in and not direct else Decimal("0")
        written_q = shortfall - adjusted_q
        if discrepancies is not None:
            if allocated_q + stock_q + awaiting_q + written_q != quantity:
                discrepancies.append(
                    f"捐赠 {serial} 的 {name}：登记 {quantity:g}，拨付 {allocated_q:g} + 库存 {stock_q:g} + 待验收 "
                    f"{awaiting_q:g} + 核销 {written_q:g} 不相等"
                )
            if negative:
                discrepancies.append(f"捐赠 {serial} 的 {name}：库存为负")
        figures = _bucket(buckets, (campaign_id, branch_id, day))
        received_value = lot_value(quantity, unit_value, basis)
        if received_value is None:
            figures.unvalued_lots += 1
            continue
        figures.goods_received += received_value
        figures.goods_allocated += lot_value(allocated_q, unit_value, basis)
        figures.goods_in_stock += lot_value(stock_q, unit_value, basis)
        figures.goods_awaiting_check += lot_value(awaiting_q, unit_value, basis)
        figures.goods_written_off += lot_value(written_q, unit_value, basis)
    # rounding each term to the fen may leave a fen; the lot-by-lot quantities above are the real check
    return buckets


def allocation_figures(allocations, buckets: dict[Bucket, Figures] | None = None) -> dict[Bucket, Figures]:
    """What these allocations paid (confirmed cash allocations' amounts), took from the gifts'
    cash (their sources: confirmed, or reserved while registered), by campaign, branch and
    allocation date. Two grouped queries."""
    buckets = {} if buckets is None else buckets
    sources = (
        AllocationSource.objects.filter(allocation__in=allocations, item__isnull=True)
        .order_by()
        .values("allocation__campaign_id", "allocation__branch_id", "allocation__allocated_on")
        .annotate(
            confirmed=Coalesce(
                Sum("amount", filter=Q(allocation__status=AllocationStatus.CONFIRMED)),
                Value(ZERO),
                output_field=_MONEY,
            ),
            registered=Coalesce(
                Sum("amount", filter=Q(allocation__status=AllocationStatus.REGISTERED)),
                Value(ZERO),
                output_field=_MONEY,
            ),
        )
    )
    for row in sources:
        key = (row["allocation__campaign_id"], row["allocation__branch_id"], row["allocation__allocated_on"])
        figures = _bucket(buckets, key)
        figures.cash_allocated += fen(row["confirmed"])
        figures.cash_reserved += fen(row["registered"])
    paid = (
        allocations.filter(kind=DonationKind.CASH, status=AllocationStatus.CONFIRMED)
        .order_by()
        .values("campaign_id", "branch_id", "allocated_on")
        .annotate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY))
    )
    for row in paid:
        _bucket(buckets, (row["campaign_id"], row["branch_id"], row["allocated_on"])).cash_paid += fen(row["total"])
    return buckets


def recipient_kind_figures(sources) -> dict[tuple[int, int, str], Decimal]:
    """Yuan that these sources of confirmed allocations gave to each kind of recipient (cash, and
    goods at the value of the quantity taken from their lot), by the allocation's campaign and
    branch. Two grouped queries."""
    confirmed = sources.filter(allocation__status=AllocationStatus.CONFIRMED).order_by()
    keys = ("allocation__campaign_id", "allocation__branch_id", "allocation__recipient__kind")
    totals: dict[tuple[int, int, str], Decimal] = {}
    for row in (
        confirmed.filter(item__isnull=True)
        .values(*keys)
        .annotate(total=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY))
    ):
        key = tuple(row[k] for k in keys)
        totals[key] = totals.get(key, ZERO) + fen(row["total"])
    for row in (
        confirmed.filter(has_value_evidence("item__unit_value", "item__value_basis"), item__isnull=False)
        .values(*keys)
        .annotate(total=Sum(lot_value_fen("quantity", "item__unit_value", "item__value_basis")))
    ):
        key = tuple(row[k] for k in keys)
        totals[key] = totals.get(key, ZERO) + fen_to_yuan(row["total"])
    return totals  # type: ignore[return-value]


def ledger_figures(campaign: Campaign, branch: Branch, discrepancies: list[str] | None = None) -> dict[Bucket, Figures]:
    """The campaign's figures at the branch recomputed from the ledgers, by day (what the kept rows
    must hold)."""
    buckets: dict[Bucket, Figures] = {}
    donation_figures(Donation.objects.filter(campaign=campaign, branch=branch), buckets)
    lot_figures(
        DonationItem.objects.filter(donation__campaign=campaign, donation__branch=branch), buckets, discrepancies
    )
    allocation_figures(Allocation.objects.filter(campaign=campaign, branch=branch), buckets)
    return buckets


def campaign_ledgers(campaign: Campaign, branch: Branch | None = None) -> tuple[Books, dict[Bucket, Figures]]:
    """``campaign_books`` and the figures by day it summed (for the nightly comparison with the kept rows)."""
    branch = branch or campaign.branch
    lot_discrepancies: list[str] = []
    buckets = ledger_figures(campaign, branch, lot_discrepancies)
    books = Books(campaign_id=campaign.pk, branch_id=branch.pk)
    books.add(Figures.total(buckets.values()))
    if books.cash_paid != books.cash_allocated:
        books.discrepancies.append(f"拨付金额合计 {books.cash_paid} 元与款物去向合计 {books.cash_allocated} 元不符")
    undirected = Donation.objects.public().filter(
        campaign=campaign, branch=branch, kind=DonationKind.CASH, designated_recipient__isnull=True
    )
    undirected_net = _sum(undirected, F("amount") - F("refunded_amount"))
    undirected_drawn = _sum(
        AllocationSource.objects.filter(donation__in=undirected, item__isnull=True).exclude(
            allocation__status=AllocationStatus.CANCELLED
        ),
        "amount",
    )
    pool = _sum(OpenCash.objects.filter(campaign=campaign, branch=branch), "remaining")
    if pool != undirected_net - undirected_drawn:
        books.discrepancies.append(f"可拨付捐款池 {pool} 元与非定向捐款结余 {undirected_net - undirected_drawn} 元不符")
    for serial in donations_over_allocated(campaign, branch):
        books.discrepancies.append(f"捐赠 {serial} 的已拨付金额与其款物去向不符")
    if books.cash_balance < 0:
        books.discrepancies.append(f"资金结余为负：{books.cash_balance} 元")
    drawn_by_others = (
        AllocationSource.objects.filter(donation__campaign=campaign, donation__branch=branch, item__isnull=True)
        .exclude(allocation__campaign=campaign, allocation__branch=branch)
        .exists()
    )
    if drawn_by_others:
        books.discrepancies.append("有其他募捐活动或组织的拨付使用了本活动的捐款")
    books.discrepancies.extend(lot_discrepancies)
    return books, buckets


def campaign_books(campaign: Campaign, branch: Branch | None = None) -> Books:
    """The campaign's books at ``branch`` (default: the campaign's own branch), with discrepancies:
    every ledger read gift by gift. For staff and the nightly reconciliation, never a public page
    (those read the kept figures)."""
    return campaign_ledgers(campaign, branch)[0]


def donations_over_allocated(campaign: Campaign, branch: Branch) -> list[str]:
    """Serials of cash donations drawn beyond what they had, or whose pool row is wrong."""
    drawn = Coalesce(
        Subquery(
            AllocationSource.objects.filter(donation=OuterRef("pk"), item__isnull=True)
            .exclude(allocation__status=AllocationStatus.CANCELLED)
            .values("donation")
            .annotate(total=Sum("amount"))
            .values("total")[:1]
        ),
        Value(ZERO),
        output_field=_MONEY,
    )
    cash = Donation.objects.filter(campaign=campaign, branch=branch, kind=DonationKind.CASH).annotate(
        left=F("amount") - F("refunded_amount") - drawn
    )
    # a tolerance below the fen: SQLite computes decimal arithmetic in floating point
    over = cash.filter(left__lt=Decimal("-0.005"))
    wrong_pool = cash.filter(open_cash__isnull=False).annotate(difference=F("open_cash__remaining") - F("left"))
    wrong_pool = wrong_pool.filter(Q(difference__gt=Decimal("0.005")) | Q(difference__lt=Decimal("-0.005")))
    return list(over.values_list("serial", flat=True)[:50]) + list(wrong_pool.values_list("serial", flat=True)[:50])


def campaigns_to_reconcile():
    """(campaign, branch) pairs that have any confirmed donation or allocation."""
    pairs = set(Donation.objects.public().values_list("campaign_id", "branch_id").distinct())
    pairs |= set(Allocation.objects.values_list("campaign_id", "branch_id").distinct())
    campaigns = Campaign.objects.in_bulk({c for c, _b in pairs})
    branches = Branch.objects.in_bulk({b for _c, b in pairs})
    return [(campaigns[c], branches[b]) for c, b in sorted(pairs)]


__all__ = [
    "Books",
    "Bucket",
    "Figures",
    "allocation_figures",
    "campaign_books",
    "campaign_ledgers",
    "campaigns_to_reconcile",
    "donation_figures",
    "donations_over_allocated",
    "ledger_figures",
    "lot_figures",
    "recipient_kind_figures",
]

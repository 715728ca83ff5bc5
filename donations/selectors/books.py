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

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from donations.models import (
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
from donations.valuation import lot_value
from redcross.models import Branch
from redcross.money import fen

ZERO = Decimal("0.00")
_QTY = DecimalField(max_digits=20, decimal_places=3)
_MONEY = DecimalField(max_digits=20, decimal_places=2)


@dataclass
class Books:
    campaign_id: int
    branch_id: int
    cash_received: Decimal = ZERO
    cash_refunded: Decimal = ZERO
    cash_allocated: Decimal = ZERO
    cash_reserved: Decimal = ZERO  # drawn by allocations registered but not yet confirmed
    cash_balance: Decimal = ZERO
    goods_received: Decimal = ZERO
    goods_allocated: Decimal = ZERO
    goods_in_stock: Decimal = ZERO
    goods_awaiting_check: Decimal = ZERO
    goods_written_off: Decimal = ZERO
    unvalued_lots: int = 0
    donations: int = 0
    discrepancies: list[str] = field(default_factory=list)

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
        out.update(received=str(self.received), allocated=str(self.allocated), in_stock=str(self.in_stock))
        return out


def _sum(queryset, expression) -> Decimal:
    return fen(queryset.aggregate(total=Coalesce(Sum(expression), Value(ZERO), output_field=_MONEY))["total"])


def _lots(campaign: Campaign, branch: Branch):
    """Each goods lot of the campaign with its quantities in every ledger (one query)."""
    confirmed_moves = StockMovement.objects.filter(item=OuterRef("pk"), status=MovementStatus.CONFIRMED)

    def moved(queryset):
        return Coalesce(
            Subquery(queryset.values("item").annotate(total=Sum("quantity")).values("total")[:1]),
            Value(Decimal("0")),
            output_field=_QTY,
        )

    allocated = AllocationSource.objects.filter(item=OuterRef("pk"), allocation__status=AllocationStatus.CONFIRMED)
    return (
        DonationItem.objects.filter(
            public_donation_q("donation__"),
            donation__campaign=campaign,
            donation__branch=branch,
            donation__kind=DonationKind.IN_KIND,
        )
        .annotate(
            allocated_quantity=Coalesce(
                Subquery(allocated.values("item").annotate(total=Sum("quantity")).values("total")[:1]),
                Value(Decimal("0")),
                output_field=_QTY,
            ),
            stock_quantity=moved(confirmed_moves),
            adjusted_quantity=moved(confirmed_moves.filter(kind=MovementKind.ADJUSTMENT)),
            shortfall=Coalesce(
                Subquery(
                    confirmed_moves.filter(kind=MovementKind.STOCK_IN)
                    .values("item")
                    .annotate(total=Sum("shortfall_quantity"))
                    .values("total")[:1]
                ),
                Value(Decimal("0")),
                output_field=_QTY,
            ),
            checked_in=Exists(confirmed_moves.filter(kind=MovementKind.STOCK_IN)),
            delivered_direct=Exists(allocated.filter(allocation__is_retroactive=True)),
            negative_stock=Exists(
                StockMovement.objects.filter(item=OuterRef("pk"), status=MovementStatus.CONFIRMED)
                .values("warehouse")
                .annotate(total=Sum("quantity"))
                .filter(total__lt=0)
            ),
        )
        .values_list(
            "id",
            "name",
            "donation__serial",
            "quantity",
            "unit_value",
            "value_basis",
            "allocated_quantity",
            "stock_quantity",
            "adjusted_quantity",
            "shortfall",
            "checked_in",
            "delivered_direct",
            "negative_stock",
        )
    )


def campaign_books(campaign: Campaign, branch: Branch | None = None) -> Books:
    """The campaign's books at ``branch`` (default: the campaign's own branch), with discrepancies."""
    branch = branch or campaign.branch
    books = Books(campaign_id=campaign.pk, branch_id=branch.pk)
    donations = Donation.objects.public().filter(campaign=campaign, branch=branch)
    cash = donations.filter(kind=DonationKind.CASH)
    totals = cash.aggregate(
        gross=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY),
        refunded=Coalesce(Sum("refunded_amount"), Value(ZERO), output_field=_MONEY),
    )
    books.donations = donations.count()
    totals = {key: fen(value) for key, value in totals.items()}
    books.cash_refunded = totals["refunded"]
    books.cash_received = totals["gross"] - totals["refunded"]
    cash_sources = AllocationSource.objects.filter(
        allocation__campaign=campaign, allocation__branch=branch, item__isnull=True
    )
    books.cash_allocated = _sum(cash_sources.filter(allocation__status=AllocationStatus.CONFIRMED), "amount")
    books.cash_reserved = _sum(cash_sources.filter(allocation__status=AllocationStatus.REGISTERED), "amount")
    paid = _sum(
        Allocation.objects.filter(
            campaign=campaign, branch=branch, kind=DonationKind.CASH, status=AllocationStatus.CONFIRMED
        ),
        "amount",
    )
    books.cash_balance = books.cash_received - paid
    if paid != books.cash_allocated:
        books.discrepancies.append(f"拨付金额合计 {paid} 元与款物去向合计 {books.cash_allocated} 元不符")
    undirected = cash.filter(designated_recipient__isnull=True)
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

    for (
        _pk,
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
    ) in _lots(campaign, branch):
        awaiting_q = quantity if not checked_in and not direct else Decimal("0")
        written_q = shortfall - adjusted_q
        if allocated_q + stock_q + awaiting_q + written_q != quantity:
            books.discrepancies.append(
                f"捐赠 {serial} 的 {name}：登记 {quantity:g}，拨付 {allocated_q:g} + 库存 {stock_q:g} + 待验收 "
                f"{awaiting_q:g} + 核销 {written_q:g} 不相等"
            )
        if negative:
            books.discrepancies.append(f"捐赠 {serial} 的 {name}：库存为负")
        received_value = lot_value(quantity, unit_value, basis)
        if received_value is None:
            books.unvalued_lots += 1
            continue
        books.goods_received += received_value
        books.goods_allocated += lot_value(allocated_q, unit_value, basis)
        books.goods_in_stock += lot_value(stock_q, unit_value, basis)
        books.goods_awaiting_check += lot_value(awaiting_q, unit_value, basis)
        books.goods_written_off += lot_value(written_q, unit_value, basis)
    # rounding each term to the fen may leave a fen; the lot-by-lot quantities above are the real check
    return books


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


__all__ = ["Books", "campaign_books", "campaigns_to_reconcile", "donations_over_allocated"]

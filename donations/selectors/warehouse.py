"""Reads of the warehouse and of allocations for the staff pages and the staff API.

- ``ledger_items`` / ``item_ledger``: the per-item ledger (台账) of a warehouse, an item being
  the same name, specification and unit whatever donation (lot) it came in; the running
  balance is a window sum computed by the database.
- ``lots_in_stock`` / ``lots_awaiting_check``: the lots a keeper can move or has to check in.
- ``near_expiry_lots``: lots in stock expiring within N days (or already expired).
- ``outstanding_confirmations``: confirmed allocations the recipient has not signed for yet.

``branch_ids`` is what ``redcross.scoping.visible_branch_ids`` returns: ``None`` for every
branch, otherwise the ids the reader may see. Every function is a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from donations.models import (
    Allocation,
    AllocationStatus,
    DonationItem,
    DonationKind,
    DonationStatus,
    MovementKind,
    MovementStatus,
    StockMovement,
    Warehouse,
)
from redcross.scoping import within_branch_ids

_QTY = DecimalField(max_digits=20, decimal_places=3)
ZERO_QTY = Decimal("0.000")


def quantity_text(value: Decimal, *, signed: bool = False) -> str:
    """``Decimal("100.000")`` -> ``"100"``, ``Decimal("2.500")`` -> ``"2.5"`` (``"+2.5"`` when signed)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"+{text}" if signed and value > 0 else text


def _scoped_movements(branch_ids: Collection[int] | None) -> QuerySet[StockMovement]:
    movements = StockMovement.objects.filter(status=MovementStatus.CONFIRMED)
    return within_branch_ids(movements, branch_ids, branch_field="warehouse__branch")


def scoped_warehouses(branch_ids: Collection[int] | None) -> QuerySet[Warehouse]:
    return within_branch_ids(Warehouse.objects.select_related("branch"), branch_ids)


# --- the per-item ledger (台账) ----------------------------------------------------------------


@dataclass(frozen=True)
class LedgerItem:
    """An item kept in a warehouse (all its lots together) with its balance."""

    warehouse_id: int
    warehouse_name: str
    name: str
    specification: str
    unit: str
    balance: Decimal
    movements: int
    last_moved_at: datetime


def ledger_items(*, branch_ids: Collection[int] | None, warehouse_id: int | None = None) -> list[LedgerItem]:
    """Every item with a confirmed movement, per warehouse, with its balance (one grouped query)."""
    movements = _scoped_movements(branch_ids)
    if warehouse_id is not None:
        movements = movements.filter(warehouse_id=warehouse_id)
    rows = (
        movements.values("warehouse_id", "warehouse__name", "item__name", "item__specification", "item__unit")
        .annotate(balance=Sum("quantity"), movements=Count("id"), last_moved_at=Max("moved_at"))
        .order_by("warehouse__name", "warehouse_id", "item__name", "item__specification", "item__unit")
    )
    return [
        LedgerItem(
            warehouse_id=row["warehouse_id"],
            warehouse_name=row["warehouse__name"],
            name=row["item__name"],
            specification=row["item__specification"],
            unit=row["item__unit"],
            balance=row["balance"] or ZERO_QTY,
            movements=row["movements"],
            last_moved_at=row["last_moved_at"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class LedgerRow:
    moved_at: datetime
    serial: str
    kind: str
    kind_label: str
    donation_serial: str
    quantity_in: Decimal | None
    quantity_out: Decimal | None
    balance: Decimal
    counterpart: str  # the recipient of a stock-out, the other warehouse of a transfer
    reason: str
    recorded_by: str
    confirmed_by: str


@dataclass(frozen=True)
class Ledger:
    warehouse: Warehouse
    name: str
    specification: str
    unit: str
    rows: list[LedgerRow]

    @property
    def total_in(self) -> Decimal:
        return sum((row.quantity_in or ZERO_QTY for row in self.rows), ZERO_QTY)

    @property
    def total_out(self) -> Decimal:
        return sum((row.quantity_out or ZERO_QTY for row in self.rows), ZERO_QTY)

    @property
    def balance(self) -> Decimal:
        return self.rows[-1].balance if self.rows else ZERO_QTY


def _person(user) -> str:
    if user is None:
        return ""
    return f"{user.last_name}{user.first_name}" or user.get_username()


def item_ledger(*, warehouse: Warehouse, name: str, specification: str, unit: str) -> Ledger:
    """Every confirmed movement of an item in a warehouse, oldest first, with the running balance.

    One query: the balance is ``SUM(quantity) OVER (ORDER BY moved_at, id)`` in the database.
    """
    running = Window(Sum("quantity"), order_by=[F("moved_at").asc(), F("id").asc()], output_field=_QTY)
    movements = (
        StockMovement.objects.filter(
            warehouse=warehouse,
            status=MovementStatus.CONFIRMED,
            item__name=name,
            item__specification=specification,
            item__unit=unit,
        )
        .select_related(
            "item__donation", "allocation__recipient", "transfer_pair__warehouse", "recorded_by", "confirmed_by"
        )
        .annotate(balance=running)
        .order_by("moved_at", "id")
    )
    rows = []
    for movement in movements:
        counterpart = ""
        if movement.allocation_id is not None:
            counterpart = movement.allocation.recipient.name
        elif movement.transfer_pair_id is not None:
            counterpart = movement.transfer_pair.warehouse.name
        rows.append(
            LedgerRow(
                moved_at=movement.moved_at,
                serial=movement.serial,
                kind=movement.kind,
                kind_label=movement.get_kind_display(),
                donation_serial=movement.item.donation.serial,
                quantity_in=movement.quantity if movement.quantity > 0 else None,
                quantity_out=-movement.quantity if movement.quantity < 0 else None,
                balance=movement.balance,
                counterpart=counterpart,
                reason=movement.reason,
                recorded_by=_person(movement.recorded_by),
                confirmed_by=_person(movement.confirmed_by),
            )
        )
    return Ledger(warehouse=warehouse, name=name, specification=specification, unit=unit, rows=rows)


# --- lots a keeper works with --------------------------------------------------------------------


@dataclass(frozen=True)
class LotStock:
    """A lot (a donation's item line) in a warehouse with its confirmed stock."""

    item_id: int
    warehouse_id: int
    warehouse_name: str
    name: str
    specification: str
    unit: str
    donation_serial: str
    stock: Decimal

    @property
    def label(self) -> str:
        spec = f" {self.specification}" if self.specification else ""
        stock = f"{quantity_text(self.stock)}{self.unit}"
        return f"{self.warehouse_name} · {self.name}{spec}（{self.donation_serial}）库存 {stock}"


def lots_in_stock(*, branch_ids: Collection[int] | None, include_empty: bool = False) -> list[LotStock]:
    """Lots per warehouse with their confirmed stock (one grouped query); empty ones on request."""
    rows = (
        _scoped_movements(branch_ids)
        .filter(warehouse__is_active=True)
        .values(
            "item_id",
            "warehouse_id",
            "warehouse__name",
            "item__name",
            "item__specification",
            "item__unit",
            "item__donation__serial",
        )
        .annotate(stock=Sum("quantity"))
        .order_by("warehouse__name", "item__name", "item_id")
    )
    if not include_empty:
        rows = rows.filter(stock__gt=0)
    return [
        LotStock(
            item_id=row["item_id"],
            warehouse_id=row["warehouse_id"],
            warehouse_name=row["warehouse__name"],
            name=row["item__name"],
            specification=row["item__specification"],
            unit=row["item__unit"],
            donation_serial=row["item__donation__serial"],
            stock=row["stock"],
        )
        for row in rows
    ]


def lots_awaiting_check(*, branch_ids: Collection[int] | None) -> QuerySet[DonationItem]:
    """Lots of confirmed in-kind donations not checked in yet (数质量检查 pending)."""
    checked = StockMovement.objects.filter(item=OuterRef("pk"), kind=MovementKind.STOCK_IN).exclude(
        status=MovementStatus.CANCELLED
    )
    lots = DonationItem.objects.filter(
        donation__kind=DonationKind.IN_KIND,
        donation__status=DonationStatus.CONFIRMED,
        donation__is_retroactive=False,
    ).filter(~Exists(checked))
    lots = within_branch_ids(lots, branch_ids, branch_field="donation__branch")
    return lots.select_related("donation").order_by("donation__received_at", "id")


# --- goods near expiry ------------------------------------------------------------------------


@dataclass(frozen=True)
class NearExpiryLot:
    item_id: int
    warehouse_id: int
    warehouse_name: str
    name: str
    specification: str
    unit: str
    donation_serial: str
    campaign_name: str
    stock: Decimal
    expiry_date: date
    days_left: int

    @property
    def is_expired(self) -> bool:
        return self.days_left < 0


def near_expiry_lots(
    *, branch_ids: Collection[int] | None, within_days: int = 30, today: date | None = None
) -> list[NearExpiryLot]:
    """Lots in stock whose expiry (as verified at the stock-in check, else as donated) falls within
    ``within_days`` of today, the expired ones included; soonest first. One grouped query."""
    today = today or timezone.localdate()
    limit = today + timedelta(days=within_days)
    verified = (
        StockMovement.objects.filter(
            item=OuterRef("item_id"),
            kind=MovementKind.STOCK_IN,
            status=MovementStatus.CONFIRMED,
            expiry_date__isnull=False,
        )
        .order_by("-id")
        .values("expiry_date")[:1]
    )
    rows = (
        _scoped_movements(branch_ids)
        .annotate(expiry=Coalesce(Subquery(verified), F("item__expiry_date"), output_field=DateField()))
        .filter(expiry__lte=limit)
        .values(
            "item_id",
            "warehouse_id",
            "warehouse__name",
            "item__name",
            "item__specification",
            "item__unit",
            "item__donation__serial",
            "item__donation__campaign__name",
            "expiry",
        )
        .annotate(stock=Sum("quantity"))
        .filter(stock__gt=0)
        .order_by("expiry", "warehouse__name", "item_id")
    )
    return [
        NearExpiryLot(
            item_id=row["item_id"],
            warehouse_id=row["warehouse_id"],
            warehouse_name=row["warehouse__name"],
            name=row["item__name"],
            specification=row["item__specification"],
            unit=row["item__unit"],
            donation_serial=row["item__donation__serial"],
            campaign_name=row["item__donation__campaign__name"],
            stock=row["stock"],
            expiry_date=row["expiry"],
            days_left=(row["expiry"] - today).days,
        )
        for row in rows
    ]


# --- recipient confirmations still to come ----------------------------------------------------


@dataclass(frozen=True)
class OutstandingConfirmation:
    allocation_id: int
    serial: str
    kind: str
    kind_label: str
    branch_name: str
    campaign_name: str
    recipient_name: str
    amount: Decimal | None
    lines: int  # goods: the lots on the transfer order
    allocated_on: date
    confirmed_at: datetime | None
    age_days: int


def outstanding_confirmations(
    *, branch_ids: Collection[int] | None, today: date | None = None
) -> list[OutstandingConfirmation]:
    """Confirmed allocations without the recipient's sign-off, oldest first, with their age in days
    (since the allocation date). One query."""
    today = today or timezone.localdate()
    allocations = Allocation.objects.filter(status=AllocationStatus.CONFIRMED, recipient_confirmation__isnull=True)
    allocations = within_branch_ids(allocations, branch_ids)
    rows = (
        allocations.annotate(lines=Count("sources"))
        .select_related("branch", "campaign", "recipient")
        .order_by("allocated_on", "id")
    )
    return [
        OutstandingConfirmation(
            allocation_id=allocation.pk,
            serial=allocation.serial,
            kind=allocation.kind,
            kind_label=allocation.get_kind_display(),
            branch_name=allocation.branch.name,
            campaign_name=allocation.campaign.name,
            recipient_name=allocation.recipient.name,
            amount=allocation.amount,
            lines=allocation.lines,
            allocated_on=allocation.allocated_on,
            confirmed_at=allocation.confirmed_at,
            age_days=(today - allocation.allocated_on).days,
        )
        for allocation in rows
    ]


__all__ = [
    "Ledger",
    "LedgerItem",
    "LedgerRow",
    "LotStock",
    "NearExpiryLot",
    "OutstandingConfirmation",
    "item_ledger",
    "ledger_items",
    "lots_awaiting_check",
    "lots_in_stock",
    "near_expiry_lots",
    "outstanding_confirmations",
    "quantity_text",
    "scoped_warehouses",
]

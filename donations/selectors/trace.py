"""Where a donation went (款物去向): the public trace on the donor's page and the open data API.

Only confirmed allocations appear. Each step names the recipient unit, the date, what was
taken from this donation, and whether the recipient signed for it; never a person's name.
At most 3 queries: the donation's sources with their allocation, recipient, lot and sign-off
in one query, and the summary figures from the donation row itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from donations.models import AllocationSource, AllocationStatus, Donation, DonationKind


@dataclass(frozen=True)
class TraceStep:
    allocation_serial: str
    allocated_on: date
    recipient_name: str
    recipient_kind: str
    basis: str
    is_retroactive: bool
    amount: Decimal | None  # cash taken from this donation
    item_name: str
    quantity: Decimal | None
    unit: str
    value: Decimal | None
    plan_document_number: str
    recipient_signed_at: datetime | None
    bulletin: str  # the usage announcement that published it, once bulletins exist


@dataclass(frozen=True)
class Trace:
    steps: list[TraceStep]
    allocated: Decimal  # yuan (cash) or goods value allocated so far
    remaining: Decimal | None  # cash not allocated yet; None for goods
    quantities_remaining: list[tuple[str, Decimal, str]]  # goods: (item, quantity not yet allocated, unit)

    def __bool__(self) -> bool:
        return bool(self.steps)


def donation_trace(donation: Donation) -> Trace:
    sources = list(
        AllocationSource.objects.filter(donation=donation, allocation__status=AllocationStatus.CONFIRMED)
        .select_related(
            "allocation__recipient", "allocation__plan_line__plan", "allocation__recipient_confirmation", "item"
        )
        .order_by("allocation__allocated_on", "allocation_id", "id")
    )
    steps = []
    allocated = Decimal("0.00")
    taken_per_item: dict[int, Decimal] = {}
    for source in sources:
        allocation = source.allocation
        confirmation = getattr(allocation, "recipient_confirmation", None)
        plan_line = allocation.plan_line
        value = source.value
        if value is not None:
            allocated += value
        if source.item_id is not None:
            taken_per_item[source.item_id] = taken_per_item.get(source.item_id, Decimal("0")) + source.quantity
        steps.append(
            TraceStep(
                allocation_serial=allocation.serial,
                allocated_on=allocation.allocated_on,
                recipient_name=allocation.recipient.name,
                recipient_kind=allocation.recipient.get_kind_display(),
                basis=allocation.get_basis_display(),
                is_retroactive=allocation.is_retroactive,
                amount=source.amount,
                item_name=source.item.name if source.item_id else "",
                quantity=source.quantity,
                unit=source.item.unit if source.item_id else "",
                value=value,
                plan_document_number=plan_line.plan.document_number if plan_line else "",
                recipient_signed_at=confirmation.signed_at if confirmation else None,
                bulletin="",
            )
        )
    if donation.kind == DonationKind.CASH:
        return Trace(steps=steps, allocated=allocated, remaining=donation.cash_remaining, quantities_remaining=[])
    remaining = [
        (item.name, item.quantity - taken_per_item.get(item.pk, Decimal("0")), item.unit)
        for item in donation.items.all()
    ]
    return Trace(steps=steps, allocated=allocated, remaining=None, quantities_remaining=remaining)

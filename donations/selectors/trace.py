"""Where a donation went (款物去向): the public trace on the donor's page and the open data API.

Only confirmed allocations appear. Each step names the recipient unit, the date, what was
taken from this donation, and whether the recipient signed for it; never a person's name.
At most 3 queries: the donation's sources with their allocation, recipient, lot, sign-off and
the usage announcement (使用公告) that published the allocation in one query; the receipt
bulletin (接收公示) that published the donation; and the summary figures (the goods lines, or the
cash already allocated); plus one query per registered outcome provider when there are steps.

**Outcomes.** What a recipient did with an allocation is not the donations app's to know: an app
whose recipients are its own units (a relief project is one) registers a provider with
``register_trace_outcome`` that turns allocation ids into a public line (counts only, never a
name), e.g. "救助项目 博爱送温暖：已帮助 195 户". The donations app imports none of those apps.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import OuterRef, Subquery
from django.urls import reverse

from donations.models import (
    AllocationSource,
    AllocationStatus,
    BulletinAllocation,
    BulletinDonation,
    BulletinKind,
    BulletinStatus,
    Donation,
    DonationKind,
)


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
    bulletin: str  # the usage announcement that published it, e.g. "使用公告第3期"; empty until then
    bulletin_url: str = ""  # its public page
    outcome: str = ""  # what the recipient did with it, from a registered provider (counts only)
    outcome_url: str = ""  # its public page


@dataclass(frozen=True)
class TraceOutcome:
    text: str  # e.g. "救助项目 博爱送温暖：已帮助 195 户"; counts only, never a person
    url: str = ""


OutcomeProvider = Callable[[Collection[int]], dict[int, TraceOutcome]]
_OUTCOME_PROVIDERS: dict[str, OutcomeProvider] = {}


def register_trace_outcome(key: str, provider: OutcomeProvider) -> None:
    """Add (or, under the same key, replace) a provider: allocation ids -> their public outcome.
    Called from an app's ``ready()``; the provider must answer in one query."""
    _OUTCOME_PROVIDERS[key] = provider


def trace_outcomes(allocation_ids: Collection[int]) -> dict[int, TraceOutcome]:
    found: dict[int, TraceOutcome] = {}
    if not allocation_ids:
        return found
    for provider in _OUTCOME_PROVIDERS.values():
        found.update(provider(allocation_ids))
    return found


@dataclass(frozen=True)
class Trace:
    steps: list[TraceStep]
    allocated: Decimal  # yuan (cash) or goods value allocated so far
    remaining: Decimal | None  # cash not allocated yet; None for goods
    quantities_remaining: list[tuple[str, Decimal, str]]  # goods: (item, quantity not yet allocated, unit)
    receipt_bulletin: str = ""  # the receipt bulletin that published the donation, e.g. "接收公示第12期"
    receipt_bulletin_url: str = ""

    def __bool__(self) -> bool:
        return bool(self.steps)


def _bulletin(code: str | None, kind: str, number: int | None) -> tuple[str, str]:
    if not number or not code:
        return "", ""
    label = f"{BulletinKind(kind).label}第{number}期"
    return label, reverse("disclosure:bulletin", kwargs={"code": code, "kind": kind, "number": number})


def donation_trace(donation: Donation) -> Trace:
    # the first published usage announcement listing the allocation, read in the sources' query
    announcement = BulletinAllocation.objects.filter(
        allocation=OuterRef("allocation_id"), bulletin__status=BulletinStatus.PUBLISHED
    ).order_by("bulletin__published_at", "bulletin_id")
    sources = list(
        AllocationSource.objects.filter(donation=donation, allocation__status=AllocationStatus.CONFIRMED)
        .annotate(
            bulletin_number=Subquery(announcement.values("bulletin__number")[:1]),
            bulletin_branch=Subquery(announcement.values("bulletin__branch__code")[:1]),
        )
        .select_related(
            "allocation__recipient", "allocation__plan_line__plan", "allocation__recipient_confirmation", "item"
        )
        .order_by("allocation__allocated_on", "allocation_id", "id")
    )
    outcomes = trace_outcomes({source.allocation_id for source in sources})
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
        bulletin, bulletin_url = _bulletin(source.bulletin_branch, BulletinKind.USAGE, source.bulletin_number)
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
                bulletin=bulletin,
                bulletin_url=bulletin_url,
                outcome=outcomes[allocation.pk].text if allocation.pk in outcomes else "",
                outcome_url=outcomes[allocation.pk].url if allocation.pk in outcomes else "",
            )
        )
    published = (
        BulletinDonation.objects.filter(donation=donation, bulletin__status=BulletinStatus.PUBLISHED)
        .order_by("bulletin__published_at", "bulletin_id")
        .values_list("bulletin__branch__code", "bulletin__number")
        .first()
    )
    code, number = published or (None, None)
    receipt_bulletin, receipt_bulletin_url = _bulletin(code, BulletinKind.RECEIPT, number)
    if donation.kind == DonationKind.CASH:
        return Trace(
            steps=steps,
            allocated=allocated,
            remaining=donation.cash_remaining,
            quantities_remaining=[],
            receipt_bulletin=receipt_bulletin,
            receipt_bulletin_url=receipt_bulletin_url,
        )
    remaining = [
        (item.name, item.quantity - taken_per_item.get(item.pk, Decimal("0")), item.unit)
        for item in donation.items.all()
    ]
    return Trace(
        steps=steps,
        allocated=allocated,
        remaining=None,
        quantities_remaining=remaining,
        receipt_bulletin=receipt_bulletin,
        receipt_bulletin_url=receipt_bulletin_url,
    )

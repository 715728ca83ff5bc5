"""Rows for report tests, built directly (the services that write them are tested in tests/donations/).

Times are given as local (Asia/Shanghai) wall-clock datetimes, as staff see them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory

from donations.models import (
    AllocationSource,
    AllocationStatus,
    DonationKind,
    DonationStatus,
    Receipt,
    ReceiptReversal,
    ReceiptStatus,
    ReconciliationRun,
)
from tests.donations.factories import (
    AllocationRowFactory,
    DonationFactory,
    DonationItemFactory,
    InKindDonationFactory,
    StockMovementRowFactory,
)
from tests.factories import StaffFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def cash(*, branch, campaign, received_at, amount, channel="bank", confirmed=True, refunded="0.00", **extra):
    """A cash donation received at ``received_at`` (confirmed by default)."""
    return DonationFactory(
        branch=branch,
        campaign=campaign,
        kind=DonationKind.CASH,
        channel=channel,
        received_at=received_at,
        amount=Decimal(amount),
        refunded_amount=Decimal(refunded),
        status=DonationStatus.CONFIRMED if confirmed else DonationStatus.REGISTERED,
        confirmed_at=received_at if confirmed else None,
        **extra,
    )


def goods(*, branch, campaign, received_at, lots, channel="on_site", confirmed=True, **extra):
    """An in-kind donation with ``lots``: (name, quantity, unit value or None, value basis)."""
    donation = InKindDonationFactory(
        branch=branch,
        campaign=campaign,
        channel=channel,
        received_at=received_at,
        status=DonationStatus.CONFIRMED if confirmed else DonationStatus.REGISTERED,
        confirmed_at=received_at if confirmed else None,
        **extra,
    )
    for name, quantity, unit_value, basis in lots:
        DonationItemFactory(
            donation=donation,
            name=name,
            specification="",
            quantity=Decimal(quantity),
            unit="件",
            unit_value=None if unit_value is None else Decimal(unit_value),
            value_basis=basis,
        )
    return donation


_receipt_numbers = iter(range(1, 10**6))


def receipt(*, donation, issued_at, amount, reversed_at=None):
    issued = Receipt.objects.create(
        donation=donation,
        branch=donation.branch,
        year=issued_at.year,
        number=next(_receipt_numbers),
        invoice_code=f"{donation.branch.code}{issued_at.year}",
        check_code="TEST",
        issued_at=issued_at,
        payer_name="测试交款人",
        lines=[],
        total_amount=None if amount is None else Decimal(amount),
        payee=donation.branch.name,
        reviewer_name="复核人",
        issuer_name="收款人",
        status=ReceiptStatus.REVERSED if reversed_at else ReceiptStatus.VALID,
    )
    if reversed_at:
        ReceiptReversal.objects.create(
            receipt=issued, reason="开错", reversed_by=StaffFactory(branch=donation.branch), reversed_at=reversed_at
        )
    return issued


def cash_allocation(*, branch, campaign, recipient, amount, confirmed_at, status=AllocationStatus.CONFIRMED):
    return AllocationRowFactory(
        branch=branch,
        campaign=campaign,
        recipient=recipient,
        kind=DonationKind.CASH,
        amount=Decimal(amount),
        allocated_on=confirmed_at.date(),
        status=status,
        confirmed_at=confirmed_at if status == AllocationStatus.CONFIRMED else None,
    )


def goods_allocation(*, branch, campaign, recipient, item, quantity, confirmed_at, warehouse=None):
    allocation = AllocationRowFactory(
        branch=branch,
        campaign=campaign,
        recipient=recipient,
        kind=DonationKind.IN_KIND,
        amount=None,
        basis="plan",
        allocated_on=confirmed_at.date(),
        status=AllocationStatus.CONFIRMED,
        confirmed_at=confirmed_at,
    )
    AllocationSource.objects.create(
        allocation=allocation, donation=item.donation, item=item, quantity=Decimal(quantity), warehouse=warehouse
    )
    return allocation


def movement(*, warehouse, item, quantity, moved_at, kind="in", status="confirmed"):
    return StockMovementRowFactory(
        warehouse=warehouse, item=item, kind=kind, quantity=Decimal(quantity), moved_at=moved_at, status=status
    )


class ReconciliationRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReconciliationRun

    is_balanced = True
    figures = factory.LazyFunction(dict)
    discrepancies = factory.LazyFunction(list)

"""Reads of donations used by public pages, the API, PDFs and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from donations.models import Donation, DonationKind


@dataclass(frozen=True)
class DonationPublicFacts:
    """What anyone may see of a donation: no phone, no ID number, no address, masked persons."""

    serial: str
    donor_name: str
    kind: str
    kind_label: str
    amount: Decimal | None
    goods_summary: str
    goods_value: Decimal | None
    campaign: str
    branch: str
    received_at: datetime
    designated_recipient: str
    is_retroactive: bool
    confirmed: bool


def donation_public_facts(donation: Donation) -> DonationPublicFacts:
    items = list(donation.items.all()) if donation.kind == DonationKind.IN_KIND else []
    summary = "、".join(f"{item.name}{item.quantity.normalize():f}{item.unit}" for item in items[:5])
    if len(items) > 5:
        summary += "等"
    return DonationPublicFacts(
        serial=donation.serial,
        donor_name=donation.donor.public_name,
        kind=donation.kind,
        kind_label=donation.get_kind_display(),
        amount=donation.amount,
        goods_summary=summary,
        goods_value=donation.goods_value() if items else None,
        campaign=donation.campaign.name,
        branch=donation.branch.name,
        received_at=donation.received_at,
        designated_recipient=donation.designated_recipient.name if donation.designated_recipient_id else "",
        is_retroactive=donation.is_retroactive,
        confirmed=donation.is_confirmed,
    )

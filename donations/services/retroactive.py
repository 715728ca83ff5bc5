"""补办手续: goods the donor delivered straight to a recipient, recorded as donation, allocation
and the recipient's sign-off in one step. It sits above the intake and allocation services,
which both stay unaware of it; ``donation_confirm`` confirms the allocation with the donation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import (
    Allocation,
    AllocationBasis,
    AllocationSource,
    Campaign,
    DonationKind,
    Recipient,
)
from donations.services.allocations import active_recipient, allocation_serial, recipient_confirmation_record
from donations.services.inputs import require_permission, text_input
from donations.services.intake import donation_register
from redcross.audit import audit_context
from redcross.models import Branch


@transaction.atomic
def retroactive_register(
    *,
    by,
    branch: Branch,
    donor,
    campaign: Campaign,
    recipient: Recipient | int,
    received_at: datetime,
    items: Iterable[Mapping[str, Any]],
    signed_by_name: str,
    signed_at: datetime | None = None,
    wish: str = "",
    scan=None,
    note: str = "",
) -> Allocation:
    """Goods the donor delivered straight to a recipient: donation + allocation + the recipient's
    sign-off, recorded in one step and flagged 补办手续.

    Like any donation it counts once a second person confirms it; ``donation_confirm`` then
    confirms this allocation with the same signature.
    """
    recipient = active_recipient(recipient, by)
    require_permission(by, "donations.add_allocation", _("您没有登记拨付的权限"))
    donation = donation_register(
        by=by,
        branch=branch,
        donor=donor,
        campaign=campaign,
        kind=DonationKind.IN_KIND,
        channel="on_site",
        received_at=received_at,
        items=items,
        designated_recipient=recipient,
        wish=wish or _("捐赠人直接送达"),
        is_retroactive=True,
        note=note,
    )
    allocation = Allocation(
        branch=branch,
        campaign=donation.campaign,
        recipient=recipient,
        kind=DonationKind.IN_KIND,
        basis=AllocationBasis.RETROACTIVE,
        allocated_on=timezone.localtime(donation.received_at).date(),
        is_retroactive=True,
        note=text_input(note, "note", 2000),
        registered_by=by,
        serial=allocation_serial(branch, DonationKind.IN_KIND, timezone.localtime(donation.received_at).date()),
    )
    with audit_context(user=by, reason="retroactive_register"):
        allocation.save()
        AllocationSource.objects.bulk_create(
            [
                AllocationSource(allocation=allocation, donation=donation, item=item, quantity=item.quantity)
                for item in donation.items.all()
            ]
        )
    recipient_confirmation_record(
        allocation=allocation,
        by=by,
        signed_by_name=signed_by_name,
        signed_at=signed_at or donation.received_at,
        scan=scan,
    )
    return allocation

"""What waits for staff in the donations app: the rows each workbench to-do line counts.

Each function returns the queryset (or list) that both the workbench line counts and the
admin list it links to shows, so the number on the front page is the number of rows behind
the link.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Exists, OuterRef, QuerySet

from donations.models import (
    Allocation,
    AllocationStatus,
    Bulletin,
    BulletinStatus,
    Donation,
    DonationStatus,
    MovementStatus,
    Receipt,
    ReceiptStatus,
    StockMovement,
)
from donations.selectors.disclosure import DeadlineStatus, campaign_deadlines
from redcross.scoping import within_branch_ids

BranchIds = Collection[int] | None


def donations_awaiting_confirmation(*, branch_ids: BranchIds) -> QuerySet[Donation]:
    """Registered, not yet confirmed by a second person (双人双签)."""
    return within_branch_ids(Donation.objects.filter(status=DonationStatus.REGISTERED), branch_ids)


def donations_awaiting_receipt(*, branch_ids: BranchIds) -> QuerySet[Donation]:
    """Confirmed gifts whose donor wants a receipt and that hold no valid one (never issued, or
    reversed without a reissue)."""
    valid = Receipt.objects.filter(donation=OuterRef("pk"), status=ReceiptStatus.VALID)
    queryset = Donation.objects.filter(status=DonationStatus.CONFIRMED, donor__wants_receipt=True).filter(
        ~Exists(valid)
    )
    return within_branch_ids(queryset, branch_ids)


def movements_awaiting_second_keeper(*, branch_ids: BranchIds) -> QuerySet[StockMovement]:
    return within_branch_ids(
        StockMovement.objects.filter(status=MovementStatus.PENDING), branch_ids, branch_field="warehouse__branch"
    )


def allocations_awaiting_confirmation(*, branch_ids: BranchIds) -> QuerySet[Allocation]:
    return within_branch_ids(Allocation.objects.filter(status=AllocationStatus.REGISTERED), branch_ids)


def allocations_awaiting_signoff(*, branch_ids: BranchIds) -> QuerySet[Allocation]:
    """Confirmed allocations the recipient has not signed for yet."""
    queryset = Allocation.objects.filter(status=AllocationStatus.CONFIRMED, recipient_confirmation__isnull=True)
    return within_branch_ids(queryset, branch_ids)


def bulletin_drafts(*, branch_ids: BranchIds) -> QuerySet[Bulletin]:
    return within_branch_ids(Bulletin.objects.filter(status=BulletinStatus.DRAFT), branch_ids)


def campaigns_with_disclosure_due(*, branch_ids: BranchIds) -> int:
    """Campaigns whose next disclosure is due within two days or overdue (Charity Law arts. 72, 79)."""
    due = (DeadlineStatus.DUE, DeadlineStatus.OVERDUE)
    return sum(1 for deadline in campaign_deadlines(branch_ids=branch_ids) if deadline.status in due)

"""The nightly check of every campaign's books (received = allocated + in stock + cash balance)."""

from __future__ import annotations

import logging

from django.db import transaction

from donations.models import Campaign, ReconciliationRun
from donations.selectors.books import campaign_books, campaigns_to_reconcile
from redcross.models import Branch

logger = logging.getLogger(__name__)


@transaction.atomic
def reconciliation_check(*, campaign: Campaign, branch: Branch) -> ReconciliationRun:
    """Compute the campaign's books at the branch and record the result, with any discrepancy."""
    books = campaign_books(campaign, branch)
    run = ReconciliationRun.objects.create(
        campaign=campaign,
        branch=branch,
        is_balanced=books.is_balanced,
        figures=books.figures(),
        discrepancies=books.discrepancies,
    )
    if not books.is_balanced:
        # ids only: the discrepancies themselves are for staff, in the admin
        logger.warning(
            "reconciliation: campaign %s at branch %s has %d discrepancies",
            campaign.pk,
            branch.pk,
            len(books.discrepancies),
        )
    return run


def reconciliation_check_all() -> list[ReconciliationRun]:
    """One record per campaign and branch with any confirmed donation or allocation."""
    return [reconciliation_check(campaign=c, branch=b) for c, b in campaigns_to_reconcile()]

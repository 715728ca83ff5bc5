"""The querysets behind the relief workbench lines and the admin filters they link to."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Exists, OuterRef, QuerySet

from redcross.scoping import within_branch_ids
from relief.models import (
    Aid,
    AidStatus,
    Application,
    ApplicationStatus,
    BeneficiaryDuplicate,
    DuplicateStatus,
)

BranchIds = Collection[int] | None


def open_duplicates_queryset(*, branch_ids: BranchIds) -> QuerySet[BeneficiaryDuplicate]:
    rows = BeneficiaryDuplicate.objects.filter(status=DuplicateStatus.OPEN)
    return within_branch_ids(rows, branch_ids, branch_field="beneficiary__branch")


def applications_to_review(*, branch_ids: BranchIds) -> QuerySet[Application]:
    rows = Application.objects.filter(status=ApplicationStatus.SUBMITTED)
    return within_branch_ids(rows, branch_ids)


def applications_to_decide(*, branch_ids: BranchIds) -> QuerySet[Application]:
    rows = Application.objects.filter(status=ApplicationStatus.REVIEWED)
    return within_branch_ids(rows, branch_ids)


def applications_to_disburse(*, branch_ids: BranchIds) -> QuerySet[Application]:
    """Approved applications of projects that pay (not referrals) with no live disbursement yet."""
    live = Aid.objects.filter(application=OuterRef("pk")).exclude(status=AidStatus.CANCELLED)
    rows = Application.objects.filter(status=ApplicationStatus.APPROVED, project__is_referral=False)
    return within_branch_ids(rows.filter(~Exists(live)), branch_ids)


def aid_awaiting_second_signature(*, branch_ids: BranchIds) -> QuerySet[Aid]:
    return within_branch_ids(Aid.objects.filter(status=AidStatus.REGISTERED), branch_ids)

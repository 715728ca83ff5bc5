"""What waits for training staff: the rows each workbench to-do line counts, and the admin list
it links to shows (the same queryset)."""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.db.models import QuerySet
from django.utils import timezone

from redcross.scoping import within_branch_ids
from training.conf import expiry_warning_days
from training.models import Certificate, CertificateKind, Session, SessionStatus

BranchIds = Collection[int] | None


def sessions_held_not_closed(*, branch_ids: BranchIds) -> QuerySet[Session]:
    """Held sessions whose results and attendance are not yet closed (结班)."""
    return within_branch_ids(Session.objects.filter(status=SessionStatus.HELD), branch_ids)


def instructor_certificates_expiring(*, branch_ids: BranchIds) -> QuerySet[Certificate]:
    """Instructor certificates still valid that expire within ``TRAINING_EXPIRY_WARNING_DAYS``:
    their holders need a refresher course before they may teach again."""
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=expiry_warning_days())
    return within_branch_ids(
        Certificate.objects.valid_on(today).filter(kind=CertificateKind.INSTRUCTOR, expires_on__lte=horizon),
        branch_ids,
    )

"""Rescue cases on public pages: published AND the rescuer's consent standing, read in one query.

The consent condition is ``redcross.consent.standing_consents``, the same records ``has_consent``
reads, so a withdrawal hides the case on the next request, whatever its status says.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from redcross.consent import standing_consents
from training.models import RESCUE_CASE_PURPOSE, RescueCase, RescueCaseStatus

PUBLIC_LIMIT = 50
PUBLIC_FIELDS = (
    "id", "title", "story", "place", "rescued_on", "published_at",
    "branch__name", "branch__short_name", "rescuer__name",
)  # fmt: skip


def public_rescue_cases() -> QuerySet[RescueCase]:
    """Published cases whose rescuer consents to publication, newest first."""
    consenting = standing_consents(RESCUE_CASE_PURPOSE).filter(person_id=OuterRef("rescuer_id"))
    return (
        RescueCase.objects.filter(status=RescueCaseStatus.PUBLISHED)
        .filter(Exists(consenting))
        .select_related("branch", "rescuer")
        .only(*PUBLIC_FIELDS)
        .order_by("-rescued_on", "-id")
    )

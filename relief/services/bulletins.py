"""Recording which disbursements a published usage announcement counted (registered with the
donations app's bulletins in ``relief.apps``; runs in the publishing transaction)."""

from __future__ import annotations

from collections.abc import Iterable

from donations.models import Bulletin
from relief.models import BulletinAid


def bulletin_aids_record(bulletin: Bulletin, aid_ids: Iterable[int]) -> None:
    """One link per disbursement counted: it is not listed again as late, and the project's page
    names the announcement."""
    BulletinAid.objects.bulk_create((BulletinAid(bulletin=bulletin, aid_id=pk) for pk in aid_ids), batch_size=5000)

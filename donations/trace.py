"""Where a donation went: the public trace shown on the donor's own page.

Allocations (拨付) are not recorded yet; the allocations issue fills
``donation_trace`` with one entry per allocation of this donation, oldest first.
"""

from __future__ import annotations

from typing import Any

from donations.models import Donation


def donation_trace(donation: Donation) -> list[Any]:
    """The public steps of the donation's use so far.

    Always empty for now: allocations come with the allocations issue, which fills
    this (and the "去向" section of ``templates/donations/donation.html``). Until
    then the page says 尚未拨付 and names the designated recipient, if any.
    """
    return []

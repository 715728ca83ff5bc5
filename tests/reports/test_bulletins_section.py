"""The bulletins section of the monthly report: what was published in the month, from the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from donations.report_sections import bulletins
from donations.services.bulletins.compose import bulletin_draft
from donations.services.bulletins.publish import bulletin_publish
from donations.services.intake import donation_confirm, donation_register
from redcross.selectors import BranchScope
from reports.periods import ReportPeriod
from tests.donations.factories import CampaignFactory, OrganisationDonorFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_bulletins_published_in_the_month(branch_tree):
    city, east = branch_tree["city"], branch_tree["east"]
    clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    reviewer = StaffFactory(branch=city, roles=["finance_reviewer"])
    campaign = CampaignFactory(branch=city)
    yesterday = timezone.now() - timedelta(days=1)
    for branch, amount in ((city, "100.00"), (city, "250.50"), (east, "40.00")):
        gift = donation_register(
            by=clerk, branch=branch, donor=OrganisationDonorFactory(branch=branch), campaign=campaign,
            kind="cash", channel="bank", received_at=yesterday, amount=amount,
        )  # fmt: skip
        donation_confirm(donation=gift, by=reviewer)
    day = timezone.localdate(yesterday)
    published = []
    for branch in (city, east):
        draft = bulletin_draft(branch=branch, kind="receipt", period_start=day, period_end=day, campaign=campaign)
        published.append(bulletin_publish(bulletin=draft, by=reviewer))
    month = ReportPeriod.month_of(timezone.localdate().strftime("%Y-%m"))

    own = {row["kind"]: row for row in bulletins(month, city, BranchScope.OWN)}
    system = {row["kind"]: row for row in bulletins(month, city, BranchScope.SYSTEM)}

    assert (own["receipt"]["count"], own["receipt"]["rows"], own["receipt"]["amount"]) == (1, 2, Decimal("350.50"))
    assert own["receipt"]["last_hash"] == published[0].content_hash
    assert (system["receipt"]["count"], system["receipt"]["rows"]) == (2, 3)
    assert system["receipt"]["amount"] == Decimal("390.50")
    assert own["usage"]["count"] == 0 and own["usage"]["last_hash"] == ""

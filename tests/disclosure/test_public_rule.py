""" "Only confirmed donations are public": one rule (``Donation.objects.public()`` and
``public_donation_q`` in ``donations/models/intake.py``), followed by every public surface.

A confirmed gift and a registered one (second signature not done) go through the donation page,
the open data API, the campaign's figures, the bulletins, the home page, the donor's lookup and
the reports. With the rule as it is, only the confirmed gift shows; with the rule turned round
(``PUBLIC_STATUS`` patched to "registered"), every one of those surfaces must turn round with it,
which fails the day one of them filters on the status by its own copy of the rule.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import combinations

import pytest
from django.core.cache import cache
from django.utils import timezone

import donations.models.intake as intake
from donations.models import Donation, DonationStatus, ValueBasis
from tests.donations.factories import CampaignFactory, DonationFactory, DonationItemFactory, OrganisationDonorFactory

pytestmark = pytest.mark.django_db

CONFIRMED_NAME = "澜州已复核爱心科技有限公司"
REGISTERED_NAME = "澜州待复核爱心科技有限公司"


@pytest.fixture
def gifts(city):
    campaign = CampaignFactory(branch=city, slug="public-rule", name="公开规则测试专项募捐")
    when = timezone.now() - timedelta(minutes=30)
    made = {}
    for status, name, amount in (
        (DonationStatus.CONFIRMED, CONFIRMED_NAME, "123.00"),
        (DonationStatus.REGISTERED, REGISTERED_NAME, "456.00"),
    ):
        donor = OrganisationDonorFactory(branch=city, name=name)
        cash = DonationFactory(
            branch=city, donor=donor, campaign=campaign, status=status, amount=amount, received_at=when
        )
        goods = DonationItemFactory(
            donation__branch=city,
            donation__donor=donor,
            donation__campaign=campaign,
            donation__status=status,
            donation__received_at=when,
            quantity="10",
            unit_value=amount,
            value_basis=ValueBasis.INVOICE,
        ).donation
        made[status] = (cash, goods)
    return campaign, made


def _surfaces(client, city, campaign) -> dict[str, set[str]]:
    """The serials each surface shows (or counts, as the amounts only its gifts add up to)."""
    from donations.report_sections import intake_by, received_donations
    from donations.selectors import daily_intake_report
    from donations.selectors.books import campaign_books
    from donations.selectors.campaigns import campaign_summary, campaign_totals, home_figures
    from donations.selectors.lookup import donation_by_token
    from donations.services.bulletins.compose import bulletin_donations
    from donations.services.figures import rebuild_kept_figures
    from reports.periods import ReportPeriod

    cache.clear()
    # the gifts were made by factories, behind the services that keep the public figures: kept by
    # the same rule they are counted with, so they turn round with it too
    rebuild_kept_figures()
    every = list(Donation.objects.filter(campaign=campaign).order_by("pk"))
    shown: dict[str, set[str]] = {}
    shown["donation page"] = {
        d.serial for d in every if client.get(f"/disclosure/donations/{d.serial}/").status_code == 200
    }
    shown["open data API"] = {
        d.serial for d in every if client.get(f"/api/public/donations/{d.serial}/").status_code == 200
    }
    shown["donor lookup"] = {d.serial for d in every if donation_by_token(d.lookup_token) is not None}
    today = timezone.localdate()
    shown["receipt bulletin"] = set(
        bulletin_donations(branch=city, start=today, end=today, campaign=campaign).values_list("serial", flat=True)
    )

    def made_of(total, kind: str) -> set[str]:
        """The gifts of this kind whose values add up to ``total`` (each subset's sum is distinct)."""
        parts = [(d.amount if kind == "cash" else d.goods_value(), d.serial) for d in every if d.kind == kind]
        for size in range(len(parts) + 1):
            for subset in combinations(parts, size):
                if sum((value for value, _serial in subset), Decimal("0.00")) == total:
                    return {serial for _value, serial in subset}
        raise AssertionError(f"{total} is no sum of the {kind} gifts")

    def by_cash(total) -> set[str]:
        return made_of(total, "cash")

    def by_goods(total) -> set[str]:
        return made_of(total, "in_kind")

    api_books = client.get(f"/api/public/campaigns/{campaign.slug}/").json()["books"]
    shown["campaign API (cash)"] = by_cash(Decimal(api_books["cash_received"]))
    shown["campaign API (goods)"] = by_goods(Decimal(api_books["goods_received"]))
    summary = campaign_summary(campaign)
    shown["campaign page (cash)"] = by_cash(summary.cash_received)
    shown["campaign page (goods)"] = by_goods(summary.goods_received)
    shown["campaign list"] = by_cash(campaign_totals([campaign])[campaign.pk][1])
    books = campaign_books(campaign, city)
    shown["books (cash)"] = by_cash(books.cash_received)
    shown["books (goods)"] = by_goods(books.goods_received)
    home = home_figures()
    shown["home page (cash)"] = by_cash(home.year_cash)
    shown["home page (goods)"] = by_goods(home.year_goods)
    daily = daily_intake_report(day=today, branch_ids=None).totals
    shown["daily report (cash)"] = by_cash(daily.total_cash)
    shown["daily report (goods)"] = by_goods(daily.total_goods_value)
    period = ReportPeriod.month_of(today.strftime("%Y-%m"))
    shown["monthly report"] = set(received_donations(period, city, "own").values_list("serial", flat=True))
    shown["monthly report (goods)"] = by_goods(intake_by(period, city, "own", "campaign_id")[campaign.pk]["goods"])
    return shown


def _serials(made, status) -> tuple[str, str]:
    cash, goods = made[status]
    return cash.serial, goods.serial


def _expected(surface: str, cash: str, goods: str) -> set[str]:
    if "goods" in surface:
        return {goods}
    if "cash" in surface or surface == "campaign list":
        return {cash}
    return {cash, goods}


def test_only_confirmed_gifts_show_on_any_public_surface(client, city, gifts):
    campaign, made = gifts
    cash, goods = _serials(made, DonationStatus.CONFIRMED)
    for surface, serials in _surfaces(client, city, campaign).items():
        assert serials == _expected(surface, cash, goods), surface
    # the honor roll, its CSV and the open data list, and a crawl of them, never name the registered gift
    for url in ("/disclosure/", "/disclosure/honor-roll.csv", "/api/public/donations/", "/api/public/allocations/"):
        response = client.get(url)
        body = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
        assert response.status_code == 200, url
        assert REGISTERED_NAME not in body, url
        assert not any(serial in body for serial in _serials(made, DonationStatus.REGISTERED)), url
        if url != "/api/public/allocations/":
            assert CONFIRMED_NAME in body, url


def test_every_surface_follows_the_one_rule(client, city, gifts, monkeypatch):
    """Turn the rule round: the registered gifts are now the public ones, everywhere."""
    campaign, made = gifts
    monkeypatch.setattr(intake, "PUBLIC_STATUS", DonationStatus.REGISTERED)
    cash, goods = _serials(made, DonationStatus.REGISTERED)
    for surface, serials in _surfaces(client, city, campaign).items():
        assert serials == _expected(surface, cash, goods), surface

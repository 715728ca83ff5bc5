"""One meaning per word: the home page, the campaign list and the campaign page show what a
campaign received with the same three words (已接收捐款 / 捐赠物资价值 / 合计) and the same
figures: the kept figures, equal to ``donations.selectors.campaigns.received_totals``."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from donations.models import DonationStatus, ValueBasis
from donations.selectors.campaigns import ReceivedTotals, received_totals
from donations.services.figures import rebuild_kept_figures
from tests.donations.factories import CampaignFactory, DonationFactory, DonationItemFactory

pytestmark = pytest.mark.django_db

WORDS = {"zh-hans": ("已接收捐款", "捐赠物资价值", "合计"), "en": ("Cash received", "Goods value", "Total")}


@pytest.fixture
def campaign(city):
    """A cash gift partly refunded, goods with and without evidence of value, and gifts that do not
    count (not yet confirmed, another campaign)."""
    campaign = CampaignFactory(branch=city, slug="one-meaning", name="同词同义专项募捐", is_emergency=True)
    when = timezone.now() - timedelta(minutes=10)
    confirmed = {"branch": city, "campaign": campaign, "status": DonationStatus.CONFIRMED, "received_at": when}
    DonationFactory(**confirmed, amount="12345.67", refunded_amount="345.67")
    DonationFactory(**confirmed, amount="1000.00")
    DonationFactory(branch=city, campaign=campaign, status=DonationStatus.REGISTERED, amount="999.00")
    valued = DonationItemFactory(
        **{f"donation__{key}": value for key, value in confirmed.items()}, quantity="3", unit_value="1234.50"
    )
    DonationItemFactory(
        donation=valued.donation, name="口罩", quantity="50", unit_value=None, value_basis=ValueBasis.NONE
    )
    DonationItemFactory(
        **{f"donation__{key}": value for key, value in confirmed.items()},
        quantity="2",
        unit_value="10.00",
        value_basis=ValueBasis.NONE,
    )
    rebuild_kept_figures()  # made by factories, behind the services that keep the public figures
    return campaign


def _figures(html: str, key: str) -> dict[str, str]:
    """The figures inside the element marked ``data-received="<key>"``."""
    start = html.index(f'data-received="{key}"')
    end = min(i for i in (html.find("</dl>", start), html.find("</tr>", start)) if i != -1)
    block = html[start:end]
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', block))


def test_received_totals_count_confirmed_cash_net_of_refunds_and_valued_goods(campaign):
    totals = received_totals(None)[None]
    assert totals == ReceivedTotals(donations=4, cash=Decimal("13000.00"), goods=Decimal("3703.50"))
    assert totals.total == Decimal("16703.50")
    assert received_totals(None, by="campaign")[campaign.pk] == totals


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_home_campaign_list_and_campaign_page_show_the_same_figures_in_the_same_words(client, campaign, language):
    cache.clear()
    client.cookies["django_language"] = language
    pages = {
        "home": client.get("/").content.decode(),
        "campaign list": client.get("/disclosure/campaigns/").content.decode(),
        "campaign page": client.get(f"/disclosure/campaigns/{campaign.slug}/").content.decode(),
    }
    expected = {"cash": "13,000.00", "goods": "3,703.50", "total": "16,703.50", "count": "4"}
    for name, html in pages.items():
        figures = _figures(html, campaign.slug)
        assert {key: value.split()[0] for key, value in figures.items()} == expected, name
        for word in WORDS[language]:
            assert word in html, (name, word)
    # the words that meant two things are gone from all three pages
    for html in pages.values():
        assert "已入账" not in html

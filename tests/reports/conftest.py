"""Two months of ledgers for the report tests.

``tiny``: one small month (March 2025) whose every figure is computed by hand in the tests.
``ledger``: a larger, pseudo-random March 2025 (and March 2024) over the whole branch tree, with
rows just outside the month, unconfirmed rows, refunds, directed gifts, unvalued lots and lots
valued on exactly half a fen, for comparisons with aggregates computed independently in Python.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from donations.models import AllocationStatus, CampaignKind, Channel, Recipient, ValueBasis
from donations.services.figures import rebuild_kept_figures
from reports.periods import ReportPeriod
from tests.donations.factories import CampaignFactory, RecipientFactory, WarehouseFactory
from tests.factories import StaffFactory
from tests.reports.factories import (
    ReconciliationRunFactory,
    cash,
    cash_allocation,
    goods,
    goods_allocation,
    local,
    movement,
    receipt,
)

INVOICE, MARKET, NONE = ValueBasis.INVOICE, ValueBasis.MARKET_PRICE, ValueBasis.NONE


@pytest.fixture
def march():
    return ReportPeriod("month", 2025, 3)


@pytest.fixture
def leader(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["leadership"], username="leader-test")


@pytest.fixture
def tiny(branch_tree):
    """March 2025, by hand:

    city (covid campaign, target 2000.00): cash 1000.00 (wechat), cash 234.56 refunded 34.56 (alipay)
    east (east regular giving): cash 88.88 (bank, directed to the hospital)
    east_school (east regular giving): goods: 防护服 10 × 12.50 (invoice) = 125.00, 棉被 3 (no value),
        大米 2.5 × 4.53 (market price) = 11.325 -> 11.32 (half to even, as the ledgers round)
    not counted: an unconfirmed 999.00 at the city, 500.00 on 28 February 23:59:59, 700.00 on 1 April 00:00
    March 2024 (previous year): city cash 600.00 (covid)
    receipts: 1000.00 issued 5 March; 50.00 issued 20 February and reversed 10 March
    allocations: city cash 300.00 to the hospital (confirmed 15 March); east 4 防护服 (= 50.00) to the
        community (confirmed 20 March); city cash 77.00 registered only; city cash 40.00 confirmed 1 April
    stock (east warehouse): 防护服 in 10 (2 March), out 4 (20 March); 棉被 in 3 (3 March), out 1 (2 April);
        大米 in 2.5 pending
    """
    city, east, school = branch_tree["city"], branch_tree["east"], branch_tree["east_school"]
    covid = CampaignFactory(branch=city, name="测试抗疫专项募捐", slug="t-covid", target_amount=Decimal("2000.00"))
    east_regular = CampaignFactory(branch=east, kind=CampaignKind.REGULAR, name="东区日常捐赠", slug="t-east-regular")
    hospital = RecipientFactory(branch=city, name="测试市第一人民医院", kind=Recipient.Kind.HOSPITAL)
    community = RecipientFactory(branch=east, name="东区春晖社区", kind=Recipient.Kind.COMMUNITY)

    big = cash(branch=city, campaign=covid, received_at=local(2025, 3, 1, 0, 0, 0), amount="1000.00", channel="wechat")
    cash(
        branch=city,
        campaign=covid,
        received_at=local(2025, 3, 31, 23, 59, 59),
        amount="234.56",
        refunded="34.56",
        channel="alipay",
    )
    cash(
        branch=east,
        campaign=east_regular,
        received_at=local(2025, 3, 12, 9, 30),
        amount="88.88",
        designated_recipient=hospital,
    )
    gift = goods(
        branch=school,
        campaign=east_regular,
        received_at=local(2025, 3, 2, 10, 0),
        lots=[("防护服", "10", "12.50", INVOICE), ("棉被", "3", None, NONE), ("大米", "2.5", "4.53", MARKET)],
    )
    cash(branch=city, campaign=covid, received_at=local(2025, 3, 8, 8, 0), amount="999.00", confirmed=False)
    old = cash(branch=city, campaign=covid, received_at=local(2025, 2, 28, 23, 59, 59), amount="500.00")
    cash(branch=city, campaign=covid, received_at=local(2025, 4, 1, 0, 0, 0), amount="700.00")
    cash(branch=city, campaign=covid, received_at=local(2024, 3, 15, 12, 0), amount="600.00")

    receipt(donation=big, issued_at=local(2025, 3, 5, 10, 0), amount="1000.00")
    receipt(donation=old, issued_at=local(2025, 2, 20, 10, 0), amount="50.00", reversed_at=local(2025, 3, 10, 9, 0))

    cash_allocation(
        branch=city, campaign=covid, recipient=hospital, amount="300.00", confirmed_at=local(2025, 3, 15, 16, 0)
    )
    protective, quilts, rice = gift.items.order_by("id")
    goods_allocation(
        branch=east,
        campaign=east_regular,
        recipient=community,
        item=protective,
        quantity="4",
        confirmed_at=local(2025, 3, 20, 11, 0),
    )
    cash_allocation(
        branch=city,
        campaign=covid,
        recipient=hospital,
        amount="77.00",
        confirmed_at=local(2025, 3, 16, 9, 0),
        status=AllocationStatus.REGISTERED,
    )
    cash_allocation(
        branch=city, campaign=covid, recipient=hospital, amount="40.00", confirmed_at=local(2025, 4, 1, 9, 0)
    )

    store = WarehouseFactory(branch=east, name="东区备灾仓库")
    movement(warehouse=store, item=protective, quantity="10", moved_at=local(2025, 3, 2, 15, 0))
    movement(warehouse=store, item=protective, quantity="-4", moved_at=local(2025, 3, 20, 11, 0), kind="out")
    movement(warehouse=store, item=quilts, quantity="3", moved_at=local(2025, 3, 3, 9, 0))
    movement(warehouse=store, item=quilts, quantity="-1", moved_at=local(2025, 4, 2, 9, 0), kind="out")
    movement(warehouse=store, item=rice, quantity="2.5", moved_at=local(2025, 3, 4, 9, 0), status="pending")
    rebuild_kept_figures()  # made by factories, behind the services that keep the campaigns' figures
    return {"covid": covid, "east_regular": east_regular, "hospital": hospital, "community": community, **branch_tree}


_CHANNELS = [c.value for c in Channel]
_GOODS = [("口罩", "0.80"), ("防护服", "105.00"), ("大米", "4.53"), ("消毒液", "38.00"), ("矿泉水", "28.00")]


@pytest.fixture
def ledger(branch_tree):
    """A pseudo-random March 2025 (and March 2024) across the branch tree."""
    rng = random.Random(6)
    city, east, west = branch_tree["city"], branch_tree["east"], branch_tree["west"]
    east_school, west_school = branch_tree["east_school"], branch_tree["west_school"]
    covid = CampaignFactory(branch=city, name="测试抗疫专项募捐", slug="l-covid", target_amount=Decimal("50000.00"))
    city_regular = CampaignFactory(branch=city, kind=CampaignKind.REGULAR, name="市本级日常捐赠", slug="l-city")
    flood = CampaignFactory(branch=east, name="=东区防汛专项", slug="l-flood", target_amount=Decimal("8000.00"))
    west_regular = CampaignFactory(branch=west, kind=CampaignKind.REGULAR, name="西区日常捐赠", slug="l-west")
    recipients = [
        RecipientFactory(branch=city, name="测试市中心医院", kind=Recipient.Kind.HOSPITAL),
        RecipientFactory(branch=city, name="测试市疾控中心", kind=Recipient.Kind.CDC),
        RecipientFactory(branch=east, name="东区阳光社区", kind=Recipient.Kind.COMMUNITY),
    ]
    campaigns = {
        city.pk: [covid, city_regular],
        east.pk: [flood, covid],
        east_school.pk: [flood],
        west.pk: [west_regular],
        west_school.pk: [west_regular],
    }
    warehouses = {
        city.pk: WarehouseFactory(branch=city, name="市备灾仓库"),
        east.pk: WarehouseFactory(branch=east, name="东区备灾仓库"),
        west_school.pk: WarehouseFactory(branch=west_school, name="西区一中物资室"),
    }

    def when(year=2025, month=3):
        return local(year, month, rng.randint(1, 31 if month == 3 else 28), rng.randint(0, 23), rng.randint(0, 59))

    made_cash, made_lots = [], []
    for branch in (city, east, east_school, west, west_school):
        for n in range(6):
            amount = Decimal(rng.randint(100, 2_000_000)) / 100
            refunded = (amount / 4).quantize(Decimal("0.01")) if n == 1 else Decimal("0.00")
            made_cash.append(
                cash(
                    branch=branch,
                    campaign=rng.choice(campaigns[branch.pk]),
                    received_at=when(),
                    amount=amount,
                    refunded=refunded,
                    channel=rng.choice(_CHANNELS),
                    confirmed=n != 5,
                    designated_recipient=recipients[0] if n == 2 else None,
                )
            )
        for n in range(3):
            lots = []
            for name, price in rng.sample(_GOODS, rng.randint(1, 3)):
                quantity = Decimal(rng.randint(1, 40_000)) / (1000 if name == "大米" else 1)
                basis = rng.choice([INVOICE, MARKET, NONE]) if n else INVOICE
                lots.append((name, quantity, None if basis == NONE else price, basis))
            if branch == east_school and n == 0:
                lots.append(("大米", Decimal("2.5"), "4.53", MARKET))  # 11.325 -> 11.32
            donation = goods(
                branch=branch,
                campaign=rng.choice(campaigns[branch.pk]),
                received_at=when(),
                lots=lots,
                channel=rng.choice(["on_site", "other"]),
                confirmed=n != 2 or branch != west,
                designated_recipient=recipients[2] if n == 1 and branch == east else None,
            )
            made_lots.extend(donation.items.all())
        # just outside the month, and the previous year
        cash(branch=branch, campaign=campaigns[branch.pk][0], received_at=local(2025, 2, 28, 23, 59), amount="11.11")
        cash(branch=branch, campaign=campaigns[branch.pk][0], received_at=local(2025, 4, 1, 0, 0), amount="22.22")
        for _ in range(2):
            cash(
                branch=branch,
                campaign=campaigns[branch.pk][0],
                received_at=when(2024),
                amount=Decimal(rng.randint(100, 500_000)) / 100,
                channel=rng.choice(_CHANNELS),
            )

    # receipts: issued in March, reversed in March, issued in March and reversed in April
    confirmed_cash = [d for d in made_cash if d.status == "confirmed"]
    for index, donation in enumerate(confirmed_cash[:12]):
        issued_at = local(2025, 3, 1 + index, 10, 0) if index % 4 else local(2025, 2, 10, 10, 0)
        reversed_at = local(2025, 3, 25, 10, 0) if index % 3 == 0 else None
        if index == 5:
            reversed_at = local(2025, 4, 2, 10, 0)
        receipt(donation=donation, issued_at=issued_at, amount=donation.amount, reversed_at=reversed_at)
    receipt(donation=confirmed_cash[13], issued_at=local(2025, 3, 9, 10, 0), amount=None)  # goods without value

    # allocations: cash and goods confirmed in March, one only registered, one confirmed in April
    for branch, recipient, amount in ((city, 0, "1500.00"), (city, 1, "320.50"), (east, 2, "88.80")):
        cash_allocation(
            branch=branch,
            campaign=campaigns[branch.pk][0],
            recipient=recipients[recipient],
            amount=amount,
            confirmed_at=when(),
        )
    cash_allocation(
        branch=west,
        campaign=west_regular,
        recipient=recipients[0],
        amount="999.99",
        confirmed_at=when(),
        status=AllocationStatus.REGISTERED,
    )
    cash_allocation(
        branch=city, campaign=covid, recipient=recipients[1], amount="42.00", confirmed_at=local(2025, 4, 3, 9, 0)
    )
    valued_lots = [lot for lot in made_lots if lot.value is not None]
    for lot, recipient in zip(valued_lots[:4], [0, 2, 1, 2], strict=True):
        goods_allocation(
            branch=lot.donation.branch,
            campaign=lot.donation.campaign,
            recipient=recipients[recipient],
            item=lot,
            quantity=(lot.quantity / 3).quantize(Decimal("0.001")),
            confirmed_at=when(),
        )

    # stock: lots checked into the warehouse of their branch (or the city's), some out, some after March
    for index, lot in enumerate(made_lots):
        store = warehouses.get(lot.donation.branch_id) or warehouses[city.pk]
        movement(warehouse=store, item=lot, quantity=lot.quantity, moved_at=local(2025, 3, 1 + index % 28, 8, 0))
        out = (lot.quantity / 2).quantize(Decimal("0.001"))
        if index % 3 == 0 and out:
            movement(warehouse=store, item=lot, quantity=-out, moved_at=local(2025, 3, 29, 9, 0), kind="out")
        if index % 5 == 0 and lot.quantity > 1:
            movement(warehouse=store, item=lot, quantity="-0.5", moved_at=local(2025, 4, 2, 9, 0), kind="out")
        if index % 7 == 0:
            movement(warehouse=store, item=lot, quantity="1", moved_at=local(2025, 3, 30, 9, 0), status="pending")

    ReconciliationRunFactory(campaign=covid, branch=city, is_balanced=False, discrepancies=["测试差异"])
    rebuild_kept_figures()  # made by factories, behind the services that keep the campaigns' figures
    return {"covid": covid, "flood": flood, "recipients": recipients, **branch_tree}

"""Demo data for donations: invented donors, a surge campaign, confirmed gifts, receipts.

Called by ``python manage.py seed_demo``; idempotent (it does nothing once the demo
campaign has gifts). Every name is invented.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from donations.models import Campaign, CampaignKind, Donor, Recipient
from donations.services.campaigns import regular_campaign
from donations.services.donors import DuplicateDonor, donor_register
from donations.services.intake import donation_confirm, donation_register
from donations.services.receipts import receipt_issue
from redcross.models import Branch, User

DEMO_CAMPAIGN_SLUG = "demo-epidemic-2026"

RECIPIENTS = [
    ("澜州市第一人民医院", Recipient.Kind.HOSPITAL),
    ("澜州市中心医院", Recipient.Kind.HOSPITAL),
    ("澜州市疾病预防控制中心", Recipient.Kind.CDC),
    ("澜州市公安局", Recipient.Kind.POLICE),
    ("澜州市交通警察支队", Recipient.Kind.TRAFFIC_POLICE),
    ("东湖区春晖社区居委会", Recipient.Kind.COMMUNITY),
    ("澜州市儿童福利院", Recipient.Kind.WELFARE_HOME),
]

PERSONS = [
    "王喆",
    "李堃",
    "陈镕",
    "张思远",
    "刘雨桐",
    "欧阳明轩",
    "赵一帆",
    "孙晓梅",
    "周子墨",
    "吴佳琪",
    "郑浩然",
    "冯嘉怡",
]
ORGANISATIONS = [
    ("澜州明德科技有限公司", "91330100MA2H0001"),
    ("澜州运河食品有限公司", "91330100MA2H0002"),
    ("澜州湖滨商贸有限公司", "91330100MA2H0003"),
    ("澜州市建筑业协会", "51330100MJ000002"),
]
GOODS = [
    ("医用外科口罩", "一次性", "只", "0.80", "invoice"),
    ("医用防护服", "GB19082", "套", "105.00", "invoice"),
    ("84消毒液", "5L", "桶", "38.00", "market_price"),
    ("方便面", "24包/箱", "箱", "45.00", "donor_quote"),
    ("矿泉水", "550ml×24", "箱", "28.00", "none"),
]


def _uscc(base16: str) -> str:
    from stdnum.cn import uscc

    body = base16 + "1"
    return body + uscc.calc_check_digit(body)


def seed(stdout) -> None:
    city = Branch.objects.filter(code="LZ").first()
    clerk = User.objects.filter(username="clerk").first()
    reviewer = User.objects.filter(username="reviewer").first()
    if city is None or clerk is None or reviewer is None:
        stdout.write("donations: skipped (needs the demo branch and staff accounts)")
        return
    campaign, _ = Campaign.objects.get_or_create(
        slug=DEMO_CAMPAIGN_SLUG,
        defaults={
            "branch": city,
            "kind": CampaignKind.SPECIAL,
            "name": "澜州市抗击疫情专项募捐（演示）",
            "filing_number": "澜民募备〔2026〕001号",
            "purpose": "用于疫情防控一线医护人员防护物资和困难群众生活救助",
            "target_amount": Decimal("10000000.00"),
            "starts_on": timezone.localdate() - timedelta(days=20),
            "is_emergency": True,
        },
    )
    if campaign.donations.exists():
        stdout.write("donations: demo data already present")
        return
    regular = regular_campaign(city)
    recipients = [
        Recipient.objects.get_or_create(branch=city, name=name, defaults={"kind": kind})[0] for name, kind in RECIPIENTS
    ]
    rng = random.Random(2020)  # the same demo every time  # noqa: S311
    donors: list[Donor] = []
    for index, name in enumerate(PERSONS):
        phone = f"139{index:04d}{rng.randint(1000, 9999)}"
        display = ["masked", "masked", "anonymous", "full"][index % 4]
        consent = "本人书面同意公开姓名" if display == "full" else ""
        donors.append(
            _donor(clerk, city, "person", name, phone=phone, public_display=display, full_name_consent_text=consent)
        )
    for name, base in ORGANISATIONS:
        donors.append(
            _donor(clerk, city, "organisation", name, credit_code=_uscc(base[:16]), phone="0571-8600" + base[-4:])
        )

    now = timezone.now()
    created = 0
    for day in range(14):
        for _ in range(rng.randint(2, 6)):
            donor = rng.choice(donors)
            received = now - timedelta(days=13 - day, hours=rng.randint(1, 9), minutes=rng.randint(0, 59))
            target = campaign if rng.random() < 0.8 else regular
            if rng.random() < 0.75:
                amount = (
                    Decimal(rng.choice([50, 100, 200, 500, 1000, 2000, 10000, 50000]))
                    + Decimal(rng.randint(0, 99)) / 100
                )
                channel = rng.choice(["wechat", "alipay", "bank", "on_site"])
                txn = f"DEMO{channel[:2].upper()}{day:02d}{created:05d}" if channel != "on_site" else ""
                donation = donation_register(
                    by=clerk, branch=city, donor=donor, campaign=target, kind="cash", channel=channel,
                    received_at=received, amount=amount,
                    channel_transaction_id=txn,
                )  # fmt: skip
            else:
                name, spec, unit, price, basis = rng.choice(GOODS)
                directed = rng.choice(recipients) if rng.random() < 0.4 else None
                donation = donation_register(
                    by=clerk, branch=city, donor=donor, campaign=target, kind="in_kind", channel="on_site",
                    received_at=received, designated_recipient=directed,
                    wish=f"定向捐赠给{directed.name}" if directed else "",
                    items=[{"name": name, "specification": spec, "quantity": str(rng.randint(10, 5000)), "unit": unit,
                            "unit_value": price, "value_basis": basis}],
                )  # fmt: skip
            created += 1
            if day < 13 or rng.random() < 0.5:  # the latest day still has gifts waiting for the second signature
                donation_confirm(donation=donation, by=reviewer)
                if donor.wants_receipt:
                    receipt_issue(donation=donation, by=reviewer)
    stdout.write(f"donations: {created} demo donations, {len(donors)} donors, {len(recipients)} recipients")


def _donor(clerk, city, kind, name, **fields) -> Donor:
    try:
        return donor_register(by=clerk, branch=city, kind=kind, name=name, **fields)
    except DuplicateDonor as duplicate:
        return duplicate.candidates[0]

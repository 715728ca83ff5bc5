"""Demo data for donations: invented donors, a surge campaign, confirmed gifts, receipts (under an
invented 票据代码 registered for the year).

Called by ``python manage.py seed_demo``; idempotent (it does nothing once the demo
campaign has gifts). Every name is invented.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from donations.models import Campaign, CampaignKind, Donor, Receipt, ReceiptCode, Recipient
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
    year = timezone.localdate().year
    if not Receipt.objects.filter(branch=city, year=year).exists():
        # an invented 票据代码 (no province uses 99), as the finance bureau would assign for the year
        ReceiptCode.objects.get_or_create(branch=city, year=year, defaults={"code": f"9901{year % 100:02d}01"})
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
    letters = _attach_letters(clerk, campaign)
    stdout.write(
        f"donations: {created} demo donations, {len(donors)} donors, {len(recipients)} recipients, {letters} letters"
    )
    seed_allocations(stdout, city=city, campaign=campaign, recipients=recipients)


def _attach_letters(clerk: User, campaign: Campaign, count: int = 3) -> int:
    """A donation letter (捐赠函, a rendered PDF) on the largest organisations' cash gifts."""
    from django.core.files.base import ContentFile

    from donations.models import Donation
    from donations.services.evidence import donation_attachment_add
    from redcross.money import format_yuan
    from redcross.pdf import render_pdf

    gifts = Donation.objects.filter(campaign=campaign, kind="cash", donor__kind="organisation").select_related(
        "donor", "branch"
    )
    attached = 0
    for gift in gifts.order_by("-amount", "id")[:count]:
        day = timezone.localtime(gift.received_at).date().isoformat()
        content = render_pdf(
            "pdf/donation_letter.html",
            {"donor": gift.donor.name, "branch": gift.branch.name, "amount": format_yuan(gift.amount),
             "campaign": campaign.name, "day": day},
        )  # fmt: skip
        donation_attachment_add(
            donation=gift, kind="letter", file=ContentFile(content, name=f"捐赠函-{gift.serial}.pdf"), by=clerk
        )
        attached += 1
    return attached


def seed_allocations(stdout, *, city: Branch, campaign: Campaign, recipients: list[Recipient]) -> None:
    """Where the demo gifts went: a plan, cash and goods allocations, stock, sign-offs, books."""
    from donations.models import Allocation, DonationItem, DonationStatus, Warehouse
    from donations.services.allocations import (
        allocation_confirm,
        allocation_plan_register,
        allocation_register_cash,
        allocation_register_goods,
        recipient_confirmation_record,
    )
    from donations.services.reconciliation import reconciliation_check_all
    from donations.services.retroactive import retroactive_register
    from donations.services.warehouse import stock_adjust, stock_in_check, stock_movement_confirm, stock_transfer

    staff = {u.username: u for u in User.objects.filter(username__in=["clerk", "reviewer", "keeper1", "keeper2"])}
    if len(staff) < 4:
        stdout.write("allocations: skipped (needs the demo keepers)")
        return
    if Warehouse.objects.filter(branch=city).exists():
        stdout.write("allocations: demo data already present")
        return
    clerk, reviewer, keeper1, keeper2 = (staff[n] for n in ("clerk", "reviewer", "keeper1", "keeper2"))
    main = Warehouse.objects.create(branch=city, name="澜州市红十字会救灾物资仓库", address="澜州市东湖区仓储路 8 号")
    spare = Warehouse.objects.create(branch=city, name="澜州市红十字会西江备用仓库", address="澜州市西江区物流园 3 号")
    hospital, central, cdc, police = recipients[0], recipients[1], recipients[2], recipients[3]
    today = timezone.localdate()

    # goods: every confirmed lot is counted and checked in by two keepers (one with a shortfall)
    lots = list(
        DonationItem.objects.filter(
            donation__campaign=campaign, donation__status=DonationStatus.CONFIRMED, donation__is_retroactive=False
        ).select_related("donation")
    )
    for index, lot in enumerate(lots):
        counted = lot.quantity - 2 if index == 0 and lot.quantity > 2 else lot.quantity
        movement = stock_in_check(
            by=keeper1, item=lot, warehouse=main, counted_quantity=counted,
            condition="外包装完好，数量与捐赠函一致" if counted == lot.quantity else "外包装破损 2 件，已拍照",
        )  # fmt: skip
        stock_movement_confirm(movement=movement, by=keeper2)

    cash_pool = sum(
        d.cash_remaining for d in campaign.donations.filter(kind="cash", status="confirmed", designated_recipient=None)
    )
    plan_cash = (cash_pool * Decimal("0.6")).quantize(Decimal("1"))
    undirected_lots = [lot for lot in lots if lot.donation.designated_recipient_id is None]
    plan_lines = [
        {"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": plan_cash, "note": "一线医护防护"},
        {"kind": "cash", "campaign": campaign, "recipient": cdc, "amount": Decimal("20000.00")},
    ]
    if undirected_lots:
        plan_lines.append(
            {"kind": "in_kind", "campaign": campaign, "recipient": central, "item_name": undirected_lots[0].name,
             "quantity": undirected_lots[0].quantity, "unit": undirected_lots[0].unit}
        )  # fmt: skip
    plan = allocation_plan_register(
        by=clerk, branch=city, document_number="澜防控指〔2026〕12号", title="关于第一批社会捐赠款物分配方案的通知",
        issuing_body="澜州市新冠肺炎疫情防控指挥部", issued_on=today - timedelta(days=6), lines=plan_lines,
    )  # fmt: skip
    lines = list(plan.lines.all())
    first_half = (plan_cash / 2).quantize(Decimal("0.01"))
    for amount, day in ((first_half, 5), (plan_cash - first_half, 2)):
        allocation = allocation_register_cash(
            by=clerk, campaign=campaign, recipient=hospital, amount=amount, allocated_on=today - timedelta(days=day),
            plan_line=lines[0], voucher_number=f"付字第{day:03d}号",
        )  # fmt: skip
        allocation_confirm(allocation=allocation, by=reviewer)
    first_cash = Allocation.objects.filter(campaign=campaign, kind="cash").order_by("id").first()
    recipient_confirmation_record(
        allocation=first_cash, by=clerk, signed_by_name="医院财务科", signed_at=timezone.now() - timedelta(days=4)
    )
    # the CDC's payment is registered and waits for the second signature
    allocation_register_cash(
        by=clerk, campaign=campaign, recipient=cdc, amount=Decimal("20000.00"), allocated_on=today, plan_line=lines[1]
    )

    # goods out: directed lots to the recipient the donor named, one undirected lot per the plan
    for lot in lots:
        if lot.donation.designated_recipient_id is None:
            continue
        order = allocation_register_goods(
            by=keeper1, campaign=campaign, recipient=lot.donation.designated_recipient, allocated_on=today,
            lines=[{"item": lot, "warehouse": main, "quantity": _stock_of(lot, main)}],
        )  # fmt: skip
        allocation_confirm(allocation=order, by=keeper2)
    if undirected_lots:
        lot = undirected_lots[0]
        half = (_stock_of(lot, main) / 2).quantize(Decimal("1"))
        if half > 0:
            order = allocation_register_goods(
                by=keeper1, campaign=campaign, recipient=central, allocated_on=today, plan_line=lines[2],
                lines=[{"item": lot, "warehouse": main, "quantity": half}],
            )  # fmt: skip
            allocation_confirm(allocation=order, by=keeper2)
            recipient_confirmation_record(
                allocation=order, by=keeper1, signed_by_name="中心医院物资科", signed_at=timezone.now()
            )
    if len(undirected_lots) > 1:
        lot = undirected_lots[1]
        stock = _stock_of(lot, main)
        if stock >= 10:
            half = (stock / 2).quantize(Decimal("1"))
            out, _into = stock_transfer(
                by=keeper1, item=lot, from_warehouse=main, to_warehouse=spare, quantity=half,
                reason="主仓库库容不足，分仓存放",
            )  # fmt: skip
            stock_movement_confirm(movement=out, by=keeper2)
            loss = stock_adjust(by=keeper1, item=lot, warehouse=main, quantity="-1", reason="月末盘点：受潮损毁 1 件")
            stock_movement_confirm(movement=loss, by=keeper2)

    # goods a donor took straight to a police checkpoint: recorded afterwards, flagged
    donor = Donor.objects.filter(branch=city, kind="organisation").order_by("id").first()
    retro = retroactive_register(
        by=clerk, branch=city, donor=donor, campaign=campaign, recipient=police,
        received_at=timezone.now() - timedelta(days=3), signed_by_name="交巡警卡点值班室",
        items=[{"name": "保温饭盒", "specification": "不锈钢", "quantity": "200", "unit": "个",
                "unit_value": "35.00", "value_basis": "invoice"}],
    )  # fmt: skip
    donation_confirm(donation=retro.sources.first().donation, by=reviewer)
    seed_bulletins(stdout, city=city, campaign=campaign, clerk=clerk, reviewer=reviewer)
    runs = reconciliation_check_all()
    balanced = sum(1 for run in runs if run.is_balanced)
    stdout.write(
        f"allocations: plan {plan.document_number}, {Allocation.objects.filter(campaign=campaign).count()} "
        f"allocations, {len(lots)} lots checked in; books balanced for {balanced} of {len(runs)} campaigns"
    )


def _stock_of(lot, warehouse) -> Decimal:
    from donations.services.stock import lot_stock

    return lot_stock(lot.pk, warehouse.pk, include_pending_out=True)


def _donor(clerk, city, kind, name, **fields) -> Donor:
    try:
        return donor_register(by=clerk, branch=city, kind=kind, name=name, **fields)
    except DuplicateDonor as duplicate:
        return duplicate.candidates[0]


def seed_bulletins(stdout, *, city: Branch, campaign: Campaign, clerk, reviewer) -> None:
    """Published bulletins for the demo campaign (two receipt bulletins and a usage announcement,
    chained), and one draft waiting for review."""
    from donations.services.bulletins.compose import bulletin_draft
    from donations.services.bulletins.publish import bulletin_publish

    today = timezone.localdate()
    start = campaign.starts_on or today - timedelta(days=20)
    first_end = today - timedelta(days=8)
    published = 0
    for kind, period_start, period_end in (
        ("receipt", start, first_end),
        ("usage", start, today - timedelta(days=1)),
        ("receipt", first_end + timedelta(days=1), today - timedelta(days=2)),
    ):
        draft = bulletin_draft(
            branch=city, kind=kind, period_start=period_start, period_end=period_end, campaign=campaign, by=clerk
        )
        bulletin_publish(bulletin=draft, by=reviewer)
        published += 1
    bulletin_draft(
        branch=city, kind="receipt", period_start=today - timedelta(days=1), period_end=today - timedelta(days=1),
        campaign=campaign, by=clerk,
    )  # fmt: skip
    stdout.write(f"bulletins: {published} published (chained), 1 draft waiting for review")

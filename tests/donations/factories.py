"""Factories for the donations app (build rows directly; services are tested through their own calls)."""

from datetime import timedelta

import factory
from django.utils import timezone

from donations.models import (
    Campaign,
    CampaignKind,
    Channel,
    Donation,
    DonationKind,
    DonationStatus,
    Donor,
    DonorKind,
    Recipient,
)
from tests.factories import CityBranchFactory, StaffFactory


class PersonDonorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Donor

    branch = factory.SubFactory(CityBranchFactory)
    kind = DonorKind.PERSON
    name = factory.Sequence(lambda n: f"测试捐赠人{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    created_by = factory.SubFactory(StaffFactory)


class OrganisationDonorFactory(PersonDonorFactory):
    kind = DonorKind.ORGANISATION
    name = factory.Sequence(lambda n: f"测试爱心企业{n}有限公司")
    public_display = "full"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    branch = factory.SubFactory(CityBranchFactory)
    kind = CampaignKind.SPECIAL
    name = factory.Sequence(lambda n: f"测试专项募捐{n}")
    slug = factory.Sequence(lambda n: f"special-{n}")


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient

    branch = factory.SubFactory(CityBranchFactory)
    name = factory.Sequence(lambda n: f"测试市第{n}人民医院")
    kind = Recipient.Kind.HOSPITAL


class DonationFactory(factory.django.DjangoModelFactory):
    """A registered cash donation with a made-up serial (services number real ones)."""

    class Meta:
        model = Donation

    serial = factory.Sequence(lambda n: f"FX2026-{n:06d}")
    branch = factory.SubFactory(CityBranchFactory)
    donor = factory.SubFactory(PersonDonorFactory, branch=factory.SelfAttribute("..branch"))
    campaign = factory.SubFactory(CampaignFactory, branch=factory.SelfAttribute("..branch"))
    kind = DonationKind.CASH
    channel = Channel.BANK
    received_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    amount = "100.00"
    status = DonationStatus.REGISTERED
    registered_by = factory.SubFactory(StaffFactory, branch=factory.SelfAttribute("..branch"))


# --- allocations and the warehouse (issue 4) ---------------------------------------------------
# models named as "app.Model" strings: this block is appended, so it adds no import at the top


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "donations.Warehouse"

    branch = factory.SubFactory(CityBranchFactory)
    name = factory.Sequence(lambda n: f"测试救灾物资仓库{n + 1}号库")
    address = "测试市物流园区 1 号"


class InKindDonationFactory(DonationFactory):
    """A registered in-kind donation (add its lots with ``DonationItemFactory``)."""

    kind = DonationKind.IN_KIND
    channel = Channel.ON_SITE
    amount = None


class DonationItemFactory(factory.django.DjangoModelFactory):
    """A lot of an in-kind donation: 100 boxes valued by invoice at 50.00 yuan each."""

    class Meta:
        model = "donations.DonationItem"

    donation = factory.SubFactory(InKindDonationFactory)
    name = "医用防护服"
    specification = "GB 19082"
    quantity = "100"
    unit = "套"
    unit_value = "50.00"
    value_basis = "invoice"


# --- rows for the allocation admin and API list tests (built directly, no services) ----------


class AllocationRowFactory(factory.django.DjangoModelFactory):
    """A registered cash allocation with a made-up serial, for list pages (services make real ones)."""

    class Meta:
        model = "donations.Allocation"

    serial = factory.Sequence(lambda n: f"CSBF2026-{n:06d}")
    branch = factory.SubFactory(CityBranchFactory)
    campaign = factory.SubFactory(CampaignFactory, branch=factory.SelfAttribute("..branch"))
    recipient = factory.SubFactory(RecipientFactory, branch=factory.SelfAttribute("..branch"))
    kind = DonationKind.CASH
    basis = "plan"
    amount = "1000.00"
    allocated_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))
    registered_by = factory.SubFactory(StaffFactory, branch=factory.SelfAttribute("..branch"))


class StockMovementRowFactory(factory.django.DjangoModelFactory):
    """A confirmed stock-in of a lot, for list pages (services make real ones)."""

    class Meta:
        model = "donations.StockMovement"

    serial = factory.Sequence(lambda n: f"CSCK2026-{n:06d}")
    warehouse = factory.SubFactory(WarehouseFactory)
    item = factory.SubFactory(DonationItemFactory, donation__branch=factory.SelfAttribute("...warehouse.branch"))
    kind = "in"
    quantity = "100"
    moved_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    status = "confirmed"
    recorded_by = factory.SubFactory(StaffFactory, branch=factory.SelfAttribute("..warehouse.branch"))
    confirmed_by = factory.SubFactory(StaffFactory, branch=factory.SelfAttribute("..warehouse.branch"))

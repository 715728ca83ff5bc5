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

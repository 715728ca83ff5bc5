"""Donation intake rules: registration, serials, dual signature, corrections, campaigns, donors."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from donations.models import (
    CampaignKind,
    CampaignStatus,
    Certificate,
    Donation,
    DonationCorrection,
    DonationStatus,
    Donor,
    PublicDisplay,
)
from donations.services.campaigns import campaign_set_status, regular_campaign
from donations.services.donors import DuplicateDonor, donor_register
from donations.services.intake import donation_confirm, donation_correct, donation_register
from redcross.signoff import DualSignatureRequired
from tests.donations.factories import OrganisationDonorFactory, PersonDonorFactory, RecipientFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def register(clerk, city, campaign, **overrides):
    arguments = {
        "by": clerk,
        "branch": city,
        "donor": overrides.pop("donor", None) or PersonDonorFactory(branch=city),
        "campaign": campaign,
        "kind": "cash",
        "channel": "bank",
        "received_at": timezone.now() - timedelta(hours=2),
        "amount": "1000.00",
    }
    arguments.update(overrides)
    return donation_register(**arguments)


def test_register_cash_numbers_serials_per_branch_and_year(clerk, city, campaign):
    first = register(clerk, city, campaign)
    second = register(clerk, city, campaign, amount="0.01")
    year = timezone.localtime(first.received_at).year
    assert first.serial == f"CS{year}-000001"
    assert second.serial == f"CS{year}-000002"
    assert first.status == DonationStatus.REGISTERED
    assert first.amount == Decimal("1000.00")
    assert first.history.first().history_user == clerk


def test_register_in_kind_with_item_lines(clerk, city, campaign):
    donation = register(
        clerk, city, campaign, kind="in_kind", amount=None,
        items=[{"name": "医用口罩", "specification": "N95", "quantity": "20000", "unit": "只",
                "unit_value": "3.50", "value_basis": "invoice"}],
    )  # fmt: skip
    item = donation.items.get()
    assert item.value == Decimal("70000.00")
    assert donation.goods_value() == Decimal("70000.00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "10000000000.01"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": 12.5}, "amount"),  # float is never money
        ({"amount": None}, "amount"),
        ({"received_at": timezone.now() + timedelta(days=2)}, "received_at"),
        ({"kind": "gold"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"designated_recipient": 999999}, "designated_recipient"),
        ({"kind": "in_kind", "amount": None, "items": []}, "items"),
        ({"kind": "in_kind", "amount": None, "items": [{"name": "口罩", "quantity": "0", "unit": "只"}]},
         "items[0].quantity"),
        ({"kind": "in_kind", "amount": None, "items": [{"name": "", "quantity": "1", "unit": "箱"}]}, "items[0].name"),
        ({"kind": "in_kind", "amount": None, "items": [{"name": "口罩", "quantity": "1", "unit": "箱",
                                                        "value_basis": "invoice"}]}, "items[0].unit_value"),
        ({"kind": "in_kind", "amount": "100", "items": [{"name": "口罩", "quantity": "1", "unit": "箱"}]}, "amount"),
        ({"channel_transaction_id": "x" * 65}, "channel_transaction_id"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(clerk, city, campaign, overrides, field):
    donor = PersonDonorFactory(branch=city)
    with pytest.raises(ValidationError) as excinfo:
        register(clerk, city, campaign, donor=donor, **overrides)
    assert field in excinfo.value.message_dict
    assert not Donation.objects.exists()


def test_a_refused_registration_does_not_burn_a_serial(clerk, city, campaign):
    with pytest.raises(ValidationError):
        register(clerk, city, campaign, amount="-1")
    assert register(clerk, city, campaign).serial.endswith("-000001")


def test_duplicate_channel_transaction_is_refused(clerk, city, campaign):
    register(clerk, city, campaign, channel="wechat", channel_transaction_id="4200000001")
    with pytest.raises(ValidationError) as excinfo:
        register(clerk, city, campaign, channel="wechat", channel_transaction_id="4200000001")
    assert "channel_transaction_id" in excinfo.value.message_dict


def test_directed_recipient_must_exist_and_be_visible(clerk, city, campaign, branch_tree):
    hospital = RecipientFactory(branch=city)
    donation = register(clerk, city, campaign, designated_recipient=hospital, wish="定向用于一线医护")
    assert donation.designated_recipient == hospital
    east_staff = StaffFactory(branch=branch_tree["east"], roles=["district_staff"])
    west_hospital = RecipientFactory(branch=branch_tree["west"])
    with pytest.raises(ValidationError) as excinfo:
        register(east_staff, branch_tree["east"], campaign, designated_recipient=west_hospital)
    assert "designated_recipient" in excinfo.value.message_dict


def test_district_staff_cannot_register_for_another_district(branch_tree, campaign):
    east_staff = StaffFactory(branch=branch_tree["east"], roles=["district_staff"])
    with pytest.raises(PermissionDenied):
        register(east_staff, branch_tree["west"], campaign)


# --- 双人双签 ------------------------------------------------------------------------


def test_the_registrar_cannot_confirm_their_own_cash(clerk, city, campaign):
    clerk_with_confirm = StaffFactory(branch=city, roles=["donation_clerk", "finance_reviewer"])
    donation = register(clerk_with_confirm, city, campaign)
    with pytest.raises(DualSignatureRequired, match="双人双签"):
        donation_confirm(donation=donation, by=clerk_with_confirm)
    donation.refresh_from_db()
    assert donation.status == DonationStatus.REGISTERED


def test_a_second_person_confirms_and_a_certificate_follows(clerk, reviewer, city, campaign):
    donation = register(clerk, city, campaign)
    confirmed = donation_confirm(donation=donation, by=reviewer)
    assert confirmed.status == DonationStatus.CONFIRMED
    assert confirmed.confirmed_by == reviewer
    assert Certificate.objects.filter(donation=donation).exists()
    with pytest.raises(ValidationError):
        donation_confirm(donation=donation, by=reviewer)  # not twice


def test_confirmation_needs_the_permission(clerk, city, campaign):
    other_clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    donation = register(clerk, city, campaign)
    with pytest.raises(PermissionDenied):
        donation_confirm(donation=donation, by=other_clerk)


# --- corrections ---------------------------------------------------------------------


def test_confirmed_donation_changes_only_through_a_recorded_correction(clerk, reviewer, city, campaign):
    donation = donation_confirm(donation=register(clerk, city, campaign, amount="1000.00"), by=reviewer)
    with pytest.raises(ValidationError) as excinfo:
        donation_correct(donation=donation, by=reviewer, reason=" ", changes={"amount": "100.00"})
    assert "reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        donation_correct(donation=donation, by=reviewer, reason="录入错误", changes={"status": "registered"})
    donation_correct(donation=donation, by=reviewer, reason="银行回单为 100 元", changes={"amount": "100.00"})
    donation.refresh_from_db()
    assert donation.amount == Decimal("100.00")
    correction = DonationCorrection.objects.get(donation=donation)
    assert correction.changes == {"amount": {"before": "1000.00", "after": "100.00"}}
    assert correction.corrected_by == reviewer
    with pytest.raises(PermissionDenied):
        donation_correct(donation=donation, by=clerk, reason="x", changes={"amount": "5"})


# --- campaigns --------------------------------------------------------------------------


def test_paused_campaign_refuses_and_folded_campaign_hands_over_to_regular_giving(clerk, city, campaign):
    campaign_set_status(campaign=campaign, status=CampaignStatus.PAUSED, by=clerk)
    with pytest.raises(ValidationError) as excinfo:
        register(clerk, city, campaign)
    assert "campaign" in excinfo.value.message_dict
    campaign_set_status(campaign=campaign, status=CampaignStatus.FOLDED, by=clerk)
    donation = register(clerk, city, campaign)
    assert donation.campaign.kind == CampaignKind.REGULAR
    assert donation.campaign == regular_campaign(city)
    with pytest.raises(ValidationError):
        campaign_set_status(campaign=campaign, status=CampaignStatus.OPEN, by=clerk)


def test_one_regular_campaign_per_branch(city):
    assert regular_campaign(city) == regular_campaign(city)


# --- donors -----------------------------------------------------------------------------------


def test_duplicate_donors_are_detected(clerk, city):
    donor_register(by=clerk, branch=city, kind="person", name="王小明", phone="13912345678")
    with pytest.raises(DuplicateDonor) as excinfo:
        donor_register(by=clerk, branch=city, kind="person", name="王小明", phone="139 1234 5678")
    assert excinfo.value.candidates
    donor_register(by=clerk, branch=city, kind="person", name="王小明", phone="13912345678", allow_duplicate=True)
    assert Donor.objects.count() == 2


def test_organisation_credit_code_is_unique_even_when_allowed(clerk, city):
    from stdnum.cn import uscc

    code = "91330100MA2H00001" + uscc.calc_check_digit("91330100MA2H00001")
    donor_register(by=clerk, branch=city, kind="organisation", name="澜州某某科技有限公司", credit_code=code)
    with pytest.raises(DuplicateDonor):
        donor_register(
            by=clerk, branch=city, kind="organisation", name="另一个名字", credit_code=code, allow_duplicate=True
        )


def test_person_id_number_is_encrypted_and_finds_duplicates(clerk, city):
    from stdnum.cn import ric

    body = "33010619900101123"
    id_number = body + ric.calc_check_digit(body + "0")
    donor = donor_register(by=clerk, branch=city, kind="person", name="赵喆", id_number=id_number)
    assert Donor.objects.get(pk=donor.pk).id_number == id_number
    assert not Donor.objects.filter(id_number_index=id_number).exists()
    with pytest.raises(DuplicateDonor):
        donor_register(by=clerk, branch=city, kind="person", name="赵喆", id_number=id_number.lower())


def test_public_names_follow_the_masking_rules(city):
    assert PersonDonorFactory(name="欧阳娜娜").public_name == "欧阳**"
    full_no_consent = PersonDonorFactory(name="张三", public_display=PublicDisplay.FULL)
    assert full_no_consent.public_name == "张*"  # no recorded consent: still masked
    consented = PersonDonorFactory(name="张三", public_display=PublicDisplay.FULL, full_name_consent_at=timezone.now())
    assert consented.public_name == "张三"
    assert PersonDonorFactory(name="李四", public_display=PublicDisplay.ANONYMOUS).public_name == "爱心人士"
    assert OrganisationDonorFactory(name="澜州电力有限公司").public_name == "澜州电力有限公司"
    assert OrganisationDonorFactory(public_display=PublicDisplay.ANONYMOUS).public_name == "爱心人士"


def test_full_name_for_a_person_needs_recorded_consent(clerk, city):
    with pytest.raises(ValidationError) as excinfo:
        donor_register(by=clerk, branch=city, kind="person", name="钱七", public_display="full")
    assert "full_name_consent_text" in excinfo.value.message_dict
    donor = donor_register(
        by=clerk,
        branch=city,
        kind="person",
        name="钱七",
        public_display="full",
        full_name_consent_text="本人签字同意公开",
    )
    assert donor.full_name_consent_at is not None
    assert donor.public_name == "钱七"

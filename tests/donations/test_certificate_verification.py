"""The donation certificate on the one verification mechanism (redcross.verification)."""

import pytest
from django.utils import timezone

from donations.models import Certificate
from donations.services.certificates import certificate_issue, certificate_verify_url
from redcross.verification import document_by_number_and_name, verification_url
from tests.donations.factories import DonationFactory, PersonDonorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(city, campaign, reviewer):
    donor = PersonDonorFactory(branch=city, name="张三", phone="13912345678")
    donation = DonationFactory(branch=city, donor=donor, campaign=campaign, serial="FX2026-000321", amount="88.00")
    donation.status, donation.confirmed_by, donation.confirmed_at = "confirmed", reviewer, timezone.now()
    donation.save()
    return certificate_issue(donation=donation)


def test_the_certificate_is_a_verifiable_document_of_its_donation(certificate):
    assert certificate.number == "FX2026-000321"
    assert certificate.holder_display_name == "张*"
    assert certificate.issued_on == timezone.localdate()
    assert certificate_verify_url(certificate) == verification_url(certificate)
    assert certificate_verify_url(certificate).endswith(f"/verify/{certificate.verification_code}/")


def test_the_new_and_the_old_address_give_the_same_page(client, certificate):
    new = client.get(f"/verify/{certificate.verification_code}/").content.decode()
    old = client.get(f"/donations/verify/{certificate.verification_code}/").content.decode()
    for page in (new, old):
        for fact in ("电子捐赠证书", "证书真实有效", "FX2026-000321", "张*", "88.00 元", "测试抗疫专项募捐"):
            assert fact in page, fact
        assert "13912345678" not in page and "张三" not in page


def test_found_by_serial_and_the_donors_full_name(client, certificate):
    assert document_by_number_and_name("FX2026-000321", "张三")[1] == certificate
    assert document_by_number_and_name("FX2026-000321", "张四") is None
    page = client.post("/verify/", {"number": "fx2026-000321", "name": "张三"}).content.decode()
    assert "证书真实有效" in page and "88.00 元" in page


def test_the_page_follows_the_donors_choice_to_stay_anonymous(client, certificate):
    donor = certificate.donation.donor
    donor.public_display = "anonymous"
    donor.save()
    page = client.get(f"/verify/{certificate.verification_code}/").content.decode()
    assert "爱心人士" in page and "张*" not in page


def test_a_certificate_of_a_donation_no_longer_public_is_not_found(client, certificate):
    donation = certificate.donation
    donation.status = "registered"
    donation.save()
    assert client.get(f"/verify/{certificate.verification_code}/").status_code == 404
    assert Certificate.objects.filter(pk=certificate.pk).exists()

"""Evidence files through the staff API: a donation's attachments, and the one file each of a plan,
an allocation, a recipient's sign-off and a stock-in. PDF, JPG or PNG by content, within the size
limit, set once; the wrong file, the wrong role or another branch gets a clear refusal and nothing
is stored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from donations.models import AllocationPlan, Attachment, RecipientConfirmation
from donations.services.allocations import allocation_plan_register
from tests.donations.factories import (
    AllocationRowFactory,
    DonationFactory,
    RecipientFactory,
    StockMovementRowFactory,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _stored_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_a_donation_takes_attachments_lists_them_and_serves_them_as_downloads(client, clerk, city):
    donation = DonationFactory(branch=city)
    client.force_login(clerk)
    url = f"/api/donations/{donation.pk}/attachments/"
    for name, content, kind in (
        ("捐赠函.pdf", PDF, "letter"),
        ("回单.png", PNG, "bank_slip"),
        ("发票.JPG", JPEG, "invoice"),
    ):
        response = client.post(url, {"kind": kind, "file": _upload(name, content)})
        assert response.status_code == 201, response.content
        assert response.json()["kind"] == kind and response.json()["size"] == len(content)
    listed = client.get(url).json()
    assert [row["kind"] for row in listed] == ["letter", "bank_slip", "invoice"]
    download = client.get(f"{url}{listed[0]['id']}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert client.get(f"{url}999999/").status_code == 404


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("letter.pdf", b"<html><script>alert(1)</script></html>"),  # a page dressed as a PDF
        ("letter.pdf", PNG),  # the content and the name disagree
        ("letter.html", PDF),
        ("macro.docm", b"PK\x03\x04" + b"\x00" * 32),
        ("run.exe", b"MZ" + b"\x00" * 32),
        ("no-extension", PDF),
        ("../../etc/passwd.pdf", b"root:x:0:0"),
    ],
)
def test_anything_but_a_pdf_jpg_or_png_is_refused_and_nothing_is_stored(client, clerk, city, name, content):
    donation = DonationFactory(branch=city)
    client.force_login(clerk)
    before = _stored_files()
    response = client.post(
        f"/api/donations/{donation.pk}/attachments/", {"kind": "letter", "file": _upload(name, content)}
    )
    assert response.status_code == 400 and "file" in response.json(), response.content
    assert not Attachment.objects.exists() and _stored_files() == before


def test_missing_empty_too_large_or_unknown_kind_is_a_400_naming_the_field(client, clerk, city, settings):
    settings.UPLOAD_MAX_MB = 1
    donation = DonationFactory(branch=city)
    client.force_login(clerk)
    url = f"/api/donations/{donation.pk}/attachments/"
    cases = [
        ({"kind": "letter"}, "file"),
        ({"kind": "letter", "file": _upload("empty.pdf", b"")}, "file"),
        ({"kind": "letter", "file": _upload("big.pdf", PDF + b"0" * (1024 * 1024))}, "file"),
        ({"kind": "<b>letter</b>", "file": _upload("a.pdf", PDF)}, "kind"),
        ({"file": _upload("a.pdf", PDF)}, "kind"),
    ]
    for data, field in cases:
        response = client.post(url, data)
        assert response.status_code == 400 and field in response.json(), (data, response.content)
    assert client.post(url, {"kind": "letter", "file": "not a file"}).status_code == 400
    assert client.post(url, {"kind": "letter"}, content_type="application/json").status_code == 415
    assert not Attachment.objects.exists()


def test_other_branches_and_roles_without_the_right_cannot_upload(client, branch_tree, city):
    donation = DonationFactory(branch=city)
    url = f"/api/donations/{donation.pk}/attachments/"
    client.force_login(StaffFactory(branch=branch_tree["east"], roles=["donation_clerk"]))
    assert client.post(url, {"kind": "letter", "file": _upload("a.pdf", PDF)}).status_code == 404
    client.force_login(StaffFactory(branch=city, roles=["supervisors"]))  # reads everything, changes nothing
    response = client.post(url, {"kind": "letter", "file": _upload("a.pdf", PDF)})
    assert response.status_code == 403
    assert not Attachment.objects.exists()


@pytest.fixture
def records(city, campaign, clerk):
    hospital = RecipientFactory(branch=city)
    plan = allocation_plan_register(
        by=clerk, branch=city, document_number="测防控指〔2026〕9号", title="分配方案", issuing_body="指挥部",
        issued_on=timezone.localdate() - timedelta(days=1),
        lines=[{"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "100.00"}],
    )  # fmt: skip
    allocation = AllocationRowFactory(branch=city, campaign=campaign, recipient=hospital)
    signed = RecipientConfirmation.objects.create(
        allocation=allocation, signed_by_name="王护士长", signed_at=timezone.now(), recorded_by=clerk
    )
    movement = StockMovementRowFactory(warehouse__branch=city)
    return {
        "allocation-plans": (plan, "attachment"),
        "allocations": (allocation, "voucher"),
        "recipient-confirmations": (signed, "scan"),
        "stock-movements": (movement, "photos"),
    }


@pytest.mark.parametrize("endpoint", ["allocation-plans", "allocations", "recipient-confirmations", "stock-movements"])
def test_a_records_one_evidence_file_is_set_once_and_downloaded(client, records, endpoint, city):
    record, field = records[endpoint]
    client.force_login(StaffFactory(branch=city, is_superuser=True))
    url = f"/api/{endpoint}/{record.pk}/{field}/"
    assert client.get(url).status_code == 404  # nothing yet
    assert client.post(url, {"file": _upload("x.html", b"<html>")}).status_code == 400
    response = client.post(url, {"file": _upload("签收单.pdf", PDF)})
    assert response.status_code == 200 and response.json()["field"] == field, response.content
    again = client.post(url, {"file": _upload("另一份.pdf", PDF)})
    assert again.status_code == 400 and "不能替换" in again.json()["file"][0]
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    record.refresh_from_db()
    assert getattr(record, field).name.endswith(".pdf")


def test_a_plan_document_needs_the_right_to_register_plans(client, records, city):
    plan, _field = records["allocation-plans"]
    client.force_login(StaffFactory(branch=city, roles=["warehouse_keeper"]))
    response = client.post(f"/api/allocation-plans/{plan.pk}/attachment/", {"file": _upload("a.pdf", PDF)})
    assert response.status_code == 403
    assert not AllocationPlan.objects.get().attachment


def test_a_long_or_odd_file_name_is_shortened_and_cleaned_not_refused(client, clerk, city):
    donation = DonationFactory(branch=city)
    client.force_login(clerk)
    name = "捐" * 150 + " <b>&;'\".pdf"
    response = client.post(f"/api/donations/{donation.pk}/attachments/", {"kind": "letter", "file": _upload(name, PDF)})
    assert response.status_code == 201, response.content
    stored = Attachment.objects.get().file.name
    assert len(stored) <= 100 and stored.endswith(".pdf") and "<" not in stored and ";" not in stored


def test_the_admin_lists_attachments_with_a_checked_download_never_a_media_url(client, clerk, branch_tree, city):
    from django.urls import reverse

    from donations.services.evidence import donation_attachment_add

    donation = DonationFactory(branch=city)
    attachment = donation_attachment_add(donation=donation, kind="letter", file=_upload("捐赠函.pdf", PDF), by=clerk)
    client.force_login(clerk)
    page = client.get(reverse("admin:donations_donation_change", args=[donation.pk])).content.decode()
    link = reverse("admin:donations_attachment_file", args=[donation.pk, attachment.pk])
    assert link in page and "/media/" not in page
    download = client.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    other = DonationFactory(branch=city)
    assert client.get(reverse("admin:donations_attachment_file", args=[other.pk, attachment.pk])).status_code == 404
    client.force_login(StaffFactory(branch=branch_tree["east"], roles=["donation_clerk"]))
    assert client.get(link).status_code == 404  # another branch's donation

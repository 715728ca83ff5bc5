"""A consistent admin: read-only values are shown formatted, never as raw JSON, tokens or storage
paths; money with thousands separators and 元; every column and read-only field has a readable
title; PDFs through the branch-checked download views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.core.files.base import ContentFile
from django.db import models
from django.test import RequestFactory
from django.utils import timezone

from donations.admin.base import ReadOnlyInline
from donations.models import Certificate, Donation, DonationCorrection, PdfStatus
from donations.services.intake import donation_confirm, donation_register
from donations.services.receipts import receipt_issue
from redcross.masking import mask_id_number
from redcross.models import User
from tests.donations.factories import OrganisationDonorFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"donations", "reports", "redcross"}
SECRET_NAMES = {"token", "lookup_token", "id_number", "id_number_index"}  # shown masked, if at all


def _project_admins():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in PROJECT_APPS:
            yield model, model_admin


def _shown_names(model_admin, request) -> set[str]:
    names: set = set()
    fieldsets = model_admin.fieldsets or ()
    if hasattr(model_admin, "get_fieldsets") and not model_admin.fieldsets and model_admin.fields:
        fieldsets = [(None, {"fields": model_admin.fields})]
    for _name, options in fieldsets:
        for entry in options["fields"]:
            names.update(entry if isinstance(entry, list | tuple) else [entry])
    names.update(model_admin.get_readonly_fields(request, None))
    names.update(name for name in model_admin.list_display if isinstance(name, str))
    return names - {"__str__"}


@pytest.fixture
def superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = User(username="root", is_superuser=True, is_staff=True, is_active=True)
    return request


def test_no_admin_shows_a_json_field_a_file_path_or_a_token(superuser_request):
    """A JSON field, a FileField (its /media/ path answers 404) or a token shown read-only as it is
    stored is a bug: show a formatted display method, or a link to a checked download view. (An
    upload input for a new file is a form field, not a shown value.)"""
    for model, model_admin in _project_admins():
        read_only = set(model_admin.get_readonly_fields(superuser_request, None))
        if not model_admin.has_change_permission(superuser_request):
            read_only |= _shown_names(model_admin, superuser_request)
        checks = [(model, name) for name in read_only]
        for inline in model_admin.inlines:
            names = set(inline.readonly_fields)
            if issubclass(inline, ReadOnlyInline):
                names |= set(inline.fields or ())
            checks += [(inline.model, name) for name in names]
        for target, name in checks:
            try:
                field = target._meta.get_field(name)
            except FieldDoesNotExist:  # a display method: its title is checked below
                continue
            where = f"{model.__name__} admin: {target.__name__}.{name}"
            assert not isinstance(field, models.JSONField | models.FileField), where
            assert name not in SECRET_NAMES, where


def test_every_display_method_has_a_readable_title(superuser_request):
    """No "NUMBER DISPLAY": a column or read-only field made by a method is titled in the domain's words."""
    for model, model_admin in _project_admins():
        owners = [(model_admin, _shown_names(model_admin, superuser_request))]
        owners += [(inline, set(inline.fields or ()) | set(inline.readonly_fields)) for inline in model_admin.inlines]
        for owner, names in owners:
            for name in names:
                method = getattr(owner, name, None)
                if callable(method) and not hasattr(model, name):
                    assert getattr(method, "short_description", None), f"{type(owner).__name__}.{name}"


@pytest.fixture
def issued(clerk, reviewer, city, campaign):
    """A confirmed cash gift with a refund and a correction, its receipt and certificate with PDFs."""
    donation = donation_register(
        by=clerk,
        branch=city,
        donor=OrganisationDonorFactory(branch=city, name="澜州镕喆科技有限公司"),
        campaign=campaign,
        kind="cash",
        channel="bank",
        received_at=timezone.now() - timedelta(hours=1),
        amount="12345.67",
    )
    donation = donation_confirm(donation=donation, by=reviewer)
    receipt = receipt_issue(donation=donation, by=reviewer)
    Donation.objects.filter(pk=donation.pk).update(
        refunded_amount="1000.00",
        refunds=[{"id": "RF-778899", "amount": "1000.00", "refunded_at": timezone.now().isoformat(), "source": "bank"}],
    )
    DonationCorrection.objects.create(
        donation=donation,
        reason="渠道更正",
        changes={
            "channel": {"before": "bank", "after": "wechat"},
            "amount": {"before": "12345.67", "after": "12345.67"},
        },
        corrected_by=reviewer,
    )
    receipt.pdf.save(receipt.pdf_filename(), ContentFile(b"%PDF-1.4 receipt"), save=False)
    receipt.pdf_status = PdfStatus.READY
    receipt.save(update_fields=["pdf", "pdf_status"])
    certificate, _ = Certificate.objects.get_or_create(donation=donation)
    certificate.pdf.save(certificate.pdf_filename(), ContentFile(b"%PDF-1.4 certificate"), save=False)
    certificate.pdf_status = PdfStatus.READY
    certificate.save(update_fields=["pdf", "pdf_status"])
    donation.refresh_from_db()
    return donation, receipt, certificate


def _assert_nothing_raw(html: str, *secrets: str) -> None:
    assert "/media/" not in html
    for raw in ('"item_code"', '"before"', '"refunded_at"', "[{", '{"'):
        assert raw not in html, raw
    for secret in secrets:
        assert secret not in html


def test_receipt_donation_and_certificate_pages_show_formatted_values(client, city, issued):
    donation, receipt, certificate = issued
    client.force_login(StaffFactory(branch=city, is_superuser=True))

    html = client.get(f"/admin/donations/receipt/{receipt.pk}/change/").content.decode()
    _assert_nothing_raw(html, receipt.token, donation.lookup_token)
    assert "12,345.67 元" in html and "壹万贰仟叁佰肆拾伍元陆角柒分" in html
    assert f'href="/admin/donations/receipt/{receipt.pk}/pdf/">下载 PDF</a>' in html
    assert b"".join(client.get(f"/admin/donations/receipt/{receipt.pk}/pdf/").streaming_content).startswith(b"%PDF")

    html = client.get(f"/admin/donations/donation/{donation.pk}/change/").content.decode()
    _assert_nothing_raw(html, donation.lookup_token, receipt.token)
    assert "RF-778899" in html and "1,000.00 元" in html  # the refund, as a line
    assert "更正前" in html and "微信支付" in html  # the correction, by label and choice name
    assert "12,345.67 元" in html

    html = client.get(f"/admin/donations/certificate/{certificate.pk}/change/").content.decode()
    _assert_nothing_raw(html, donation.lookup_token)
    assert f'href="/admin/donations/certificate/{certificate.pk}/pdf/">下载 PDF</a>' in html
    assert b"".join(client.get(f"/admin/donations/certificate/{certificate.pk}/pdf/").streaming_content).startswith(
        b"%PDF"
    )

    html = client.get("/admin/donations/receipt/").content.decode()
    assert "12,345.67 元" in html and 'class="field-total_display"' in html


def test_certificate_pdf_is_branch_checked(client, branch_tree, issued):
    _donation, _receipt, certificate = issued
    client.force_login(StaffFactory(branch=branch_tree["east"], roles=["finance_reviewer"]))
    assert client.get(f"/admin/donations/certificate/{certificate.pk}/pdf/").status_code == 404


def test_a_donors_id_number_is_never_sent_to_the_browser(client, city):
    from tests.donations.factories import PersonDonorFactory

    donor = PersonDonorFactory(branch=city, name="王喆", id_number="110101199003077777")
    client.force_login(StaffFactory(branch=city, is_superuser=True))
    html = client.get(f"/admin/donations/donor/{donor.pk}/change/").content.decode()
    assert "110101199003077777" not in html
    assert mask_id_number("110101199003077777") in html
    # saving the page with the number left blank keeps it
    from donations.forms.intake import DonorAdminForm

    data = {key: value for key, value in DonorAdminForm(instance=donor).initial.items() if value is not None}
    data.update({"branch": city.pk, "id_number": "", "_save": "1"})
    response = client.post(f"/admin/donations/donor/{donor.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    donor.refresh_from_db()
    assert donor.id_number == "110101199003077777"

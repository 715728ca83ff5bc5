"""Certificates (电子捐赠证书): one per confirmed donation, publicly verifiable."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from donations.models import Certificate, Donation, PdfStatus


@transaction.atomic
def certificate_issue(*, donation: Donation) -> Certificate:
    """Create the certificate (idempotent) and render its PDF after commit."""
    certificate, created = Certificate.objects.get_or_create(donation=donation)
    if created:
        from donations.tasks import certificate_render_pdf_task

        certificate_render_pdf_task.delay_on_commit(certificate.pk)
    return certificate


def certificate_verify_url(certificate: Certificate) -> str:
    return f"{settings.PUBLIC_BASE_URL}/donations/verify/{certificate.verification_code}/"


def certificate_render_pdf(*, certificate_id: int) -> Certificate:
    from donations.selectors import donation_public_facts
    from redcross.pdf import qr_code_data_uri, render_pdf

    certificate = Certificate.objects.select_related("donation__donor", "donation__campaign", "donation__branch").get(
        pk=certificate_id
    )
    if certificate.pdf_status == PdfStatus.READY and certificate.pdf:
        return certificate
    url = certificate_verify_url(certificate)
    content = render_pdf(
        "pdf/certificate.html",
        {
            "certificate": certificate,
            "facts": donation_public_facts(certificate.donation),
            "branch_name": certificate.donation.branch.name,
            "qr": qr_code_data_uri(url),
            "verify_url": url,
        },
    )
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.pdf_status == PdfStatus.READY and locked.pdf:
            return locked
        locked.pdf.save(f"{locked.verification_code}.pdf", ContentFile(content), save=False)
        Certificate.objects.filter(pk=locked.pk).update(pdf=locked.pdf.name, pdf_status=PdfStatus.READY)
        locked.pdf_status = PdfStatus.READY
    return locked

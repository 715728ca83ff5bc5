"""Certificates (电子捐赠证书): one per confirmed donation, publicly verifiable."""

from __future__ import annotations

from django.db import transaction

from donations.models import Certificate, Donation
from redcross.documents import document_pdf_request, document_render_pdf
from redcross.verification import verification_url


@transaction.atomic
def certificate_issue(*, donation: Donation) -> Certificate:
    """Create the certificate (idempotent) and render its PDF after commit."""
    certificate, created = Certificate.objects.get_or_create(donation=donation)
    if created:
        document_pdf_request(document=certificate)
    return certificate


def certificate_verify_url(certificate: Certificate) -> str:
    """What the certificate's QR code opens: the one verification page (``/verify/<code>/``)."""
    return verification_url(certificate)


def certificate_pdf_bytes(certificate: Certificate) -> bytes:
    """The certificate's PDF; stores nothing."""
    from donations.selectors import donation_public_facts
    from redcross.pdf import qr_code_data_uri, render_pdf

    url = certificate_verify_url(certificate)
    return render_pdf(
        "pdf/certificate.html",
        {
            "certificate": certificate,
            "facts": donation_public_facts(certificate.donation),
            "branch_name": certificate.donation.branch.name,
            "qr": qr_code_data_uri(url),
            "verify_url": url,
        },
    )


def certificate_render_pdf(*, certificate_id: int) -> Certificate:
    """Render and store the PDF; idempotent (a certificate that has its PDF is left alone)."""
    return document_render_pdf(
        model=Certificate,
        pk=certificate_id,
        render=certificate_pdf_bytes,
        related=("donation__donor", "donation__campaign", "donation__branch"),
    )

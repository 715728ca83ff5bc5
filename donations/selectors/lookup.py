"""Reads behind the donor's self-service pages: find a donation by what the donor holds.

Only confirmed donations are found; every miss is the same ``None``, whatever the reason, so
the pages built on these tell nothing about which serials, tokens or codes exist.
"""

from __future__ import annotations

import hmac
import re

from django.db.models import QuerySet

from donations.models import Certificate, Donation, Receipt, ReceiptStatus
from donations.selectors import donation_public_facts
from redcross.validators import fold_full_width

_SERIAL_RE = re.compile(r"[A-Z0-9-]{1,30}", flags=re.ASCII)
_MAX_TOKEN_LENGTH = 64  # Donation.lookup_token's max_length


def donation_by_serial_and_phone(*, serial: str, phone_last4: str) -> Donation | None:
    """The public donation with this serial whose donor's phone ends in ``phone_last4``; else None."""
    donation = None
    if _SERIAL_RE.fullmatch(serial):
        donation = Donation.objects.public().filter(serial=serial).select_related("donor").first()
    # compared even when there is nothing to compare with, so both cases take about the same time;
    # a donor without a phone on record ("") never matches four digits
    on_record = fold_full_width(donation.donor.phone_last4) if donation is not None else ""
    matches = hmac.compare_digest(on_record.encode(), phone_last4.encode())
    if donation is None or len(on_record) != 4 or not matches:
        return None
    return donation


def donation_by_token(token: str, *, for_page: bool = False) -> Donation | None:
    """The public donation whose private link carries ``token``; with what its page shows when ``for_page``."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    queryset = Donation.objects.public().filter(lookup_token=token)
    if for_page:
        queryset = queryset.select_related(
            "donor", "campaign", "branch", "designated_recipient", "certificate"
        ).prefetch_related("items")
    return queryset.first()


def valid_receipt(donation: Donation) -> Receipt | None:
    """The donation's valid receipt (at most one); none once it is reversed, until the reissue."""
    return donation.receipts.filter(status=ReceiptStatus.VALID).first()


def donation_certificate(donation: Donation) -> Certificate | None:
    return Certificate.objects.filter(donation=donation).first()


def public_certificates() -> QuerySet[Certificate]:
    """The certificates anyone may verify: those of public (confirmed) donations, with what their
    verification page shows (registered with ``redcross.verification`` in ``DonationsConfig.ready``)."""
    return (
        Certificate.objects.filter(donation__in=Donation.objects.public())
        .select_related("donation__donor", "donation__campaign", "donation__branch", "donation__designated_recipient")
        .prefetch_related("donation__items")
    )


def certificate_verification_context(certificate: Certificate) -> dict:
    """The donation's public facts, shown under the certificate's key facts."""
    return {"certificate": certificate, "facts": donation_public_facts(certificate.donation)}


def receipt_by_codes(*, invoice_code: str, number: str, check_code: str) -> Receipt | None:
    """The receipt with this 票据代码, number and 校验码 (valid or reversed); else None."""
    if not (0 < len(invoice_code) <= 20 and 0 < len(number) <= 10 and number.isascii() and number.isdigit()):
        return None
    given = fold_full_width(check_code).strip().upper().encode()
    candidates = Receipt.objects.filter(invoice_code=invoice_code, number=int(number)).select_related("donation__donor")
    for receipt in candidates:
        if hmac.compare_digest(receipt.check_code.upper().encode(), given):
            return receipt
    return None

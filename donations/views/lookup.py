"""Public donor self-service and verification pages (no login).

* ``lookup``: serial + last four digits of the phone on record -> the donation's token page.
* ``donation`` and its PDFs: the token page (the link the donor keeps).
* ``certificate_verify`` / ``receipt_verify``: what the QR codes on certificates and receipts open
  (the certificate's through the one verification page of ``redcross.verification``).

Only confirmed donations are public. Every "not found" is one answer, whatever the
reason (unknown serial, wrong digits, no phone on record, not yet confirmed), so the
pages tell nothing about which serials exist. Lookups, and requests for unknown
tokens or codes, count against one per-client limit; a valid link can be opened any
number of times. Nothing personal is logged: not the IP, serial, digits or token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from donations.models import Certificate, Donation, Receipt, ReceiptStatus
from donations.selectors import donation_public_facts
from donations.selectors.lookup import (
    donation_by_serial_and_phone,
    donation_by_token,
    donation_certificate,
    receipt_by_codes,
    valid_receipt,
)
from donations.selectors.trace import donation_trace
from redcross.public_forms import PublicLookupView
from redcross.ratelimit import RateLimiter, private_page
from redcross.validators import fold_full_width
from redcross.verification_views import document_verify_response

logger = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = _("未找到匹配的捐赠，请核对流水号和手机号后四位")

_DIGITS4_RE = re.compile(r"[0-9]{4}", flags=re.ASCII)

# lookups, and requests for unknown tokens or codes, count against one per-client limit
LOOKUP_LIMITER = RateLimiter(
    scope="donation-lookup",
    template="donations/rate_limited.html",
    limit_setting="DONATION_LOOKUP_LIMIT",
    window_setting="DONATION_LOOKUP_WINDOW_SECONDS",
)


def _not_found(request: HttpRequest, template: str, context: dict | None = None) -> HttpResponse:
    return render(request, template, {"not_found": True, **(context or {})}, status=404)


def _unknown(request: HttpRequest, template: str, context: dict | None = None) -> HttpResponse:
    """An unknown token or code: counts as a guess; the not-found page, or the refusal when over."""
    return LOOKUP_LIMITER.refused_attempt(request) or _not_found(request, template, context)


# --- lookup ----------------------------------------------------------------------------


class LookupForm(forms.Form):
    serial = forms.CharField(label=_("捐赠流水号"))
    phone_last4 = forms.CharField(label=_("预留手机号后四位"))

    def clean_serial(self) -> str:
        # any text is accepted: one that cannot be a serial simply finds nothing
        return fold_full_width(self.cleaned_data["serial"]).strip().upper()

    def clean_phone_last4(self) -> str:
        digits = fold_full_width(self.cleaned_data["phone_last4"]).strip()
        if not _DIGITS4_RE.fullmatch(digits):
            raise ValidationError(_("请输入 4 位数字"), code="invalid")
        return digits


class DonationLookupView(PublicLookupView):
    """Serial + phone digits (the kernel's ``PublicLookupView``); a hit leads to the token page."""

    form_class = LookupForm
    template_name = "donations/lookup.html"
    limiter = LOOKUP_LIMITER
    not_found_message = NOT_FOUND_MESSAGE
    noindex = False

    def find(self, cleaned_data: dict) -> Donation | None:
        return donation_by_serial_and_phone(serial=cleaned_data["serial"], phone_last4=cleaned_data["phone_last4"])

    def found(self, request: HttpRequest, donation: Donation) -> HttpResponse:
        return redirect("donations:donation", token=donation.lookup_token)


lookup = DonationLookupView.as_view()


# --- the token page and its PDFs -------------------------------------------------------


def _pdf_ready(document: Receipt | Certificate | None) -> bool:
    return document is not None and document.pdf_ready


@require_safe
@private_page(noindex=True)
def donation(request: HttpRequest, token: str) -> HttpResponse:
    if LOOKUP_LIMITER.is_blocked(request):
        return LOOKUP_LIMITER.refusal(request)
    found = donation_by_token(token, for_page=True)
    if found is None:
        return _unknown(request, "donations/donation.html")
    certificate = getattr(found, "certificate", None)
    receipt = valid_receipt(found)
    context = {
        "donation": found,
        "facts": donation_public_facts(found),
        "trace": donation_trace(found),
        "certificate": certificate,
        "certificate_ready": _pdf_ready(certificate),
        "receipt": receipt,
        "receipt_ready": _pdf_ready(receipt),
        "wants_receipt": found.donor.wants_receipt,
    }
    return render(request, "donations/donation.html", context)


def _file_response(field: FieldFile, filename: str) -> FileResponse | None:
    try:
        handle = field.open("rb")
    except OSError:
        return None
    return FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")


def _pdf_view(request: HttpRequest, token: str, find_document: Callable[[Donation], Receipt | Certificate | None]):
    if LOOKUP_LIMITER.is_blocked(request):
        return LOOKUP_LIMITER.refusal(request)
    found = donation_by_token(token)
    if found is None:
        return _unknown(request, "donations/donation.html")
    document = find_document(found)
    if not _pdf_ready(document):
        return _not_found(request, "donations/donation.html", {"missing_file": True})
    if isinstance(document, Receipt):
        filename = f"receipt-{document.invoice_code}-{document.number_display}.pdf"
    else:
        filename = f"certificate-{document.verification_code}.pdf"
    response = _file_response(document.pdf, filename)
    if response is None:
        logger.warning("stored PDF missing for %s %s", document.__class__.__name__, document.pk)
        return _not_found(request, "donations/donation.html", {"missing_file": True})
    return response


@require_safe
@private_page(noindex=True)
def receipt_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The donation's valid receipt; none once it is reversed (until the replacement's PDF is ready)."""
    return _pdf_view(request, token, valid_receipt)


@require_safe
@private_page(noindex=True)
def certificate_pdf(request: HttpRequest, token: str) -> HttpResponse:
    return _pdf_view(request, token, donation_certificate)


# --- verification pages (QR codes) ----------------------------------------------------


@require_safe
@private_page(noindex=True)
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    """The address printed on certificates issued before the one verification page
    (``/verify/<code>/``): the same answer, counted against the donor lookups' limit as before."""
    return document_verify_response(request, code, limiter=LOOKUP_LIMITER, kinds=(Certificate,))


@require_safe
@private_page(noindex=True)
def receipt_verify(request: HttpRequest, invoice_code: str, number: str, check_code: str) -> HttpResponse:
    """Whether a receipt with this code, number and 校验码 exists, and whether it is valid or reversed."""
    if LOOKUP_LIMITER.is_blocked(request):
        return LOOKUP_LIMITER.refusal(request)
    receipt = receipt_by_codes(invoice_code=invoice_code, number=number, check_code=check_code)
    if receipt is None:
        return _unknown(request, "donations/receipt_verify.html")
    context = {
        "receipt": receipt,
        "payer_name": receipt.donation.donor.public_name,
        "is_valid": receipt.status == ReceiptStatus.VALID,
    }
    return render(request, "donations/receipt_verify.html", context)

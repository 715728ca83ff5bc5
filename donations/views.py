"""Public donor self-service and verification pages (no login).

* ``lookup``: serial + last four digits of the phone on record -> the donation's token page.
* ``donation`` and its PDFs: the token page (the link the donor keeps).
* ``certificate_verify`` / ``receipt_verify``: what the QR codes on certificates and receipts open.

Only confirmed donations are public. Every "not found" is one answer, whatever the
reason (unknown serial, wrong digits, no phone on record, not yet confirmed), so the
pages tell nothing about which serials exist. Lookups, and requests for unknown
tokens or codes, count against one per-client limit; a valid link can be opened any
number of times. Nothing personal is logged: not the IP, serial, digits or token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from functools import wraps

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from donations.models import Certificate, Donation, DonationStatus, PdfStatus, Receipt, ReceiptStatus
from donations.selectors import donation_public_facts
from donations.selectors.trace import donation_trace
from redcross.validators import fold_full_width

logger = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = _("未找到匹配的捐赠，请核对流水号和手机号后四位")

_SERIAL_RE = re.compile(r"[A-Z0-9-]{1,30}", flags=re.ASCII)
_DIGITS4_RE = re.compile(r"[0-9]{4}", flags=re.ASCII)
_MAX_TOKEN_LENGTH = 64  # Donation.lookup_token's max_length


# --- responses -------------------------------------------------------------------------


def _private(*, noindex: bool) -> Callable:
    """Responses that carry a donor's link or facts: never stored by a cache; not indexed."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_store=True)
            if response.status_code >= 400:
                # Django's request logger would write "Not Found: <path>", and the path carries
                # the donor's token or a verification code; these answers are expected, not errors
                response._has_been_logged = True
            if noindex:
                response.headers["X-Robots-Tag"] = "noindex"
            return response

        return wrapped

    return decorator


def _not_found(request: HttpRequest, template: str, context: dict | None = None) -> HttpResponse:
    return render(request, template, {"not_found": True, **(context or {})}, status=404)


# --- per-client rate limit -------------------------------------------------------------


class _LimiterUnavailable(Exception):
    pass


def _limit() -> int:
    return getattr(settings, "DONATION_LOOKUP_LIMIT", 10)


def _window() -> int:
    return getattr(settings, "DONATION_LOOKUP_WINDOW_SECONDS", 3600)


def _bucket(request: HttpRequest) -> tuple[str, int, int]:
    """Cache key of the client's counter in the current fixed window, the window, the seconds left in it.

    The IP is stored only as a keyed hash (an unkeyed hash of an IPv4 address is
    trivially reversed). REMOTE_ADDR only: behind a proxy every client shares the
    proxy's address, which is strict, not lax.
    """
    window = max(int(_window()), 1)
    now = int(time.time())
    address = request.META.get("REMOTE_ADDR", "")
    digest = hmac.new(settings.SECRET_KEY.encode(), f"donation-lookup|{address}".encode(), hashlib.sha256)
    return f"donations:lookup-rate:{digest.hexdigest()[:32]}:{now // window}", window, window - now % window


def _count_attempt(request: HttpRequest) -> bool:
    """Count one attempt (a lookup, or an unknown token or code); True when over the limit.

    Raises ``_LimiterUnavailable`` when the counter cannot be kept (ResilientRedisCache
    lets ``incr`` raise when Redis is down).
    """
    key, window, _left = _bucket(request)
    try:
        cache.add(key, 0, window)
        count = cache.incr(key)
        # Redis keeps the expiry on INCR; the file and database caches re-set the entry with
        # their default timeout, which would end the window early. The key names the window,
        # so refreshing the expiry never stretches a window.
        cache.touch(key, window)
    except Exception as exc:
        logger.warning("donation lookup rate limiter unavailable: %s", exc.__class__.__name__)
        raise _LimiterUnavailable from exc
    return count > _limit()


def _is_blocked(request: HttpRequest) -> bool:
    """Whether the client was already refused in this window (read only, counts nothing).

    Checked before a token or code is looked up, so that a throttled client gets the
    same refusal for valid and invalid ones (otherwise the refusal itself would tell
    which guess was right). "Over", not "at", the limit: a donor whose last allowed
    lookup succeeded must still be able to open the page it redirects to. A cache that
    cannot answer blocks no one here: valid links keep working while Redis is down, and
    an unknown token then fails closed in ``_count_attempt``.
    """
    key, _window_seconds, _left = _bucket(request)
    try:
        count = cache.get(key)
    except Exception:
        return False
    return isinstance(count, int) and count > _limit()


def _refusal(request: HttpRequest, *, unavailable: bool = False) -> HttpResponse:
    if unavailable:
        # Fail closed: without a working counter, lookups would be unthrottled and the
        # four digits guessable. Failing open would serve an attacker; failing closed only
        # delays honest donors, who are told so (and whose saved links keep working).
        response = render(request, "donations/rate_limited.html", {"unavailable": True}, status=503)
        response.headers["Retry-After"] = "300"
        return response
    _key, _window_seconds, left = _bucket(request)
    response = render(request, "donations/rate_limited.html", {"unavailable": False}, status=429)
    response.headers["Retry-After"] = str(left)
    return response


def _refused_attempt(request: HttpRequest) -> HttpResponse | None:
    """Count one guess; the refusal page when the client is over its limit or the limiter is down."""
    try:
        over = _count_attempt(request)
    except _LimiterUnavailable:
        return _refusal(request, unavailable=True)
    return _refusal(request) if over else None


def _unknown(request: HttpRequest, template: str, context: dict | None = None) -> HttpResponse:
    """An unknown token or code: counts as a guess; the not-found page, or the refusal when over."""
    return _refused_attempt(request) or _not_found(request, template, context)


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


def _find_by_serial(serial: str, last4: str) -> Donation | None:
    """The confirmed donation with this serial whose donor's phone ends in ``last4``; else None."""
    donation = None
    if _SERIAL_RE.fullmatch(serial):
        donation = (
            Donation.objects.filter(serial=serial, status=DonationStatus.CONFIRMED).select_related("donor").first()
        )
    # compared even when there is nothing to compare with, so both cases take about the same time;
    # a donor without a phone on record ("") never matches four digits
    on_record = fold_full_width(donation.donor.phone_last4) if donation is not None else ""
    matches = hmac.compare_digest(on_record.encode(), last4.encode())
    if donation is None or len(on_record) != 4 or not matches:
        return None
    return donation


@require_http_methods(["GET", "HEAD", "POST"])
@_private(noindex=False)
def lookup(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "donations/lookup.html", {"form": LookupForm()})
    refused = _refused_attempt(request)
    if refused is not None:
        return refused
    form = LookupForm(request.POST)
    if form.is_valid():
        donation = _find_by_serial(form.cleaned_data["serial"], form.cleaned_data["phone_last4"])
        if donation is not None:
            return redirect("donations:donation", token=donation.lookup_token)
        form.add_error(None, NOT_FOUND_MESSAGE)
    return render(request, "donations/lookup.html", {"form": form})


# --- the token page and its PDFs -------------------------------------------------------


def _donation_for_token(token: str, *, for_page: bool = False) -> Donation | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    queryset = Donation.objects.filter(lookup_token=token, status=DonationStatus.CONFIRMED)
    if for_page:
        queryset = queryset.select_related(
            "donor", "campaign", "branch", "designated_recipient", "certificate"
        ).prefetch_related("items")
    return queryset.first()


def _pdf_ready(document: Receipt | Certificate | None) -> bool:
    return document is not None and document.pdf_status == PdfStatus.READY and bool(document.pdf)


@require_safe
@_private(noindex=True)
def donation(request: HttpRequest, token: str) -> HttpResponse:
    if _is_blocked(request):
        return _refusal(request)
    found = _donation_for_token(token, for_page=True)
    if found is None:
        return _unknown(request, "donations/donation.html")
    certificate = getattr(found, "certificate", None)
    receipt = found.receipts.filter(status=ReceiptStatus.VALID).first()
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
    if _is_blocked(request):
        return _refusal(request)
    found = _donation_for_token(token)
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
@_private(noindex=True)
def receipt_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The donation's valid receipt; none once it is reversed (until the replacement's PDF is ready)."""
    return _pdf_view(request, token, lambda d: d.receipts.filter(status=ReceiptStatus.VALID).first())


@require_safe
@_private(noindex=True)
def certificate_pdf(request: HttpRequest, token: str) -> HttpResponse:
    return _pdf_view(request, token, lambda d: Certificate.objects.filter(donation=d).first())


# --- verification pages (QR codes) ----------------------------------------------------


@require_safe
@_private(noindex=True)
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    if _is_blocked(request):
        return _refusal(request)
    code = fold_full_width(code).strip().upper()
    certificate = None
    if 0 < len(code) <= 16:
        certificate = (
            Certificate.objects.filter(verification_code=code, donation__status=DonationStatus.CONFIRMED)
            .select_related(
                "donation__donor", "donation__campaign", "donation__branch", "donation__designated_recipient"
            )
            .prefetch_related("donation__items")
            .first()
        )
    if certificate is None:
        return _unknown(request, "donations/certificate_verify.html")
    context = {"certificate": certificate, "facts": donation_public_facts(certificate.donation)}
    return render(request, "donations/certificate_verify.html", context)


def _find_receipt(invoice_code: str, number: str, check_code: str) -> Receipt | None:
    if not (0 < len(invoice_code) <= 20 and 0 < len(number) <= 10 and number.isascii() and number.isdigit()):
        return None
    given = fold_full_width(check_code).strip().upper().encode()
    candidates = Receipt.objects.filter(invoice_code=invoice_code, number=int(number)).select_related("donation__donor")
    for receipt in candidates:
        if hmac.compare_digest(receipt.check_code.upper().encode(), given):
            return receipt
    return None


@require_safe
@_private(noindex=True)
def receipt_verify(request: HttpRequest, invoice_code: str, number: str, check_code: str) -> HttpResponse:
    """Whether a receipt with this code, number and 校验码 exists, and whether it is valid or reversed."""
    if _is_blocked(request):
        return _refusal(request)
    receipt = _find_receipt(invoice_code, number, check_code)
    if receipt is None:
        return _unknown(request, "donations/receipt_verify.html")
    context = {
        "receipt": receipt,
        "payer_name": receipt.donation.donor.public_name,
        "is_valid": receipt.status == ReceiptStatus.VALID,
    }
    return render(request, "donations/receipt_verify.html", context)

"""Receipts (公益事业捐赠统一票据): issue, red reversal (冲红), reissue, PDF, numbering report."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import (
    VALUE_EVIDENCE,
    Donation,
    DonationKind,
    DonationStatus,
    Receipt,
    ReceiptCode,
    ReceiptReversal,
    ReceiptStatus,
)
from redcross.audit import audit_context
from redcross.documents import document_pdf_request, document_render_pdf
from redcross.models import Branch
from redcross.money import capital_yuan, format_yuan
from redcross.numbering import sequence_current, sequence_lock, sequence_next
from redcross.scoping import ensure_branch_access

CASH_ITEM_CODE = "0101"  # 货币性捐赠
GOODS_ITEM_CODE = "0201"  # 非货币性捐赠


def _person_name(user) -> str:
    if user is None:
        return ""
    return (f"{user.last_name}{user.first_name}".strip() or user.get_username())[:60]


def _check_code(branch_code: str, year: int, number: int, total: Decimal | None) -> str:
    """校验码: a keyed hash of the receipt's identity and amount, so a forged copy does not verify."""
    message = f"{branch_code}|{year}|{number}|{total if total is not None else '-'}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:8].upper()


def _lines(donation: Donation) -> tuple[list[dict[str, str]], Decimal | None, str]:
    """Frozen receipt lines: code, name, unit, quantity, standard (unit value), amount."""
    if donation.kind == DonationKind.CASH:
        line = {
            "item_code": CASH_ITEM_CODE,
            "item_name": _("货币性捐赠（%(campaign)s）") % {"campaign": donation.campaign.name},
            "unit": "",
            "quantity": "",
            "standard": "",
            "amount": format_yuan(donation.amount),
        }
        return [line], donation.amount, ""
    lines, total, unvalued = [], Decimal("0.00"), False
    for item in donation.items.all():
        # goods without evidence of value get quantities and no amount (MoF rules)
        valued = item.value_basis in VALUE_EVIDENCE and item.value is not None
        unvalued |= not valued
        if valued:
            total += item.value
        lines.append(
            {
                "item_code": GOODS_ITEM_CODE,
                "item_name": f"{item.name} {item.specification}".strip(),
                "unit": item.unit,
                "quantity": f"{item.quantity.normalize():f}",
                "standard": format_yuan(item.unit_value) if valued else "",
                "amount": format_yuan(item.value) if valued else "",
            }
        )
    remark = _("无价值凭证的物资仅列数量") if unvalued else ""
    if all(not line["amount"] for line in lines):
        return lines, None, remark
    return lines, total, remark


def _ensure_issuer(by, branch_id: int) -> None:
    ensure_branch_access(by, branch_id)
    if not by.has_perm("donations.issue_receipt"):
        raise PermissionDenied(_("您没有开具捐赠票据的权限"))


def receipt_number_scope(branch: Branch, year: int) -> str:
    """The numbering scope of a branch's receipts in a year (``redcross.numbering``)."""
    return f"receipt:{branch.code}:{year}"


@transaction.atomic
def receipt_code_save(*, receipt_code: ReceiptCode, by) -> ReceiptCode:
    """Register or mend a year's 票据代码 (``ReceiptCode``).

    The check that no receipt of the year was issued under another code runs under the lock
    the year's receipt numbers are drawn with, so no receipt can be issued between it and the save.
    """
    _ensure_issuer(by, receipt_code.branch_id)
    branch = Branch.objects.get(pk=receipt_code.branch_id)
    sequence_lock(scope=receipt_number_scope(branch, receipt_code.year))
    receipt_code.full_clean()
    with audit_context(user=by, reason="receipt_code_save"):
        receipt_code.save()
    return receipt_code


def receipt_invoice_code(branch: Branch, year: int) -> str:
    """The 票据代码 of this branch's receipts in this year: the one registered for it
    (``ReceiptCode``), else the branch's code followed by the year."""
    registered = ReceiptCode.objects.filter(branch=branch, year=year).values_list("code", flat=True).first()
    return registered or f"{branch.code}{year}"


@transaction.atomic
def receipt_issue(*, donation: Donation, by=None, remark: str = "", replaces: Receipt | None = None) -> Receipt:
    """Issue the receipt of a confirmed donation with the next gapless number of its branch and year.

    ``by`` is the finance reviewer; None when the nightly task issues it.
    """
    # the donation row lock serialises concurrent issuing of the same donation
    donation = Donation.objects.select_for_update().select_related("donor", "campaign", "branch").get(pk=donation.pk)
    if by is not None:
        _ensure_issuer(by, donation.branch_id)
    if donation.status != DonationStatus.CONFIRMED:
        raise ValidationError({"donation": [_("捐赠 %(serial)s 尚未复核到账，不能开票") % {"serial": donation.serial}]})
    if Receipt.objects.filter(donation=donation, status=ReceiptStatus.VALID).exists():
        raise ValidationError({"donation": [_("捐赠 %(serial)s 已有有效票据") % {"serial": donation.serial}]})
    lines, total, auto_remark = _lines(donation)
    branch = donation.branch
    year = timezone.localdate().year
    number = sequence_next(scope=receipt_number_scope(branch, year))
    receipt = Receipt(
        donation=donation,
        branch=branch,
        year=year,
        number=number,
        invoice_code=receipt_invoice_code(branch, year),
        check_code=_check_code(branch.code, year, number, total),
        issued_at=timezone.now(),
        payer_name=donation.donor.name,
        payer_credit_code=donation.donor.credit_code,
        lines=lines,
        total_amount=total,
        total_in_words=capital_yuan(total) if total is not None else "",
        remark="；".join(part for part in (remark.strip(), auto_remark, donation.serial) if part)[:300],
        payee=branch.name,
        reviewer_name=_person_name(donation.confirmed_by),
        issuer_name=_person_name(donation.registered_by),
        issued_by=by,
        replaces=replaces,
    )
    with audit_context(user=by, reason="receipt_issue"):
        receipt.save()
    document_pdf_request(document=receipt)
    return receipt


@transaction.atomic
def receipt_reverse(*, receipt: Receipt, by, reason: str, reissue: bool = True) -> Receipt | None:
    """冲红: mark the receipt reversed with reason, person and time; optionally issue its replacement."""
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    ensure_branch_access(by, receipt.branch_id)
    if not by.has_perm("donations.reverse_receipt"):
        raise PermissionDenied(_("只有财务复核人员可以冲红票据"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("请填写冲红原因")]})
    if receipt.status != ReceiptStatus.VALID:
        raise ValidationError({"receipt": [_("票据 %(number)s 已冲红") % {"number": receipt.number_display}]})
    with audit_context(user=by, reason="receipt_reverse"):
        ReceiptReversal.objects.create(
            receipt=receipt, reason=reason.strip(), reversed_by=by, reversed_at=timezone.now()
        )
        receipt.status = ReceiptStatus.REVERSED
        receipt.save(update_fields=["status"])
    if reissue:
        return receipt_issue(donation=receipt.donation, by=by, replaces=receipt)
    return None


def receipts_issue_pending(*, limit: int = 5000) -> int:
    """Nightly: a receipt for every confirmed donation whose donor wants one and that never had one."""
    pending = (
        Donation.objects.filter(status=DonationStatus.CONFIRMED, donor__wants_receipt=True, receipts__isnull=True)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    issued = 0
    for pk in pending:
        try:
            receipt_issue(donation=Donation(pk=pk))
            issued += 1
        except ValidationError:
            continue  # issued meanwhile by a person: nothing to do
    return issued


def receipt_verify_url(receipt: Receipt) -> str:
    """What the receipt's QR code opens: the public check of number and 校验码."""
    path = f"/donations/receipts/verify/{receipt.invoice_code}/{receipt.number_display}/{receipt.check_code}/"
    return settings.PUBLIC_BASE_URL + path


def receipt_pdf_bytes(receipt: Receipt) -> bytes:
    """The receipt's PDF, rendered from its frozen fields; stores nothing."""
    from redcross.pdf import qr_code_data_uri, render_pdf

    verify_url = receipt_verify_url(receipt)
    return render_pdf(
        "pdf/receipt.html",
        {
            "receipt": receipt,
            "total_display": format_yuan(receipt.total_amount) if receipt.total_amount is not None else "",
            "branch_name": receipt.payee,
            "qr": qr_code_data_uri(verify_url),
            "verify_url": verify_url,
        },
    )


def receipt_render_pdf(*, receipt_id: int) -> Receipt:
    """Render and store the PDF; idempotent (a receipt that has its PDF is left alone)."""
    return document_render_pdf(model=Receipt, pk=receipt_id, render=receipt_pdf_bytes, related=("donation", "branch"))


@dataclass(frozen=True)
class NumberUse:
    number: int
    receipt: Receipt | None

    @property
    def state(self) -> str:
        if self.receipt is None:
            return _("缺号")
        return self.receipt.get_status_display()


def receipt_number_report(*, branch: Branch, year: int) -> Iterator[NumberUse]:
    """Every number taken in ``branch`` and ``year``: issued, reversed, or (never expected) missing."""
    receipts = {
        r.number: r for r in Receipt.objects.filter(branch=branch, year=year).select_related("reversal", "donation")
    }
    last = sequence_current(scope=receipt_number_scope(branch, year))
    for number in range(1, max(last, max(receipts, default=0)) + 1):
        yield NumberUse(number=number, receipt=receipts.get(number))

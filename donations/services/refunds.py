"""Refunds of cash donations, as reported by a payment channel (WeChat Pay, Alipay).

A refund never changes what was received: ``Donation.amount`` stays, the refund
adds to ``refunded_amount`` and appends an entry to ``refunds`` (its channel
refund id, amount and time). The refund id makes recording the same refund
twice a ``RefundAlreadyRecorded`` instead of a second refund. A refund of a
confirmed donation also leaves a ``DonationCorrection`` (who, when, why, before,
after), like every other change to a confirmed donation.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import Donation, DonationCorrection, DonationKind, DonationStatus
from donations.services.figures import keep_figures
from donations.services.intake import MAX_DONATION_AMOUNT
from redcross.audit import audit_context
from redcross.money import to_yuan
from redcross.scoping import can_access_branch


class RefundPaymentNotFound(ValidationError):
    """No payment with that channel transaction id that the user may see."""


class RefundAlreadyRecorded(ValidationError):
    """The channel refund id is already on the payment: a re-imported statement, not a new refund."""


def _refund_amount(value: Any) -> Decimal:
    try:
        amount = to_yuan(value)
    except (TypeError, ValueError, InvalidOperation):
        raise ValidationError({"amount": [_("退款金额格式不正确：请填写元，最多两位小数")]}) from None
    if amount <= 0:
        raise ValidationError({"amount": [_("退款金额必须大于零")]})
    if amount > MAX_DONATION_AMOUNT:
        raise ValidationError({"amount": [_("退款金额超过一百亿元，请核对")]})
    return amount


@transaction.atomic
def donation_record_refund(
    *,
    by,
    channel: str,
    payment_transaction_id: str,
    refund_id: str,
    amount: Any,
    refunded_at: datetime,
    source: str = "",
) -> Donation:
    """Record a refund of the cash donation paid as ``payment_transaction_id`` on ``channel``.

    Raises ``RefundPaymentNotFound`` (no such payment, or one of a branch the user
    may not see), ``RefundAlreadyRecorded`` (same refund id already recorded) or
    ``ValidationError`` (bad amount, more than what is left to refund).
    """
    refund_id = (refund_id or "").strip()
    payment_transaction_id = (payment_transaction_id or "").strip()
    if not refund_id:
        raise ValidationError({"refund_id": [_("缺少退款单号")]})
    if len(refund_id) > 64:
        raise ValidationError({"refund_id": [_("退款单号过长")]})
    amount = _refund_amount(amount)
    if not isinstance(refunded_at, datetime):
        raise ValidationError({"refunded_at": [_("退款时间格式不正确")]})
    if timezone.is_naive(refunded_at):
        refunded_at = timezone.make_aware(refunded_at)
    donation = (
        Donation.objects.select_for_update()
        .filter(channel=channel, channel_transaction_id=payment_transaction_id)
        .exclude(channel_transaction_id="")
        .first()
    )
    if donation is None or not can_access_branch(by, donation.branch_id):
        raise RefundPaymentNotFound({"payment": [_("未找到原支付")]})
    if any(entry.get("id") == refund_id for entry in donation.refunds):
        raise RefundAlreadyRecorded({"refund_id": [_("该退款已登记")]})
    if donation.kind != DonationKind.CASH or donation.amount is None:
        raise ValidationError({"payment": [_("只有捐款可以退款")]})
    # money already allocated to a recipient cannot be refunded: the allocation must be undone first
    remaining = donation.amount - donation.refunded_amount - donation.allocated_amount
    if amount > remaining:
        raise ValidationError(
            {"amount": [_("退款金额 %(amount)s 元超过原支付 %(serial)s 可退金额 %(remaining)s 元") % {
                "amount": amount, "serial": donation.serial, "remaining": remaining}]}
        )  # fmt: skip
    before = donation.refunded_amount
    donation.refunded_amount = before + amount
    donation.refunds = [
        *donation.refunds,
        {"id": refund_id, "amount": str(amount), "refunded_at": refunded_at.isoformat(), "source": source[:100]},
    ]
    with keep_figures(donations=[donation.pk]), audit_context(user=by, reason="donation_record_refund"):
        donation.save(update_fields=["refunded_amount", "refunds"])
        if donation.status == DonationStatus.CONFIRMED:
            DonationCorrection.objects.create(
                donation=donation,
                reason=_("渠道退款 %(id)s") % {"id": refund_id},
                changes={"refunded_amount": {"before": str(before), "after": str(donation.refunded_amount)}},
                corrected_by=by,
            )
    from donations.services.allocations import cash_pool_sync

    cash_pool_sync(donation_ids=[donation.pk])
    return donation

"""Donation intake: registration, confirmation by a second person (双人双签), corrections."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from donations.models import (
    Campaign,
    Channel,
    Donation,
    DonationCorrection,
    DonationItem,
    DonationKind,
    DonationStatus,
    Donor,
    Recipient,
    ValueBasis,
)
from donations.services.campaigns import campaign_for_new_donation
from donations.services.figures import keep_figures
from donations.services.inputs import MAX_DONATION_AMOUNT, money_input, quantity_input
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.numbering import format_serial, sequence_next, sequence_next_block
from redcross.scoping import can_access_branch, ensure_branch_access
from redcross.signoff import second_signature_sign

MAX_TRANSACTION_ID_LENGTH = 64


# a little clock skew between a clerk's device and the server is fine
FUTURE_TOLERANCE = timedelta(minutes=10)


def _received_at(value: datetime | None) -> datetime:
    if value is None:
        raise ValidationError({"received_at": [_("请填写到账时间")]})
    if not isinstance(value, datetime):
        raise ValidationError({"received_at": [_("到账时间格式不正确")]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"received_at": [_("到账时间不能晚于现在")]})
    if value.year < 2000:
        raise ValidationError({"received_at": [_("到账时间过早，请核对")]})
    return value


def _clean_items(items: Iterable[Mapping[str, Any]]) -> list[DonationItem]:
    cleaned: list[DonationItem] = []
    for index, raw in enumerate(items):
        prefix = f"items[{index}]"
        name = str(raw.get("name") or "").strip()
        unit = str(raw.get("unit") or "").strip()
        if not name:
            raise ValidationError({f"{prefix}.name": [_("请填写物资名称")]})
        if not unit:
            raise ValidationError({f"{prefix}.unit": [_("请填写单位")]})
        basis = raw.get("value_basis") or ValueBasis.NONE
        if basis not in ValueBasis.values:
            raise ValidationError({f"{prefix}.value_basis": [_("价值依据不正确")]})
        unit_value = raw.get("unit_value")
        unit_value = None if unit_value in (None, "") else money_input(unit_value, f"{prefix}.unit_value")
        if basis != ValueBasis.NONE and unit_value is None:
            raise ValidationError({f"{prefix}.unit_value": [_("有价值依据的物资须填写单价")]})
        expiry = raw.get("expiry_date") or None
        if expiry is not None and not isinstance(expiry, date):
            raise ValidationError({f"{prefix}.expiry_date": [_("有效期格式不正确")]})
        item = DonationItem(
            name=name[:120],
            specification=str(raw.get("specification") or "").strip()[:120],
            quantity=quantity_input(raw.get("quantity"), f"{prefix}.quantity"),
            unit=unit[:20],
            unit_value=unit_value,
            value_basis=basis,
            expiry_date=expiry,
        )
        if item.value is not None and item.value > MAX_DONATION_AMOUNT:
            raise ValidationError({f"{prefix}.unit_value": [_("物资价值超过一百亿元，请核对")]})
        cleaned.append(item)
    return cleaned


def _recipient(value: Recipient | int | None, by) -> Recipient | None:
    if value in (None, ""):
        return None
    recipient_id = value.pk if isinstance(value, Recipient) else value
    try:
        recipient = Recipient.objects.get(pk=int(recipient_id), is_active=True)
    except (Recipient.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"designated_recipient": [_("定向受赠单位不存在")]}) from None
    if not can_access_branch(by, recipient.branch_id):
        raise ValidationError({"designated_recipient": [_("定向受赠单位不存在")]})
    return recipient


def _check_campaign(campaign: Campaign, branch: Branch) -> Campaign:
    # the caller's copy may be stale (paused since the form was opened): read the current status
    campaign = Campaign.objects.select_related("branch").get(pk=campaign.pk)
    # a branch may take gifts for its own campaigns and for those of the branches above it
    if not branch.is_within(campaign.branch):
        raise ValidationError({"campaign": [_("该募捐活动不属于本组织或上级组织")]})
    return campaign_for_new_donation(campaign)


@transaction.atomic
def donation_register(
    *,
    by,
    branch: Branch,
    donor: Donor,
    campaign: Campaign,
    kind: str,
    channel: str,
    received_at: datetime,
    amount: Any = None,
    items: Iterable[Mapping[str, Any]] = (),
    channel_transaction_id: str = "",
    designated_recipient: Recipient | int | None = None,
    wish: str = "",
    is_retroactive: bool = False,
    note: str = "",
) -> Donation:
    """Register a cash or in-kind donation; it counts once a second person confirms it."""
    ensure_branch_access(by, branch)
    if kind not in DonationKind.values:
        raise ValidationError({"kind": [_("请选择捐款或捐物")]})
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("请选择捐赠渠道")]})
    items = list(items)
    if kind == DonationKind.CASH:
        amount = money_input(amount, "amount")
        if items:
            raise ValidationError({"items": [_("捐款不登记物资明细")]})
        item_rows: list[DonationItem] = []
    else:
        if amount not in (None, ""):
            raise ValidationError({"amount": [_("捐物的价值按物资明细计算，不填金额")]})
        amount = None
        if not items:
            raise ValidationError({"items": [_("捐物至少登记一项物资")]})
        item_rows = _clean_items(items)
    received = _received_at(received_at)
    transaction_id = (channel_transaction_id or "").strip()
    if len(transaction_id) > MAX_TRANSACTION_ID_LENGTH:
        raise ValidationError({"channel_transaction_id": [_("渠道交易号过长")]})
    # repeating the partial unique index's condition lets SQLite use that index instead of a table scan
    already = Donation.objects.filter(channel=channel, channel_transaction_id=transaction_id).exclude(
        channel_transaction_id=""
    )
    if transaction_id and already.exists():
        raise ValidationError({"channel_transaction_id": [_("该渠道交易号已登记")]})
    campaign = _check_campaign(campaign, branch)
    recipient = _recipient(designated_recipient, by)
    if recipient is None and wish.strip() and is_retroactive:
        raise ValidationError({"designated_recipient": [_("补办手续的捐赠须填写实际受赠单位")]})

    year = timezone.localtime(received).year
    number = sequence_next(scope=f"donation:{branch.code}:{year}")
    donation = Donation(
        serial=format_serial(prefix=branch.code, year=year, number=number),
        branch=branch,
        donor=donor,
        campaign=campaign,
        kind=kind,
        channel=channel,
        channel_transaction_id=transaction_id,
        received_at=received,
        amount=amount,
        designated_recipient=recipient,
        wish=wish.strip(),
        is_retroactive=is_retroactive,
        note=note,
        registered_by=by,
    )
    with audit_context(user=by, reason="donation_register"):
        donation.save()
        for item in item_rows:
            item.donation = donation
            item.save()
    return donation


@dataclass(frozen=True, slots=True)
class CashGift:
    """One payment of a statement, for ``donation_register_cash_batch``."""

    donor: Donor | None  # None only while the importer checks the gift, before it has a donor
    received_at: datetime
    amount: Any
    channel_transaction_id: str
    note: str = ""


def cash_gift_clean(gift: CashGift) -> tuple[Decimal, datetime, str]:
    """(amount, received at, transaction id) of a gift, or the ValidationError that refuses it."""
    amount = money_input(gift.amount, "amount")
    received = _received_at(gift.received_at)
    transaction_id = gift.channel_transaction_id.strip()
    if len(transaction_id) > MAX_TRANSACTION_ID_LENGTH:
        raise ValidationError({"channel_transaction_id": [_("渠道交易号过长")]})
    return amount, received, transaction_id


@transaction.atomic
def donation_register_cash_batch(
    *, by, branch: Branch, campaign: Campaign, channel: str, gifts: Sequence[CashGift]
) -> list[Donation | ValidationError]:
    """Register many undirected cash gifts of one channel and campaign (statement imports).

    Each gift gets the checks of ``donation_register``; the result holds, at each
    gift's position, its new donation or the ``ValidationError`` that refused it, and
    the good gifts are registered. Serial numbers are taken as one block under one
    lock of the sequence, rows and their history are inserted in bulk: that is what
    makes a 100,000-row statement import in seconds instead of minutes. An
    ``IntegrityError`` (another import registered one of the transaction ids
    meanwhile) rolls the whole batch back; the caller then goes gift by gift.
    """
    ensure_branch_access(by, branch)
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("请选择捐赠渠道")]})
    campaign = _check_campaign(campaign, branch)
    results: list[Donation | ValidationError | None] = [None] * len(gifts)
    wanted = sorted({gift.channel_transaction_id.strip() for gift in gifts} - {""})
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        taken.update(
            Donation.objects.filter(channel=channel, channel_transaction_id__in=wanted[start : start + 500])
            .exclude(channel_transaction_id="")
            .values_list("channel_transaction_id", flat=True)
        )
    by_year: dict[int, list[tuple[int, Donation]]] = {}
    for index, gift in enumerate(gifts):
        try:
            amount, received, transaction_id = cash_gift_clean(gift)
            if transaction_id in taken:
                raise ValidationError({"channel_transaction_id": [_("该渠道交易号已登记")]})
        except ValidationError as exc:
            results[index] = exc
            continue
        if transaction_id:
            taken.add(transaction_id)
        donation = Donation(
            branch=branch,
            donor=gift.donor,
            campaign=campaign,
            kind=DonationKind.CASH,
            channel=channel,
            channel_transaction_id=transaction_id,
            received_at=received,
            amount=amount,
            note=gift.note,
            registered_by=by,
        )
        by_year.setdefault(timezone.localtime(received).year, []).append((index, donation))
    created: list[Donation] = []
    for year, numbered in sorted(by_year.items()):
        first = sequence_next_block(scope=f"donation:{branch.code}:{year}", count=len(numbered))
        for offset, (index, donation) in enumerate(numbered):
            donation.serial = format_serial(prefix=branch.code, year=year, number=first + offset)
            results[index] = donation
            created.append(donation)
    if created:
        bulk_create_with_history(
            created, Donation, batch_size=500, default_user=by, default_change_reason="donation_register"
        )
    return results  # type: ignore[return-value]


@transaction.atomic
def donation_confirm(*, donation: Donation, by) -> Donation:
    """The second signature: the money or goods have arrived, checked by someone else."""
    from donations.services.certificates import certificate_issue

    donation = Donation.objects.select_for_update().get(pk=donation.pk)
    ensure_branch_access(by, donation.branch_id)
    if not by.has_perm("donations.confirm_donation"):
        raise PermissionDenied(_("您没有复核捐赠的权限"))
    if donation.status == DonationStatus.CONFIRMED:
        raise ValidationError({"status": [_("捐赠 %(serial)s 已复核") % {"serial": donation.serial}]})
    signed = second_signature_sign(donation, by=by)
    donation.status = DonationStatus.CONFIRMED
    from donations.services.allocations import allocation_confirm_retroactive, cash_pool_sync

    with keep_figures(donations=[donation.pk]):
        with audit_context(user=by, reason="donation_confirm"):
            donation.save(update_fields=["status", *signed])
        if donation.is_retroactive:
            allocation_confirm_retroactive(donation=donation, by=by)
    cash_pool_sync(donation_ids=[donation.pk])
    certificate_issue(donation=donation)
    return donation


def donation_confirm_batch(*, donations: Iterable[Donation], by) -> tuple[list[Donation], list[tuple[Donation, str]]]:
    """Confirm each donation in its own transaction; report the refused ones with the reason."""
    confirmed, refused = [], []
    for donation in donations:
        try:
            confirmed.append(donation_confirm(donation=donation, by=by))
        except (ValidationError, PermissionDenied) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            refused.append((donation, message))
    return confirmed, refused


CORRECTABLE_FIELDS = (
    "donor",
    "campaign",
    "channel",
    "channel_transaction_id",
    "received_at",
    "amount",
    "designated_recipient",
    "wish",
    "note",
)


@transaction.atomic
def donation_correct(*, donation: Donation, by, reason: str, changes: Mapping[str, Any]) -> Donation:
    """Change a confirmed donation through a recorded correction (who, when, why, before, after).

    Issued receipts stay as they were: a receipt that no longer matches is
    reversed and reissued by finance (``receipt_reverse``).
    """
    donation = Donation.objects.select_for_update().get(pk=donation.pk)
    ensure_branch_access(by, donation.branch_id)
    if not by.has_perm("donations.correct_donation"):
        raise PermissionDenied(_("您没有更正捐赠的权限"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("请填写更正原因")]})
    unknown = set(changes) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: [_("该字段不能更正")]})
    if "amount" in changes:
        if donation.kind != DonationKind.CASH:
            raise ValidationError({"amount": [_("捐物的价值按物资明细计算")]})
        changes = {**changes, "amount": money_input(changes["amount"], "amount")}
        if changes["amount"] < donation.refunded_amount:
            raise ValidationError(
                {"amount": [_("金额不能少于已退款的 %(refunded)s 元") % {"refunded": donation.refunded_amount}]}
            )
    if "received_at" in changes:
        changes = {**changes, "received_at": _received_at(changes["received_at"])}
    if "designated_recipient" in changes:
        changes = {**changes, "designated_recipient": _recipient(changes["designated_recipient"], by)}
    if "campaign" in changes:
        _check_campaign(changes["campaign"], donation.branch)
    if "channel" in changes and changes["channel"] not in Channel.values:
        raise ValidationError({"channel": [_("请选择捐赠渠道")]})
    record: dict[str, dict[str, str]] = {}
    for field, new in changes.items():
        old = getattr(donation, field)
        if old != new:
            record[field] = {
                "before": str(old if old is not None else ""),
                "after": str(new if new is not None else ""),
            }
            setattr(donation, field, new)
    if not record:
        raise ValidationError({"changes": [_("没有需要更正的内容")]})
    if (
        record.keys() & {"amount", "campaign", "designated_recipient"}
        and donation.uses.exclude(allocation__status="cancelled").exists()
    ):
        # the pool and the trace already count this gift where it went
        raise ValidationError({"changes": [_("该捐赠已有拨付，金额、募捐活动和定向单位不能再更正")]})
    with (
        keep_figures(donations=[donation.pk]),
        audit_context(user=by, reason=f"donation_correct: {reason.strip()[:80]}"),
    ):
        donation.save()
        DonationCorrection.objects.create(donation=donation, reason=reason.strip(), changes=record, corrected_by=by)
    from donations.services.allocations import cash_pool_sync

    cash_pool_sync(donation_ids=[donation.pk])
    return donation

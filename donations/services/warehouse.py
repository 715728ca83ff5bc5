"""The warehouse: goods move only through movements signed by two keepers; stock = sum of movements.

A keeper records a movement (pending); it counts once a second keeper signs it
(``stock_movement_confirm``). Stock of a lot (a donation's item line) in a warehouse is the
sum of its confirmed movements and never goes below zero: the lot's row is locked while a
movement that takes stock away is signed, so concurrent stock-outs queue and the second one
is refused with a clear message if the first took what it needed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import (
    DonationItem,
    DonationKind,
    DonationStatus,
    MovementKind,
    MovementStatus,
    StockMovement,
    Warehouse,
)
from donations.services.figures import keep_figures
from donations.services.inputs import quantity_input, require_permission, text_input
from donations.services.stock import active_warehouse, lot_stock, movement_serial
from redcross.audit import audit_context
from redcross.scoping import ensure_branch_access
from redcross.signoff import second_signature_sign

KEEPER_PERMISSION = "donations.sign_stockmovement"


def _keeper(by, branch_id: int) -> None:
    ensure_branch_access(by, branch_id)
    require_permission(by, KEEPER_PERMISSION, _("出入库须由仓库管理员办理"))


def _lot(item: DonationItem | int, field: str = "item") -> DonationItem:
    item_id = item.pk if isinstance(item, DonationItem) else item
    try:
        return DonationItem.objects.select_for_update().select_related("donation").get(pk=item_id)
    except (DonationItem.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field: [_("物资批次不存在")]}) from None


def _moved_at(value: Any) -> datetime:
    if value is None:
        return timezone.now()
    if not isinstance(value, datetime):
        raise ValidationError({"moved_at": [_("时间格式不正确")]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now():
        raise ValidationError({"moved_at": [_("时间不能晚于现在")]})
    return value


def _stock_in_of(item: DonationItem):
    return item.movements.filter(kind=MovementKind.STOCK_IN).exclude(status=MovementStatus.CANCELLED)


@transaction.atomic
def stock_in_check(
    *,
    by,
    item: DonationItem | int,
    warehouse: Warehouse | int,
    counted_quantity: Any,
    condition: str,
    expiry_date: date | None = None,
    photos=None,
    moved_at: datetime | None = None,
    note: str = "",
) -> StockMovement:
    """数质量检查 and stock-in of a lot: counted quantity, condition, expiry, photos.

    The shortfall (declared minus counted) is recorded against the donation. Counts once
    a second keeper signs it.
    """
    item = _lot(item)
    donation = item.donation
    _keeper(by, donation.branch_id)
    warehouse = active_warehouse(warehouse, "warehouse", donation.branch)
    if donation.kind != DonationKind.IN_KIND or donation.status != DonationStatus.CONFIRMED:
        raise ValidationError({"item": [_("只有已复核的捐物可以入库")]})
    if donation.is_retroactive:
        raise ValidationError({"item": [_("补办手续的物资已直接送达受赠单位，不入库")]})
    if _stock_in_of(item).exists():
        raise ValidationError({"item": [_("该批物资已验收入库")]})
    counted = quantity_input(counted_quantity, "counted_quantity")
    if counted > item.quantity:
        raise ValidationError(
            {"counted_quantity": [_("清点数量 %(counted)s 多于捐赠登记的 %(declared)s，请先更正捐赠") % {
                "counted": f"{counted:g}", "declared": f"{item.quantity:g}"}]}
        )  # fmt: skip
    if expiry_date is not None and not isinstance(expiry_date, date):
        raise ValidationError({"expiry_date": [_("有效期格式不正确")]})
    moved = _moved_at(moved_at)
    movement = StockMovement(
        serial=movement_serial(warehouse=warehouse, on=timezone.localtime(moved).date()),
        warehouse=warehouse,
        item=item,
        kind=MovementKind.STOCK_IN,
        quantity=counted,
        moved_at=moved,
        declared_quantity=item.quantity,
        shortfall_quantity=item.quantity - counted,
        condition=text_input(condition, "condition", 200, required=True),
        expiry_date=expiry_date or item.expiry_date,
        reason=text_input(note, "note", 2000),
        recorded_by=by,
    )
    if photos is not None:
        movement.photos = photos
    with audit_context(user=by, reason="stock_in_check"):
        movement.save()
    return movement


@transaction.atomic
def stock_transfer(
    *,
    by,
    item: DonationItem | int,
    from_warehouse: Warehouse | int,
    to_warehouse: Warehouse | int,
    quantity: Any,
    reason: str = "",
    moved_at: datetime | None = None,
) -> tuple[StockMovement, StockMovement]:
    """Move part of a lot between two warehouses of the branch: a paired transfer-out and transfer-in."""
    item = _lot(item)
    branch = item.donation.branch
    _keeper(by, branch.pk)
    source = active_warehouse(from_warehouse, "from_warehouse", branch)
    target = active_warehouse(to_warehouse, "to_warehouse", branch)
    if source.pk == target.pk:
        raise ValidationError({"to_warehouse": [_("调入仓库与调出仓库相同")]})
    quantity = quantity_input(quantity, "quantity")
    _check_available(item, source, quantity)
    moved = _moved_at(moved_at)
    on = timezone.localtime(moved).date()
    reason = text_input(reason, "reason", 2000)
    out = StockMovement(
        serial=movement_serial(warehouse=source, on=on),
        warehouse=source,
        item=item,
        kind=MovementKind.TRANSFER_OUT,
        quantity=-quantity,
        moved_at=moved,
        reason=reason,
        recorded_by=by,
    )
    into = StockMovement(
        serial=movement_serial(warehouse=target, on=on),
        warehouse=target,
        item=item,
        kind=MovementKind.TRANSFER_IN,
        quantity=quantity,
        moved_at=moved,
        reason=reason,
        recorded_by=by,
    )
    with audit_context(user=by, reason="stock_transfer"):
        out.save()
        into.transfer_pair = out
        into.save()
        out.transfer_pair = into
        out.save(update_fields=["transfer_pair"])
    return out, into


@transaction.atomic
def stock_adjust(
    *,
    by,
    item: DonationItem | int,
    warehouse: Warehouse | int,
    quantity: Any,
    reason: str,
    moved_at: datetime | None = None,
) -> StockMovement:
    """A stock-taking adjustment (盘点调整) with its reason: positive found, negative lost or spoilt."""
    item = _lot(item)
    branch = item.donation.branch
    _keeper(by, branch.pk)
    warehouse = active_warehouse(warehouse, "warehouse", branch)
    reason = text_input(reason, "reason", 2000, required=True)
    try:
        delta = Decimal(str(quantity).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"quantity": [_("数量格式不正确")]}) from None
    if not delta.is_finite() or delta == 0:
        raise ValidationError({"quantity": [_("调整数量不能为零")]})
    delta = quantity_input(abs(delta), "quantity").copy_sign(delta)
    received_here = item.movements.filter(
        warehouse=warehouse,
        kind__in=[MovementKind.STOCK_IN, MovementKind.TRANSFER_IN],
        status=MovementStatus.CONFIRMED,
    )
    if not received_here.exists():
        raise ValidationError({"item": [_("该批物资没有在此仓库入库，不能盘点调整")]})
    if delta < 0:
        _check_available(item, warehouse, -delta)
    moved = _moved_at(moved_at)
    movement = StockMovement(
        serial=movement_serial(warehouse=warehouse, on=timezone.localtime(moved).date()),
        warehouse=warehouse,
        item=item,
        kind=MovementKind.ADJUSTMENT,
        quantity=delta,
        moved_at=moved,
        reason=reason,
        recorded_by=by,
    )
    with audit_context(user=by, reason="stock_adjust"):
        movement.save()
    return movement


def _check_available(item: DonationItem, warehouse: Warehouse, quantity) -> None:
    available = lot_stock(item.pk, warehouse.pk, include_pending_out=True)
    if available < quantity:
        raise ValidationError(
            {"quantity": [_("库存不足：%(name)s 在%(warehouse)s可用 %(available)s%(unit)s，需 %(quantity)s%(unit)s") % {
                "name": item.name, "warehouse": warehouse.name, "available": f"{available:g}",
                "quantity": f"{quantity:g}", "unit": item.unit}]}
        )  # fmt: skip


def confirm_movement_locked(*, movement: StockMovement, by) -> StockMovement:
    """Sign a pending movement as the second keeper; the caller holds a transaction.

    Locks the lot first, then re-computes its stock: stock never goes below zero.
    """
    item = DonationItem.objects.select_for_update().get(pk=movement.item_id)
    movement = StockMovement.objects.select_for_update().get(pk=movement.pk)
    if movement.status != MovementStatus.PENDING:
        raise ValidationError({"status": [_("出入库记录 %(serial)s 不是待签字状态") % {"serial": movement.serial}]})
    signed = second_signature_sign(movement, by=by)
    if movement.quantity < 0:
        stock = lot_stock(item.pk, movement.warehouse_id, include_pending_out=False)
        if stock + movement.quantity < 0:
            raise ValidationError(
                {"quantity": [_("库存不足：%(name)s 现有 %(stock)s%(unit)s，本次出库 %(quantity)s%(unit)s") % {
                    "name": item.name, "stock": f"{stock:g}", "quantity": f"{-movement.quantity:g}",
                    "unit": item.unit}]}
            )  # fmt: skip
    movement.status = MovementStatus.CONFIRMED
    movement.save(update_fields=["status", *signed])
    return movement


@transaction.atomic
def stock_movement_confirm(*, movement: StockMovement, by) -> StockMovement:
    """The second keeper's signature on a stock-in, transfer or adjustment (stock-outs are signed
    through their transfer order, ``allocation_confirm``)."""
    movement = StockMovement.objects.select_related("warehouse").get(pk=movement.pk)
    _keeper(by, movement.warehouse.branch_id)
    if movement.allocation_id is not None:
        raise ValidationError({"allocation": [_("调拨出库请在物资调拨令上签字")]})
    lots = StockMovement.objects.filter(Q(pk=movement.pk) | Q(pk=movement.transfer_pair_id or 0)).values("item_id")
    with keep_figures(items=[row["item_id"] for row in lots]), audit_context(user=by, reason="stock_movement_confirm"):
        if movement.transfer_pair_id is not None:
            # the transfer-out first, so the stock it takes is checked before the transfer-in adds it
            pair = StockMovement.objects.get(pk=movement.transfer_pair_id)
            first, second = (movement, pair) if movement.quantity < 0 else (pair, movement)
            confirm_movement_locked(movement=first, by=by)
            confirm_movement_locked(movement=second, by=by)
            return StockMovement.objects.get(pk=movement.pk)
        return confirm_movement_locked(movement=movement, by=by)


@transaction.atomic
def stock_movement_cancel(*, movement: StockMovement, by, reason: str) -> StockMovement:
    """Withdraw a movement that no second keeper has signed yet."""
    movement = StockMovement.objects.select_for_update().select_related("warehouse").get(pk=movement.pk)
    _keeper(by, movement.warehouse.branch_id)
    reason = text_input(reason, "reason", 500, required=True)
    if movement.status != MovementStatus.PENDING or movement.allocation_id is not None:
        raise ValidationError({"status": [_("只能撤销待签字的入库、调拨或盘点记录")]})
    with audit_context(user=by, reason=f"stock_movement_cancel: {reason[:80]}"):
        for row in StockMovement.objects.filter(Q(pk=movement.pk) | Q(pk=movement.transfer_pair_id or 0)):
            row.status = MovementStatus.CANCELLED
            row.reason = reason
            row.save(update_fields=["status", "reason"])
    movement.refresh_from_db()
    return movement


__all__ = [
    "confirm_movement_locked",
    "stock_adjust",
    "stock_in_check",
    "stock_movement_cancel",
    "stock_movement_confirm",
    "stock_transfer",
]

"""Stock of a lot (sum of its signed movements), the warehouse a movement may use, and the
numbering of stock movements; shared by the allocation and warehouse services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from donations.models import (
    MovementStatus,
    StockMovement,
    Warehouse,
)
from redcross.models import Branch
from redcross.numbering import format_serial, sequence_next


def lot_stock(item_id: int, warehouse_id: int, *, include_pending_out: bool) -> Decimal:
    movements = StockMovement.objects.filter(item_id=item_id, warehouse_id=warehouse_id)
    condition = Q(status=MovementStatus.CONFIRMED)
    if include_pending_out:
        condition |= Q(status=MovementStatus.PENDING, quantity__lt=0)
    return movements.filter(condition).aggregate(total=Sum("quantity"))["total"] or Decimal("0")


def active_warehouse(value: Warehouse | int | None, field: str, branch: Branch) -> Warehouse:
    warehouse_id = value.pk if isinstance(value, Warehouse) else value
    try:
        warehouse = Warehouse.objects.select_related("branch").get(pk=warehouse_id, is_active=True)
    except (Warehouse.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field: [_("仓库不存在或已停用")]}) from None
    if warehouse.branch_id != branch.pk:
        raise ValidationError({field: [_("仓库不属于本组织")]})
    return warehouse


def movement_serial(*, warehouse: Warehouse, on: date) -> str:
    prefix = f"{warehouse.branch.code}CK"
    number = sequence_next(scope=f"stock:{prefix}:{on.year}")
    return format_serial(prefix=prefix, year=on.year, number=number)

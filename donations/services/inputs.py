"""What the services accept as a sum of money, a quantity or a line of text, and who may act:
the checks every write in the donations app starts with, each naming the field it refuses. The
text check is the kernel's (``redcross.validators.clean_text``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from redcross.money import to_yuan
from redcross.validators import clean_text

# over 10^10 yuan is a typing error, not a gift
MAX_DONATION_AMOUNT = Decimal("10000000000.00")
MAX_ITEM_QUANTITY = Decimal("1000000000")


def money_input(value: Any, field: str, *, allow_none: bool = False) -> Decimal | None:
    if value in (None, ""):
        if allow_none:
            return None
        raise ValidationError({field: [_("请填写金额")]})
    try:
        amount = to_yuan(value)
    except (TypeError, ValueError, InvalidOperation):
        raise ValidationError({field: [_("金额格式不正确：请填写元，最多两位小数")]}) from None
    if amount <= 0:
        raise ValidationError({field: [_("金额必须大于零")]})
    if amount > MAX_DONATION_AMOUNT:
        raise ValidationError({field: [_("金额超过一百亿元，请核对")]})
    return amount


def quantity_input(value: Any, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("数量格式不正确")]}) from None
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({field: [_("数量必须大于零")]})
    if quantity > MAX_ITEM_QUANTITY or quantity != quantity.quantize(Decimal("0.001")):
        raise ValidationError({field: [_("数量超出范围或小数位过多（最多三位）")]})
    return quantity


def require_permission(by, permission: str, message: str) -> None:
    if not by.has_perm(permission):
        raise PermissionDenied(message)


# a line of text: the kernel's one check (strip, required, control characters, length), under
# the name the other inputs here share
text_input = clean_text

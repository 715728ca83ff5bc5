"""Input checks shared by the relief services (money, dates, text come from the donations app's
``inputs`` so one sum of money is refused the same way everywhere)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.services.inputs import money_input, require_permission, text_input

__all__ = ["date_input", "money_input", "optional_money", "require_permission", "text_input"]


def date_input(value: Any, field: str, *, not_future: bool = False) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({field: [_("日期格式不正确")]}) from None
    if not isinstance(value, date):
        raise ValidationError({field: [_("日期格式不正确")]})
    if value.year < 2000 or value.year > 2100:
        raise ValidationError({field: [_("日期超出范围，请核对")]})
    if not_future and value > timezone.localdate():
        raise ValidationError({field: [_("日期不能晚于今天")]})
    return value


def optional_money(value: Any, field: str) -> Decimal | None:
    return money_input(value, field, allow_none=True)

"""Template filters for money: ``{% load money %}``.

    {{ donation.amount|yuan }}            -> 12,345.67 元
    {{ donation.amount|yuan:False }}      -> 12,345.67
    {{ total|wanyuan }}                   -> 1,340.00 万元
    {{ total|wanyuan:0 }}                 -> 1,340 万元
    {{ donation.amount|capital_yuan }}    -> 壹万贰仟叁佰肆拾伍元陆角柒分

A page must not fail because one amount is bad, so anything the money
helpers refuse (None, "", float, too many decimals, ...) renders as "".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django import template

from redcross import money

register = template.Library()
logger = logging.getLogger(__name__)


def _render(func: Callable[..., str], value: Any, *args: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        return func(value, *args)
    except (TypeError, ValueError, ArithmeticError):
        # Worth a log line: a float or a 3-decimal amount reaching a template
        # is a bug upstream, even though the page itself still renders.
        logger.warning("cannot render %r with %s", value, func.__name__)
        return ""


@register.filter
def yuan(value: Any, with_unit: bool = True) -> str:
    """``12345.67`` -> ``"12,345.67 元"`` (or ``"12,345.67"`` with ``yuan:False``)."""
    return _render(money.format_yuan_unit if with_unit else money.format_yuan, value)


@register.filter
def wanyuan(value: Any, places: int = 2) -> str:
    """``13400000`` -> ``"1,340.00 万元"``; the argument sets the decimal places."""
    return _render(money.format_wan, value, places)


@register.filter
def capital_yuan(value: Any) -> str:
    """人民币大写, e.g. ``1409.50`` -> ``"壹仟肆佰零玖元伍角"``."""
    return _render(money.capital_yuan, value)

"""The value of a lot of goods: one rule, in Python and in SQL, side by side.

A lot (a donation's item line, or part of it: what an allocation took, what is left in stock)
is worth quantity × unit value, rounded to the fen half to even, and only when it has evidence
of value: a unit value and a value basis other than 无价值凭证. Without evidence it has no
value at all (None / NULL), never zero: receipts then list quantities only, the books count the
lot in quantities.

``lot_value`` is the rule for values read into Python (a model's ``value``, the books lot by
lot); ``lot_value_fen`` is the same rule as one SQL expression for sums computed in the database
(reports, campaign pages, the home page). ``tests/donations/test_valuation.py`` evaluates both
on the same table of lots, ties and large values included, so neither can drift from the other.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import models
from django.db.models import Case, DecimalField, F, Func, Q, Value, When
from django.db.models.lookups import Exact, IsNull
from django.utils.translation import gettext_lazy as _

__all__ = [
    "VALUE_EVIDENCE",
    "ProductInFen",
    "ValueBasis",
    "fen_to_yuan",
    "has_value_evidence",
    "lot_value",
    "lot_value_fen",
]

FEN = Decimal("0.01")


class ValueBasis(models.TextChoices):
    INVOICE = "invoice", _("发票")
    CUSTOMS = "customs", _("报关单")
    AGREEMENT = "agreement", _("捐赠协议")
    DONOR_QUOTE = "donor_quote", _("捐赠函报价")
    MARKET_PRICE = "market_price", _("市场价格")
    APPRAISAL = "appraisal", _("评估")
    NONE = "none", _("无价值凭证")


# Ministry of Finance rules: goods get an amount on the receipt only with evidence of their value.
VALUE_EVIDENCE = frozenset(
    {ValueBasis.INVOICE, ValueBasis.CUSTOMS, ValueBasis.AGREEMENT, ValueBasis.MARKET_PRICE, ValueBasis.APPRAISAL}
)


def lot_value(quantity: Decimal, unit_value: Decimal | None, value_basis: str) -> Decimal | None:
    """A lot's value in yuan (quantity × unit value, to the fen, half to even); None without
    evidence of value (仅列数量)."""
    if unit_value is None or value_basis == ValueBasis.NONE:
        return None
    # explicit rounding: a caller's decimal context must not change a ledger's figure
    return (Decimal(quantity) * Decimal(unit_value)).quantize(FEN, rounding=ROUND_HALF_EVEN)


class ProductInFen(Func):
    """quantity × unit value in whole fen, rounded half to even per row, in integer arithmetic.

    This is ``lot_value`` in SQL, on SQLite too, where decimals are floating point: the quantity
    (three places) and the unit value (two places) are first turned into exact integers of
    thousandths and fen, and ``Sum`` over it is an exact integer (``fen_to_yuan`` turns it back
    into yuan). Quantities are positive (the item and source tables' CHECK constraints): the
    integer division below rounds toward zero, which is half to even only for positive products.
    """

    output_field = DecimalField(max_digits=30, decimal_places=0)

    def __init__(self, quantity: Any, unit_value: Any) -> None:
        super().__init__(quantity, unit_value)

    def as_sqlite(self, compiler, connection, **extra_context):
        # "%%": Django's SQLite backend turns it into the modulo operator, as it does with "%s" placeholders
        return self._build(compiler, "INTEGER", "({} / 1000)", "({} %% 1000)", "(({}) %% 2)")

    def as_postgresql(self, compiler, connection, **extra_context):
        return self._build(compiler, "NUMERIC", "DIV({}, 1000)", "MOD({}, 1000)", "MOD({}, 2)")

    def as_sql(self, compiler, connection, **extra_context):
        return self._build(compiler, "NUMERIC", "FLOOR(({}) / 1000)", "MOD({}, 1000)", "MOD({}, 2)")

    def _build(self, compiler, integer: str, div: str, mod: str, parity: str) -> tuple[str, list]:
        quantity_sql, quantity_params = compiler.compile(self.source_expressions[0])
        value_sql, value_params = compiler.compile(self.source_expressions[1])
        product = f"(CAST(ROUND(({quantity_sql}) * 1000) AS {integer}) * CAST(ROUND(({value_sql}) * 100) AS {integer}))"
        product_params = [*quantity_params, *value_params]
        quotient = div.format(product)
        remainder = mod.format(product)
        odd = parity.format(quotient)
        sql = f"({quotient} + CASE WHEN {remainder} > 500 OR ({remainder} = 500 AND {odd} = 1) THEN 1 ELSE 0 END)"
        # the product appears four times: once in the quotient, twice in the remainder tests, once in the parity
        return sql, product_params * 4


def _expression(value: Any) -> Any:
    return F(value) if isinstance(value, str) else value


def has_value_evidence(unit_value: Any = "unit_value", value_basis: Any = "value_basis") -> Q:
    """The evidence condition of ``lot_value`` as a filter: a unit value and a basis other than
    无价值凭证. Field names (``"item__unit_value"``) or expressions."""
    return Q(IsNull(_expression(unit_value), False)) & ~Q(Exact(_expression(value_basis), ValueBasis.NONE))


def lot_value_fen(quantity: Any = "quantity", unit_value: Any = "unit_value", value_basis: Any = "value_basis") -> Case:
    """``lot_value`` in SQL, in whole fen: NULL without evidence of value, so ``Sum`` over it adds
    the valued lots only. Field names or expressions; wrap the sum in ``fen_to_yuan``."""
    return Case(
        When(
            has_value_evidence(unit_value, value_basis),
            then=ProductInFen(_expression(quantity), _expression(unit_value)),
        ),
        default=Value(None),
        output_field=DecimalField(max_digits=30, decimal_places=0),
    )


def fen_to_yuan(total: Any) -> Decimal:
    """An integer number of fen (a Sum of ``lot_value_fen``) as yuan with two places; None is 0."""
    return (Decimal(int(total or 0)) / 100).quantize(FEN)

"""SQL helpers for report selectors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Func

__all__ = ["ProductInFen", "fen_to_yuan"]


class ProductInFen(Func):
    """quantity × unit value in whole fen, rounded half to even per row, in integer arithmetic.

    This is what ``Decimal.quantize(Decimal("0.01"))`` gives in Python (the rule the ledgers use
    to value a lot: ``DonationItem.value``, ``AllocationSource.value``, ``campaign_books``), so
    ``Sum(ProductInFen(...))`` agrees with them to the fen, ties included (2.5 kg × 4.53 =
    11.325 -> 11.32), on SQLite too, where decimals are floating point: the quantity (three
    places) and the unit value (two places) are first turned into exact integers of thousandths
    and fen, and the sum is an exact integer. ``fen_to_yuan`` turns it back into yuan.
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


def fen_to_yuan(total: Any) -> Decimal:
    """An integer number of fen (a Sum of ``ProductInFen``) as yuan with two places."""
    return (Decimal(int(total or 0)) / 100).quantize(Decimal("0.01"))

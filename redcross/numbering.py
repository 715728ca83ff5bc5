"""Gapless numbering: receipts, bulletins, donation serials all draw from here."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils.translation import gettext as _

from redcross.models import NumberSequence


class NumberingError(RuntimeError):
    pass


def sequence_next(*, scope: str) -> int:
    """Take the next number of ``scope`` (1, 2, 3, ...).

    Must run inside the transaction that stores the numbered document: the
    sequence row stays locked until that transaction ends, so concurrent
    callers queue, and a rollback gives the number back. That is what keeps the
    numbers gapless.
    """
    return sequence_next_block(scope=scope, count=1)


def sequence_next_block(*, scope: str, count: int) -> int:
    """Take ``count`` consecutive numbers of ``scope`` under one lock; returns the first.

    For bulk registration (statement imports): the same rules as ``sequence_next``,
    one locked row update instead of one per document.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    sequence = _locked(scope)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number", "updated_at"])
    return first


def sequence_lock(*, scope: str) -> int:
    """Lock ``scope``'s row without taking a number, until the transaction ends: for a change that
    must not interleave with numbering (a year's 票据代码). Returns the last number handed out."""
    return _locked(scope).last_number


def _locked(scope: str) -> NumberSequence:
    """``scope``'s row, locked until the transaction ends (created if new)."""
    if not connection.in_atomic_block:
        raise NumberingError(_("编号必须在保存单据的事务内取得"))
    # create the row if needed without racing: the loser of the insert just locks the winner's row
    NumberSequence.objects.bulk_create([NumberSequence(scope=scope)], ignore_conflicts=True)
    return NumberSequence.objects.select_for_update().get(scope=scope)


def sequence_current(*, scope: str) -> int:
    """The last number handed out in ``scope`` (0 if none): what an auditor must account for."""
    return NumberSequence.objects.filter(scope=scope).values_list("last_number", flat=True).first() or 0


def format_serial(*, prefix: str, year: int, number: int, width: int = 6) -> str:
    """``XA2020-000123``: branch code, year, zero-padded number."""
    return f"{prefix}{year}-{number:0{width}d}"


@transaction.atomic
def sequence_take(*, scope: str) -> int:
    """A number in a transaction of its own, for callers that need only the number."""
    return sequence_next(scope=scope)

"""Querysets compiled to SQL once per process and run again with new values.

Django builds and compiles a queryset's SQL on every evaluation: for the honor roll's page (a
four-table ``values_list``) that is about 1.5 ms of CPU, more than PostgreSQL spends answering
it. The list a surge sends everyone to has one shape; only the cursor changes. So the queryset
is built once with placeholder values, compiled, and its SQL kept; each call swaps the
placeholders in the parameter list for the real values and applies the same converters the ORM
would (SQLite returns decimals and datetimes as text).

Only for querysets whose shape is fixed: the placeholders must be values no real call uses and
must reach the SQL as parameters (filters and ``__in`` lists do; ``LIMIT`` does not, so it is
part of the shape).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import QuerySet


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[str | None, ...]  # for each parameter: the placeholder it stands for, or None
    compiler: Any
    converters: dict


_compiled: dict[tuple, _Compiled] = {}
_MAX_COMPILED = 256  # shapes are few; the bound only guards against a caller keyed on values


def _db_value(connection, value: Any) -> Any:
    # how the ORM hands a value to the driver (SQLite gets datetimes as text)
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def compiled_values(
    build: Callable[..., QuerySet],
    *,
    shape: Hashable,
    placeholders: Mapping[str, Any],
    values: Mapping[str, Any],
    using: str = "default",
) -> list[tuple]:
    """Rows of ``build(shape, **placeholders)`` (a ``values_list`` queryset) with ``values`` in
    place of the placeholders. ``build`` must be a module-level function (it is part of the
    key) and ``shape`` everything else that changes the SQL."""
    connection = connections[using]
    key = (build, shape, id(connection))
    compiled = _compiled.get(key)
    if compiled is None:
        if len(_compiled) >= _MAX_COMPILED:
            _compiled.clear()
        compiler = build(shape, **placeholders).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        marks = {_db_value(connection, value): name for name, value in placeholders.items()}
        slots = tuple(marks.get(param) if _hashable(param) else None for param in params)
        missing = set(placeholders) - set(slots)
        if missing:
            raise ValueError(f"placeholders not found among the SQL parameters: {sorted(missing)}")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        compiled = _Compiled(sql, tuple(params), slots, compiler, compiler.get_converters(fields))
        _compiled[key] = compiled
    real = {name: _db_value(connection, value) for name, value in values.items()}
    slots = zip(compiled.params, compiled.slots, strict=True)
    params = [param if slot is None else real[slot] for param, slot in slots]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    if compiled.converters:
        rows = [tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)]
    return rows


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True

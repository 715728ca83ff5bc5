"""One registry of report sections for every app.

A section is a titled table: its columns (key, Chinese header, type) and a selector that yields
one dict per row for a period, a branch and a scope (本级 or 全市系统), computed with SQL
aggregates. An app contributes sections from its own ``<app>/report_sections.py``, which
``reports.apps.ReportsConfig.ready`` imports for every installed app; nothing in ``reports/``
changes when an app adds one::

    # relief/report_sections.py
    from reports.registry import Column, ColumnType, report_section

    @report_section(
        key="relief_aid",
        title=_("人道救助"),
        order=300,
        columns=[Column("project", _("项目")), Column("households", _("受助户数"), ColumnType.INT)],
    )
    def relief_aid(period, branch, scope):
        yield from ...  # dicts with the column keys

Monthly and annual reports, the XLSX, CSV and PDF exports and the admin pick it up from here.
Money values are ``Decimal`` yuan; the report adds 万元 columns, totals, the previous year's
figures and targets as the section declares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from redcross.selectors import BranchScope

if TYPE_CHECKING:
    from redcross.models import Branch
    from reports.periods import ReportPeriod

__all__ = [
    "Chart",
    "Column",
    "ColumnType",
    "RowsFunction",
    "Section",
    "SectionRegistry",
    "Target",
    "registry",
    "report_memo",
    "report_section",
]

RowsFunction = Callable[["ReportPeriod", "Branch", str], Iterable[dict[str, Any]]]
TargetsFunction = Callable[["ReportPeriod", "Branch", str], Mapping[tuple, Decimal]]


class ColumnType(StrEnum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"  # Decimal yuan, two places
    QUANTITY = "quantity"  # Decimal, up to three places (goods)
    PERCENT = "percent"  # Decimal percent, e.g. 12.5 for 12.5 %


NUMERIC_TYPES = frozenset({ColumnType.INT, ColumnType.MONEY, ColumnType.QUANTITY, ColumnType.PERCENT})


@dataclass(frozen=True)
class Column:
    """One column of a section.

    ``header`` is the Chinese name without its unit: the report appends （元）, （万元） or （%）.
    ``wan``: a money column the seeds show in 万元 gets a second column in 万元 next to it.
    ``total``: whether the totals row sums it (default: int and money columns do).
    ``compare``: whether the annual report compares it with the previous year (numeric columns).
    """

    key: str
    header: Any  # str or lazy translation
    type: ColumnType = ColumnType.TEXT
    wan: bool = False
    total: bool | None = None
    compare: bool = True

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def summed(self) -> bool:
        if self.total is not None:
            return self.total and self.type != ColumnType.TEXT
        return self.type in (ColumnType.INT, ColumnType.MONEY)


@dataclass(frozen=True)
class Target:
    """Targets vs actuals for the annual report: ``values`` maps a row key to the target of ``column``."""

    column: str
    values: TargetsFunction
    header: Any = None  # default: 目标


@dataclass(frozen=True)
class Chart:
    """A bar chart in the PDF: one bar per row, ``label`` column against ``value`` column."""

    label: str
    value: str
    limit: int = 12


@dataclass(frozen=True)
class Section:
    key: str
    title: Any
    columns: tuple[Column, ...]
    rows: RowsFunction
    order: int = 100
    description: Any = ""
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({BranchScope.OWN, BranchScope.SYSTEM}))
    compare: bool = True
    row_key: tuple[str, ...] | None = None
    target: Target | None = None
    chart: Chart | None = None

    def __post_init__(self) -> None:
        keys = [column.key for column in self.columns]
        if not keys or len(set(keys)) != len(keys):
            raise ImproperlyConfigured(f"report section {self.key}: column keys must be present and unique")
        if self.target and self.target.column not in keys:
            raise ImproperlyConfigured(f"report section {self.key}: target column {self.target.column} is unknown")
        if self.chart and not {self.chart.label, self.chart.value} <= set(keys):
            raise ImproperlyConfigured(f"report section {self.key}: chart columns must be columns")

    def applies_to(self, scope: str) -> bool:
        return str(BranchScope(scope)) in {str(s) for s in self.scopes}

    def key_of(self, row: Mapping[str, Any]) -> tuple:
        """What identifies a row across periods (previous year, targets): ``row_key`` or the text columns."""
        keys = self.row_key or tuple(c.key for c in self.columns if c.type == ColumnType.TEXT)
        return tuple(row.get(key) for key in keys)


class SectionRegistry:
    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}

    def register(self, section: Section) -> Section:
        existing = self._sections.get(section.key)
        if existing is not None and _origin(existing.rows) != _origin(section.rows):
            raise ImproperlyConfigured(f"report section {section.key} is registered twice")
        self._sections[section.key] = section
        return section

    def unregister(self, key: str) -> None:
        self._sections.pop(key, None)

    def get(self, key: str) -> Section:
        return self._sections[key]

    def sections(self, scope: str | None = None) -> list[Section]:
        """Registered sections in report order, only those that apply to ``scope`` when given."""
        found = sorted(self._sections.values(), key=lambda s: (s.order, s.key))
        return [s for s in found if scope is None or s.applies_to(scope)]

    def __contains__(self, key: object) -> bool:
        return key in self._sections

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections())

    def __len__(self) -> int:
        return len(self._sections)


def _origin(function: Callable) -> tuple[str, str]:
    return getattr(function, "__module__", ""), getattr(function, "__qualname__", repr(function))


registry = SectionRegistry()


def report_section(
    *, key: str, title: Any, columns: Iterable[Column], order: int = 100, **options: Any
) -> Callable[[RowsFunction], RowsFunction]:
    """Register the decorated rows function as a section (options: see ``Section``)."""

    def decorate(rows: RowsFunction) -> RowsFunction:
        registry.register(Section(key=key, title=title, columns=tuple(columns), rows=rows, order=order, **options))
        return rows

    return decorate


# --- figures shared by several sections of one report ---------------------------------------------

_report_cache: ContextVar[dict | None] = ContextVar("report_cache", default=None)


def report_memo(key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per report: sections that group the same aggregate differently share it.

    While a report's sections run, the report keeps a cache (``reports.selectors``); outside a
    report (a section called directly) this simply computes. ``key`` must name everything the
    result depends on, e.g. ``("donations.intake", period, branch.pk, scope)``.
    """
    cache = _report_cache.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def iterate_with_cache(rows: Callable[[], Iterable[Any]], cache: dict) -> Iterator[Any]:
    """Iterate ``rows()`` with ``cache`` as the report cache around every step (also for generators)."""
    token = _report_cache.set(cache)
    try:
        iterator = iter(rows())
    finally:
        _report_cache.reset(token)
    while True:
        token = _report_cache.set(cache)
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            _report_cache.reset(token)
        yield item

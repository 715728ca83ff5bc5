"""Building a report: the registered sections for a period, a branch and a scope, with totals.

``report_build`` returns a ``Report`` at once; each section's selector runs when an exporter
iterates its rows (``SectionResult.iter_rows``), one section at a time, so an export holds one
section's aggregated rows at most. The monthly report (月报) shows the sections' columns, money
also in 万元 where a column asks for it. The annual report (年报) adds, per numeric column, the
previous year's figure and the change in per cent, and targets against actuals where a section
declares a target.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from redcross.models import Branch
from redcross.money import to_wan
from redcross.scoping import within_branch_ids
from redcross.selectors import BranchScope
from reports.models import ExportStatus, ReportExport
from reports.periods import PeriodKind, ReportPeriod
from reports.registry import Column, ColumnType, Section, iterate_with_cache, registry

__all__ = ["OutputColumn", "Report", "ReportPeriod", "SectionResult", "report_build"]

FEN = Decimal("0.01")
TENTH = Decimal("0.1")

NUMBER_FORMATS = {
    ColumnType.INT: "#,##0",
    ColumnType.MONEY: "#,##0.00",
    ColumnType.QUANTITY: "#,##0.###",
    ColumnType.PERCENT: "0.0",
}


@dataclass(frozen=True)
class OutputColumn:
    """A column as exported: a section's column, or one the report derives from it.

    ``compute`` derives the value from the row's values (also applied to the totals);
    ``summed`` columns are added up in the totals row.
    """

    key: str
    header: str
    type: ColumnType
    summed: bool = False
    compute: Callable[[dict[str, Any]], Any] | None = None
    unit: str = ""  # "元", "万元" or "%"

    @property
    def number_format(self) -> str | None:
        return NUMBER_FORMATS.get(self.type)

    @property
    def is_numeric(self) -> bool:
        return self.type != ColumnType.TEXT

    def value(self, values: dict[str, Any]) -> Any:
        return self.compute(values) if self.compute else values.get(self.key)


def _normalise(column_type: ColumnType, value: Any) -> Any:
    if value is None:
        return None
    if column_type == ColumnType.INT:
        return int(value)
    if column_type == ColumnType.MONEY:
        return Decimal(value).quantize(FEN) + 0  # + 0 turns -0.00 into 0.00
    if column_type == ColumnType.QUANTITY:
        quantity = Decimal(value).quantize(Decimal("0.001")) + 0
        return quantity.quantize(Decimal(1)) if quantity == quantity.to_integral_value() else quantity.normalize()
    if column_type == ColumnType.PERCENT:
        return Decimal(value).quantize(TENTH)
    return "" if value is None else str(value)


def _zero(column_type: ColumnType) -> Any:
    return {ColumnType.INT: 0, ColumnType.MONEY: Decimal("0.00"), ColumnType.QUANTITY: Decimal("0")}.get(column_type)


def _headed(column: Column, unit: str = "") -> str:
    header = str(column.header)
    return f"{header}（{unit}）" if unit else header


def _unit(column_type: ColumnType) -> str:
    return {ColumnType.MONEY: gettext("元"), ColumnType.PERCENT: "%"}.get(column_type, "")


def _percent(part: Any, whole: Any) -> Decimal | None:
    if part is None or whole in (None, 0):
        return None
    try:
        return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH)
    except (InvalidOperation, ZeroDivisionError):
        return None


def _change(current: Any, previous: Any) -> Decimal | None:
    if current is None or previous in (None, 0):
        return None
    return _percent(Decimal(current) - Decimal(previous), previous)


def _wan_of(key: str) -> Callable[[dict[str, Any]], Any]:
    def compute(values: dict[str, Any]) -> Any:
        value = values.get(key)
        return None if value is None else to_wan(value)

    return compute


def _change_of(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda values: _change(values.get(key), values.get(f"prev:{key}"))


def _completion_of(key: str) -> Callable[[dict[str, Any]], Any]:
    # in the totals row, only the actuals of rows that have a target count ("target:actual")
    return lambda values: _percent(values.get("target:actual", values.get(key)), values.get("target"))


def output_columns(section: Section, *, annual: bool) -> list[OutputColumn]:
    """The columns an export shows for ``section``: its own, 万元 twins, previous year, targets."""
    out: list[OutputColumn] = []
    compare = annual and section.compare
    for column in section.columns:
        unit = _unit(column.type)
        out.append(OutputColumn(column.key, _headed(column, unit), column.type, column.summed, unit=unit))
        if column.type == ColumnType.MONEY and column.wan:
            wan = gettext("万元")
            out.append(
                OutputColumn(
                    f"{column.key}:wan", _headed(column, wan), column.type, compute=_wan_of(column.key), unit=wan
                )
            )
        if compare and column.is_numeric and column.compare and column.type != ColumnType.PERCENT:
            previous = gettext("上年%(header)s") % {"header": column.header}
            out.append(
                OutputColumn(
                    f"prev:{column.key}",
                    f"{previous}（{unit}）" if unit else previous,
                    column.type,
                    column.summed,
                    unit=unit,
                )
            )
            out.append(
                OutputColumn(
                    f"change:{column.key}",
                    gettext("%(header)s同比增减（%%）") % {"header": column.header},
                    ColumnType.PERCENT,
                    compute=_change_of(column.key),
                    unit="%",
                )
            )
        if annual and section.target and section.target.column == column.key:
            target_unit = _unit(column.type)
            target_header = str(section.target.header or gettext("目标"))
            out.append(
                OutputColumn(
                    "target",
                    f"{target_header}（{target_unit}）" if target_unit else target_header,
                    column.type,
                    column.summed,
                    unit=target_unit,
                )
            )
            out.append(
                OutputColumn(
                    "completion",
                    gettext("完成率（%）"),
                    ColumnType.PERCENT,
                    compute=_completion_of(column.key),
                    unit="%",
                )
            )
    return out


@dataclass
class SectionResult:
    """One section of a report. ``iter_rows`` runs the selector and yields export rows (lists of
    values in column order); once it is exhausted, ``totals`` holds the totals row."""

    section: Section
    report: Report
    columns: list[OutputColumn]
    totals: list[Any] | None = None
    row_count: int = 0

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def title(self) -> str:
        return str(self.section.title)

    @property
    def description(self) -> str:
        return str(self.section.description or "")

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def _source_rows(self) -> Iterator[dict[str, Any]]:
        section, report = self.section, self.report
        typed = {column.key: column.type for column in section.columns}

        def values_of(row: dict[str, Any]) -> dict[str, Any]:
            return {key: _normalise(column_type, row.get(key)) for key, column_type in typed.items()}

        compare = report.is_annual and section.compare
        previous: dict[tuple, dict[str, Any]] = {}
        if compare:
            last_year = report.period.previous_year()
            for row in iterate_with_cache(lambda: section.rows(last_year, report.branch, report.scope), report.cache):
                previous[section.key_of(row)] = values_of(row)
        targets = {}
        if report.is_annual and section.target:
            targets = section.target.values(report.period, report.branch, report.scope)
        seen: set[tuple] = set()
        current = iterate_with_cache(lambda: section.rows(report.period, report.branch, report.scope), report.cache)
        for row in current:
            values = values_of(row)
            key = section.key_of(row)
            seen.add(key)
            if compare:
                old = previous.get(key)
                for name, column_type in typed.items():
                    if column_type not in (ColumnType.TEXT, ColumnType.PERCENT):
                        values[f"prev:{name}"] = old[name] if old is not None else _zero(column_type)
            if targets:
                values["target"] = targets.get(key)
            yield values
        # rows of last year that have nothing this year still show, with zeros this year
        for key, old in previous.items():
            if key in seen:
                continue
            values = {
                name: (old[name] if column_type == ColumnType.TEXT else _zero(column_type))
                for name, column_type in typed.items()
            }
            values.update({f"prev:{name}": value for name, value in old.items() if typed[name] != ColumnType.TEXT})
            if targets:
                values["target"] = targets.get(key)
            yield values

    def iter_rows(self) -> Iterator[list[Any]]:
        sums: dict[str, Any] = {}
        self.row_count = 0
        for values in self._source_rows():
            self.row_count += 1
            row = []
            for column in self.columns:
                value = column.value(values)
                if column.summed and value is not None:
                    sums[column.key] = sums.get(column.key, 0) + value
                row.append(value)
            target = self.section.target
            if values.get("target") is not None and target is not None and values.get(target.column) is not None:
                sums["target:actual"] = sums.get("target:actual", 0) + values[target.column]
            yield row
        self.totals = self._totals(sums)

    def _totals(self, sums: dict[str, Any]) -> list[Any]:
        sums = {**sums, **{c.key: sums.get(c.key, _zero(c.type)) for c in self.columns if c.summed}}
        totals: list[Any] = []
        labelled = False
        for column in self.columns:
            if column.summed:
                totals.append(sums[column.key])
            elif column.compute is not None:
                totals.append(column.value(sums))
            elif column.type == ColumnType.TEXT and not labelled:
                totals.append(gettext("合计"))
                labelled = True
            else:
                totals.append(None)
        return totals

    @cached_property
    def rows(self) -> list[list[Any]]:
        """All rows at once (for the PDF and for tests); runs the selector once."""
        return list(self.iter_rows())

    @property
    def has_totals(self) -> bool:
        return any(column.summed for column in self.columns)


@dataclass
class Report:
    period: ReportPeriod
    branch: Branch
    scope: str
    generated_at: datetime
    sections: list[SectionResult] = field(default_factory=list)
    # aggregates shared by sections while this report is exported (reports.registry.report_memo)
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def is_annual(self) -> bool:
        return self.period.kind == PeriodKind.YEAR

    @property
    def scope_label(self) -> str:
        return str(BranchScope(self.scope).label)

    @property
    def title(self) -> str:
        return gettext("%(branch)s%(period)s%(kind)s（%(scope)s）") % {
            "branch": self.branch.name,
            "period": self.period.label,
            "kind": self.period.kind_label,
            "scope": self.scope_label,
        }

    @property
    def filename_stem(self) -> str:
        return f"{self.branch.code}-{self.period.value}-{self.scope}"

    def section(self, key: str) -> SectionResult:
        return next(result for result in self.sections if result.key == key)


def report_build(
    *,
    period: ReportPeriod,
    branch: Branch,
    scope: str = BranchScope.SYSTEM,
    sections: list[Section] | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The report of ``branch`` (本级 or 全市系统) for ``period``, every registered section that
    applies to the scope; the sections' rows are computed when iterated."""
    scope = BranchScope(scope).value
    report = Report(period=period, branch=branch, scope=scope, generated_at=generated_at or timezone.now())
    chosen = sections if sections is not None else registry.sections(scope)
    annual = report.is_annual
    report.sections = [
        SectionResult(section=section, report=report, columns=output_columns(section, annual=annual))
        for section in chosen
        if section.applies_to(scope)
    ]
    return report


def failed_exports(*, branch_ids: Collection[int] | None) -> QuerySet[ReportExport]:
    """Report exports whose generation failed, in the given branches (None: all)."""
    return within_branch_ids(ReportExport.objects.filter(status=ExportStatus.FAILED), branch_ids)

"""Report files: XLSX (one sheet per section), CSV (a zip, one file per section), PDF (tables and
bar charts drawn as inline SVG on the server; no JavaScript).

Every writer takes a ``Report`` (``reports.selectors.report_build``) and a binary file object,
and walks the sections one at a time: XLSX is a write-only workbook (rows go straight to its
temporary sheet files) and CSV rows go straight into the zip, so memory stays flat whatever the
number of donations behind the figures. Text cells pass through ``safe_cell`` so that a name
starting with = + - @ never runs as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from donations.exports import safe_cell
from redcross.money import format_yuan
from reports.registry import ColumnType
from reports.selectors import OutputColumn, Report, SectionResult

__all__ = ["CONTENT_TYPES", "FORMATS", "bar_chart_svg", "write_csv_zip", "write_pdf", "write_report", "write_xlsx"]

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
    "pdf": "application/pdf",
}
FORMATS = tuple(CONTENT_TYPES)
EXTENSIONS = {"xlsx": "xlsx", "csv": "zip", "pdf": "pdf"}

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def write_report(report: Report, fmt: str, out: BinaryIO) -> None:
    writers: dict[str, Callable[[Report, BinaryIO], None]] = {
        "xlsx": write_xlsx,
        "csv": write_csv_zip,
        "pdf": write_pdf,
    }
    if fmt not in writers:
        raise ValueError(f"unknown report format: {fmt}")
    writers[fmt](report, out)


def _facts(report: Report) -> list[tuple[str, str]]:
    return [
        (gettext("报表"), report.title),
        (gettext("组织"), report.branch.name),
        (gettext("范围"), report.scope_label),
        (gettext("期间"), report.period.label),
        (gettext("类型"), report.period.kind_label),
        (gettext("制表时间"), f"{timezone.localtime(report.generated_at):%Y-%m-%d %H:%M}"),
        (gettext("金额单位"), gettext("元（两位小数，到分）；万元列为元金额除以一万，四舍五入到两位小数")),
    ]


# --- XLSX -----------------------------------------------------------------------------------------


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("_", title).strip("'") or "Sheet"
    candidate, n = base[:31], 2
    while candidate in taken:
        suffix = f"({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def write_xlsx(report: Report, out: BinaryIO) -> None:
    workbook = Workbook(write_only=True)
    workbook.properties.title = report.title
    workbook.properties.creator = report.branch.name
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    taken: set[str] = set()

    cover = workbook.create_sheet(_sheet_title(gettext("报表说明"), taken))
    cover.column_dimensions["A"].width = 14
    cover.column_dimensions["B"].width = 80
    for label, value in _facts(report):
        cover.append([_cell(cover, label, font=bold), _cell(cover, value)])
    cover.append([])
    cover.append([_cell(cover, gettext("工作表"), font=bold), _cell(cover, gettext("说明"), font=bold)])
    for result in report.sections:
        cover.append([_cell(cover, result.title), _cell(cover, result.description, alignment=wrap)])

    for result in report.sections:
        sheet = workbook.create_sheet(_sheet_title(result.title, taken))
        sheet.freeze_panes = "A2"
        for index, column in enumerate(result.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = 14 if column.is_numeric else 24
        sheet.append([_cell(sheet, header, font=bold, alignment=wrap) for header in result.headers])
        for row in result.iter_rows():
            sheet.append([_cell(sheet, value, column) for value, column in zip(row, result.columns, strict=True)])
        if result.has_totals and result.totals is not None:
            sheet.append(
                [
                    _cell(sheet, value, column, font=bold)
                    for value, column in zip(result.totals, result.columns, strict=True)
                ]
            )
    workbook.save(out)


def _cell(sheet, value: Any, column: OutputColumn | None = None, *, font=None, alignment=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=safe_cell(value))
    if column is not None and column.number_format and not isinstance(value, str):
        cell.number_format = column.number_format
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    return cell


# --- CSV (zip) --------------------------------------------------------------------------------------


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return safe_cell(str(value))


def csv_name(index: int, result: SectionResult) -> str:
    return f"{index:02d}-{result.key}.csv"


def write_csv_zip(report: Report, out: BinaryIO) -> None:
    """One UTF-8 CSV with BOM per section (Excel opens it in Chinese), header row first, totals last."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        facts = io.StringIO()
        writer = csv.writer(facts)
        writer.writerows(_facts(report))
        writer.writerow([])
        for index, result in enumerate(report.sections, start=1):
            writer.writerow([csv_name(index, result), result.title, result.description])
        archive.writestr("00-readme.csv", "\ufeff" + facts.getvalue())
        for index, result in enumerate(report.sections, start=1):
            with archive.open(csv_name(index, result), "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                writer = csv.writer(text)
                writer.writerow(result.headers)
                for row in result.iter_rows():
                    writer.writerow([_csv_value(value) for value in row])
                if result.has_totals and result.totals is not None:
                    writer.writerow([_csv_value(value) for value in result.totals])
                text.flush()
                text.detach()


# --- PDF ------------------------------------------------------------------------------------------


def display(value: Any, column: OutputColumn) -> str:
    """A figure as the PDF shows it: 12,345.67 for money, 1,234 for counts, 12.5 for per cent."""
    if value is None or value == "":
        return "—" if column.is_numeric else ""
    if column.type == ColumnType.MONEY:
        return format_yuan(value)
    if column.type == ColumnType.INT:
        return f"{value:,}"
    if column.type == ColumnType.QUANTITY:
        return f"{value:,f}"
    if column.type == ColumnType.PERCENT:
        return f"{value:.1f}"
    return str(value)


def bar_chart_svg(items: list[tuple[str, Decimal]], *, unit: str = "", limit: int = 12) -> str:
    """A horizontal bar chart as inline SVG markup (escaped labels), largest first; "" with no data."""
    bars = sorted(((label, value) for label, value in items if value and value > 0), key=lambda p: -p[1])[:limit]
    if not bars:
        return ""
    label_width, value_width, chart_width, bar, gap = 210, 130, 560, 16, 6
    width = label_width + chart_width + value_width
    height = gap + len(bars) * (bar + gap)
    largest = max(value for _label, value in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Noto Sans SC GBK" font-size="11">'
    ]
    for index, (label, value) in enumerate(bars):
        y = gap + index * (bar + gap)
        length = max(1.0, float(value / largest) * chart_width)
        short = label if len(label) <= 16 else label[:15] + "…"
        figure = format_yuan(value) if isinstance(value, Decimal) else f"{value:,}"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar - 4}" text-anchor="end">{escape(short.strip())}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="#c8102e"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 4}" fill="#333">'
            f"{escape(figure)} {escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def pdf_context(report: Report) -> dict[str, Any]:
    sections = []
    for result in report.sections:
        rows = result.rows
        columns = result.columns
        chart = ""
        spec = result.section.chart
        if spec is not None:
            label_at = next(i for i, c in enumerate(columns) if c.key == spec.label)
            value_at = next(i for i, c in enumerate(columns) if c.key == spec.value)
            chart = bar_chart_svg(
                [(str(row[label_at]), row[value_at]) for row in rows],
                unit=columns[value_at].unit,
                limit=spec.limit,
            )
        sections.append(
            {
                "title": result.title,
                "description": result.description,
                "columns": columns,
                "rows": [[(display(v, c), c.is_numeric) for v, c in zip(row, columns, strict=True)] for row in rows],
                "totals": (
                    [(display(v, c), c.is_numeric) for v, c in zip(result.totals, columns, strict=True)]
                    if result.has_totals and result.totals is not None
                    else None
                ),
                "chart": mark_safe(chart),  # noqa: S308  (built here with every label escaped)
                "wide": len(columns) > 12,
            }
        )
    return {"report": report, "facts": _facts(report), "sections": sections, "branch_name": report.branch.name}


def write_pdf(report: Report, out: BinaryIO) -> None:
    from redcross.pdf import render_pdf

    out.write(render_pdf("reports/report.html", pdf_context(report)))

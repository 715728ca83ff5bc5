"""Reading reports and their files back in tests."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from reports.exports import write_report
from reports.selectors import Report


def table(report: Report, key: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A section's rows as dicts keyed by output column, and its totals row (None without totals)."""
    result = report.section(key)
    keys = [column.key for column in result.columns]
    rows = [dict(zip(keys, row, strict=True)) for row in result.rows]
    totals = dict(zip(keys, result.totals, strict=True)) if result.has_totals else None
    return rows, totals


def export_bytes(report: Report, fmt: str) -> bytes:
    buffer = io.BytesIO()
    write_report(report, fmt, buffer)
    return buffer.getvalue()


def read_xlsx(content: bytes) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(io.BytesIO(content))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}


def read_csv_zip(content: bytes) -> dict[str, list[list[str]]]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            raw = archive.read(name)
            assert raw.startswith(b"\xef\xbb\xbf"), f"{name} has no UTF-8 BOM"
            out[name] = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    return out


def money(value: Any) -> Decimal:
    """A figure read back from a file as Decimal yuan (XLSX gives floats, CSV strings)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))

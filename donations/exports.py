"""XLSX exports of the donations app (write-only workbooks, Chinese headers, yuan formats)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from donations.selectors import DailyIntakeReport

YUAN_FORMAT = "#,##0.00"


def safe_cell(value):
    """Neutralise text that a spreadsheet would run as a formula (=, +, -, @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def daily_report_xlsx(report: DailyIntakeReport) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{report.day:%Y-%m-%d} 日报")
    bold = Font(bold=True)
    header = [
        "募捐活动",
        "类型",
        "当日笔数",
        "当日捐款（元）",
        "当日物资价值（元）",
        "累计笔数",
        "累计捐款（元）",
        "累计物资价值（元）",
    ]
    from openpyxl.cell import WriteOnlyCell

    def row_cells(values, *, font=None):
        cells = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            if index in (3, 4, 6, 7):
                cell.number_format = YUAN_FORMAT
            if font:
                cell.font = font
            cells.append(cell)
        return cells

    sheet.append(row_cells(header, font=bold))
    for row in [*report.rows, report.totals]:
        sheet.append(
            row_cells(
                [row.campaign, row.kind, row.today_count, row.today_cash, row.today_goods_value,
                 row.total_count, row.total_cash, row.total_goods_value]
            )
        )  # fmt: skip
    sheet.append([])
    sheet.append(
        row_cells(
            ["待复核捐款笔数", report.unconfirmed_cash_count, "待复核捐款金额（元）", report.unconfirmed_cash_amount]
        )
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""XLSX exports of the donations app (write-only workbooks, Chinese headers, yuan formats)."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.styles import Font

from donations.selectors import DailyIntakeReport
from donations.selectors.warehouse import Ledger

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


def ledger_xlsx(ledger: Ledger) -> bytes:
    """台账 as XLSX (write-only): a title block, then one row per movement with the running balance.
    Text is neutralised so that nothing a donor typed runs as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext("物资台账"))
    bold = Font(bold=True)

    def cells(values, *, font=None, quantity_columns=()):
        row = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            if index in quantity_columns:
                cell.number_format = "#,##0.###"
            if font:
                cell.font = font
            row.append(cell)
        return row

    sheet.append(cells([gettext("仓库"), ledger.warehouse.name], font=bold))
    sheet.append(cells([gettext("物资名称"), ledger.name]))
    sheet.append(cells([gettext("规格型号"), ledger.specification]))
    sheet.append(cells([gettext("单位"), ledger.unit]))
    sheet.append([])
    sheet.append(
        cells(
            [gettext("日期"), gettext("单号"), gettext("摘要"), gettext("捐赠流水号"), gettext("收入"),
             gettext("发出"), gettext("结存"), gettext("受赠单位 / 对方仓库"), gettext("原因"),
             gettext("经办保管员"), gettext("复核保管员")],
            font=bold,
        )
    )  # fmt: skip
    for row in ledger.rows:
        sheet.append(
            cells(
                [timezone.localtime(row.moved_at).replace(tzinfo=None), row.serial, row.kind_label,
                 row.donation_serial, row.quantity_in, row.quantity_out, row.balance, row.counterpart, row.reason,
                 row.recorded_by, row.confirmed_by],
                quantity_columns=(4, 5, 6),
            )
        )  # fmt: skip
    sheet.append(
        cells(
            [gettext("合计"), "", "", "", ledger.total_in, ledger.total_out, ledger.balance],
            font=bold,
            quantity_columns=(4, 5, 6),
        )
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

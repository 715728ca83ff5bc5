"""Bank account statement (银行对账单 / 账户明细), CSV (UTF-8 or GBK) or XLSX.

Banks name their columns differently; the importer looks for the header in the
first 30 rows (title and account lines above it are ignored) and accepts these
column names (one of each line; the first is the canonical one):

==============  ====================================================  ===========================
field           accepted column names                                 use
==============  ====================================================  ===========================
交易日期        交易日期, 记账日期, 入账日期, 日期                    required
交易时间        交易时间, 时间, 记账时间                              optional; may hold date+time
流水号          流水号, 交易流水号, 银行流水号, 凭证号, 交易参考号    required; the transaction id
对方户名        对方户名, 对方账户名称, 对方名称, 付款人名称,         the donor's name
                付款方户名, 对方户名称
对方账号        对方账号, 对方账户, 付款人账号, 付款方账号            kept in the note
贷方发生额      贷方发生额, 收入金额, 收入, 贷方金额, 存入金额        income = a donation
借方发生额      借方发生额, 支出金额, 支出, 借方金额, 支取金额        outflow: skipped "支出，非捐赠"
交易金额        交易金额, 发生额, 金额                                with 借贷标志, instead of the two above
借贷标志        借贷标志, 借贷方向, 收支标志, 收支方向                贷/收/收入/C = income, 借/支/支出/D = outflow
摘要            摘要, 用途, 附言, 备注, 交易附言                      kept in the note
==============  ====================================================  ===========================

Either 贷方发生额 or (交易金额 and 借贷标志) must be present. A row with money out is
skipped with the reason "支出，非捐赠"; a row whose first cell starts with 合计/总计/
本页合计/累计 is skipped as a total line. The donor is the 对方户名 (one person donor
per name; "银行转账捐赠人" when empty).

Caveat: some banks number 流水号 per day only. Statements of such banks must be
imported from an export whose 流水号 is unique (e.g. 交易参考号), or two transfers
with the same number on different days are taken for one.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from donations.imports.base import (
    MAX_ACCOUNT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REMARK_LENGTH,
    ImportFileError,
    ParsedRow,
    ParsedStatement,
    RowError,
    RowReader,
    check_columns,
    clean_text,
    csv_rows,
    decode_text,
    find_header,
    is_blank,
    is_xlsx,
    parse_amount,
    parse_date_and_time,
    xlsx_rows,
    xlsx_sheets,
)
from donations.models import Channel

FORMAT_LABEL = "银行对账单"
DEFAULT_PAYER_NAME = "银行转账捐赠人"

COLUMNS = {
    "date": ("交易日期", "记账日期", "入账日期", "日期"),
    "time": ("交易时间", "时间", "记账时间"),
    "serial": ("流水号", "交易流水号", "银行流水号", "凭证号", "交易参考号"),
    "payer_name": ("对方户名", "对方账户名称", "对方名称", "付款人名称", "付款方户名", "对方户名称"),
    "payer_account": ("对方账号", "对方账户", "付款人账号", "付款方账号"),
    "credit": ("贷方发生额", "收入金额", "收入", "贷方金额", "存入金额"),
    "debit": ("借方发生额", "支出金额", "支出", "借方金额", "支取金额"),
    "amount": ("交易金额", "发生额", "金额"),
    "direction": ("借贷标志", "借贷方向", "收支标志", "收支方向"),
    "summary": ("摘要", "用途", "附言", "备注", "交易附言"),
}
REQUIRED = ("date", "serial", ("credit", "amount"))
TOTAL_PREFIXES = ("合计", "总计", "本页合计", "累计", "本期合计")
INCOME = {"贷", "收", "收入", "贷方", "C", "CR"}
OUTFLOW = {"借", "支", "支出", "借方", "D", "DR"}


def _is_zero(value) -> bool:
    if value is None:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    text = str(value).strip().replace(",", "")
    if text in ("", "-", "--"):
        return True
    try:
        return float(text) == 0
    except ValueError:
        return False


def _money_in(reader: RowReader, line: int, statement: ParsedStatement):
    """The income of the row, or None after recording an outflow as skipped."""
    if reader.has("credit"):
        credit, debit = reader.raw("credit"), reader.raw("debit")
        if not _is_zero(debit) and _is_zero(credit):
            statement.skipped.append((line, _("支出，非捐赠")))
            return None
        if _is_zero(credit):
            raise RowError(_("没有收入金额"))
        return parse_amount(credit, _l("贷方发生额"))
    direction = reader.text("direction").upper()
    if direction in OUTFLOW:
        statement.skipped.append((line, _("支出，非捐赠")))
        return None
    if direction not in INCOME:
        raise RowError(_("借贷标志不正确：%(d)s") % {"d": direction[:10] or "（空）"})
    return parse_amount(reader.raw("amount"), _l("交易金额"))


def _row(reader: RowReader, line: int, statement: ParsedStatement) -> ParsedRow | None:
    check_columns(reader)
    first = next((str(cell).strip() for cell in reader.cells if cell not in (None, "")), "")
    if first.startswith(TOTAL_PREFIXES):
        statement.skipped.append((line, _("合计行")))
        return None
    if reader.has("direction") and not reader.has("amount") and not reader.has("credit"):
        raise RowError(_("缺少交易金额"))
    amount = _money_in(reader, line, statement)
    if amount is None:
        return None
    serial = clean_text(reader.text("serial"), label=_l("流水号"), max_length=64)
    if not serial:
        raise RowError(_("缺少流水号"))
    received_at = parse_date_and_time(reader.raw("date"), reader.raw("time"), _l("交易日期"))
    name = clean_text(reader.text("payer_name"), label=_l("对方户名"), max_length=MAX_NAME_LENGTH)
    account = clean_text(reader.text("payer_account"), label=_l("对方账号"), max_length=MAX_ACCOUNT_LENGTH)
    summary = clean_text(reader.text("summary"), label=_l("摘要"), max_length=MAX_REMARK_LENGTH, multiline=True)
    return ParsedRow(
        line=line,
        transaction_id=serial,
        received_at=received_at,
        amount=amount,
        payer_name=name,
        payer_account=account,
        remark=summary,
    )


def _rows_of(data: bytes):
    """(row iterator, encoding label) of the CSV text, or of the first XLSX sheet that has a header."""
    if not is_xlsx(data):
        text, encoding = decode_text(data)
        return csv_rows(text), encoding
    sheets = xlsx_sheets(data).worksheets
    if not sheets:
        raise ImportFileError(_("XLSX 文件没有工作表"))
    for sheet in sheets:
        try:
            find_header(xlsx_rows(sheet), columns=COLUMNS, required=REQUIRED, format_label=FORMAT_LABEL)
        except ImportFileError:
            continue
        return xlsx_rows(sheet), ""
    return xlsx_rows(sheets[0]), ""  # parse() reports what the header of the first sheet lacks


def parse(data: bytes) -> ParsedStatement:
    rows, encoding = _rows_of(data)
    header = find_header(rows, columns=COLUMNS, required=REQUIRED, format_label=FORMAT_LABEL, encoding=encoding)
    statement = ParsedStatement(channel=Channel.BANK, source=FORMAT_LABEL, default_payer_name=DEFAULT_PAYER_NAME)
    for line, cells in rows:
        if is_blank(cells):
            continue
        reader = RowReader(header, cells)
        try:
            row = _row(reader, line, statement)
        except RowError as exc:
            statement.rejected.append((line, exc.reason))
            continue
        if row is not None:
            statement.rows.append(row)
    return statement

"""Bank account statements (银行对账单 / 账户明细), CSV (UTF-8 or GBK) or XLSX, as the banks'
corporate online banking exports them, or laid out as a saved column mapping says.

How the header is found, in the first 30 rows (title and account lines above it are ignored;
for XLSX, the first sheet that has one):

1. a saved column mapping (``donations.StatementMapping``) made for exactly this header row;
2. else the column names below, compared after removing units and suffixes in brackets
   (贷方发生额（收入） is 贷方发生额, 余额(元) is 余额). When a row has two names of one field, the
   earlier name in the list wins (交易流水号 before 凭证号);
3. else the file is rejected whole with ``HeaderNotRecognised``, which carries its first rows
   so staff can map its columns once in the admin.

==============  =====================================================================  ===================
field           accepted column names                                                  use
==============  =====================================================================  ===================
交易日期        交易日期, 记账日期, 入账日期, 日期, 交易日, 记账日, 会计日期           date (or 交易时间)
交易时间        交易时间, 时间, 记账时间, 交易日期时间, 入账时间, 发生时间, 交易时刻   time, or date and time
流水号          交易流水号, 流水号, 银行流水号, 账户明细编号-交易流水号, 核心流水号,   required: the id
                柜员流水号, 交易序号, 业务流水号, 日志号, 交易参考号, 凭证号,
                凭证号码
对方户名        对方户名, 对方单位名称, 对方账户名称, 对方名称, 对方单位, 对方账户名,   the donor
                对方户名称, 付款人名称, 付款方户名, 付款人户名, 付款方名称,
                收/付方名称, 收付款人名称, 对手户名, 交易对手名称
对方账号        对方账号, 对方账户, 对方卡号, 付款人账号, 付款方账号, 收/付方账号,      note
                对手账号, 交易对手账号
贷方发生额      贷方发生额, 贷方金额, 收入金额, 收入, 存入金额, 贷方, 来账金额          income: a donation
借方发生额      借方发生额, 借方金额, 支出金额, 支出, 支取金额, 借方, 往账金额          outflow: skipped
交易金额        交易金额, 发生额, 金额                                                 with 借贷标志
借贷标志        借贷标志, 借贷方向, 借/贷, 借贷, 收支标志, 收支方向, 借贷标识, 收/支,  贷/收/C income,
                来往账标识, 交易方向                                                   借/支/D outflow
余额            余额, 账户余额, 交易后余额, 本次余额, 联机余额, 当前余额              checked row by row
摘要            摘要, 交易摘要, 业务摘要 / 用途, 交易用途, 附言, 交易附言 / 备注,       note (all three)
                个性化信息
==============  =====================================================================  ===================

Either 贷方发生额, or 交易金额 with 借贷标志, must be present (a signed amount without a
direction column is read only through a saved mapping, where staff say so). A date-and-time
column alone is enough. A row with money out is skipped as "支出，非捐赠"; a row whose first cells
say 合计/总计/本页合计/累计/… is skipped as a total line; a line with only one text cell (导出时间,
注：…) is skipped as a note. Running balances are checked where the file has them: a jump the rows
do not explain is a warning naming the line. The donor is the 对方户名 (one person donor per
name; "银行转账捐赠人" when empty).

Caveat: some banks number 流水号 per day only. Statements of such banks must be imported from an
export whose id is unique (e.g. 交易参考号), or two transfers with the same number on different
days are taken for one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import chain, islice
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from donations.imports.base import (
    HEADER_SCAN_ROWS,
    MAX_ACCOUNT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REMARK_LENGTH,
    ColumnMapping,
    Header,
    HeaderNotRecognised,
    ImportFileError,
    ParsedRow,
    ParsedStatement,
    RowError,
    RowReader,
    check_columns,
    check_running_balances,
    clean_text,
    csv_rows,
    decode_text,
    find_header,
    find_mapped_header,
    is_blank,
    is_xlsx,
    normalise_header,
    optional_amount,
    parse_date_and_time,
    parse_datetime,
    preview_rows,
    xlsx_rows,
    xlsx_sheets,
)
from donations.models import Channel

FORMAT_LABEL = "银行对账单"
DEFAULT_PAYER_NAME = "银行转账捐赠人"

COLUMNS = {
    "date": ("交易日期", "记账日期", "入账日期", "日期", "交易日", "记账日", "会计日期"),
    "time": ("交易时间", "时间", "记账时间", "交易日期时间", "入账时间", "发生时间", "交易时刻"),
    "serial": (
        "交易流水号", "流水号", "银行流水号", "账户明细编号-交易流水号", "核心流水号", "柜员流水号", "交易序号",
        "业务流水号", "日志号", "交易参考号", "凭证号", "凭证号码",
    ),
    "payer_name": (
        "对方户名", "对方单位名称", "对方账户名称", "对方名称", "对方单位", "对方账户名", "对方户名称", "付款人名称",
        "付款方户名", "付款人户名", "付款方名称", "收/付方名称", "收付款人名称", "对手户名", "交易对手名称",
    ),
    "payer_account": (
        "对方账号", "对方账户", "对方卡号", "付款人账号", "付款方账号", "收/付方账号", "对手账号", "交易对手账号",
    ),
    "credit": ("贷方发生额", "贷方金额", "收入金额", "收入", "存入金额", "贷方", "来账金额"),
    "debit": ("借方发生额", "借方金额", "支出金额", "支出", "支取金额", "借方", "往账金额"),
    "amount": ("交易金额", "发生额", "金额"),
    "direction": (
        "借贷标志", "借贷方向", "借/贷", "借贷", "收支标志", "收支方向", "借贷标识", "收/支", "来往账标识", "交易方向",
    ),
    "balance": ("余额", "账户余额", "交易后余额", "本次余额", "联机余额", "当前余额"),
    "summary": ("摘要", "交易摘要", "业务摘要"),
    "purpose": ("用途", "交易用途", "附言", "交易附言"),
    "remark": ("备注", "个性化信息"),
}  # fmt: skip
REQUIRED = (("date", "time"), "serial", ("credit", "amount"))
# the keys a saved mapping may set (``signed_amount``: one column, negative = money out)
MAPPING_KEYS = (*COLUMNS, "signed_amount")
NOTE_KEYS = ("summary", "purpose", "remark")
TOTAL_PREFIXES = (
    "合计", "总计", "本页合计", "本页小计", "小计", "累计", "本期合计", "本期累计", "本日合计", "本月合计",
    "本月累计", "本年累计", "承前页", "过次页",
)  # fmt: skip
INCOME = {"贷", "收", "收入", "贷方", "C", "CR", "来账", "入账", "来", "入"}
OUTFLOW = {"借", "支", "支出", "借方", "D", "DR", "往账", "出账", "往", "出"}
NOTE_PREFIXES = ("注", "说明", "打印", "导出", "制表", "经办", "复核", "备注", "查询")
ZERO = Decimal("0.00")


def _side(value: Any, label) -> Decimal:
    """One side's amount; an empty cell, ``-`` or ``--`` is zero."""
    return optional_amount(value, label) or ZERO


def movement(reader: RowReader) -> tuple[Decimal, Decimal]:
    """(money in, money out) of a row, however the statement shows them: 贷方/借方 columns, a signed
    amount, or an amount with a direction column. Raises RowError when an amount cannot be read."""
    if reader.has("credit"):
        debit = abs(_side(reader.raw("debit"), _l("借方发生额"))) if reader.has("debit") else ZERO
        return _side(reader.raw("credit"), _l("贷方发生额")), debit
    if reader.has("signed_amount"):
        value = _side(reader.raw("signed_amount"), _l("交易金额"))
        return (value, ZERO) if value >= 0 else (ZERO, -value)
    direction = reader.text("direction").upper()
    if direction in OUTFLOW:
        return ZERO, abs(_side(reader.raw("amount"), _l("交易金额")))
    if direction not in INCOME:
        raise RowError(_("借贷标志不正确：%(d)s") % {"d": direction[:10] or "（空）"})
    return _side(reader.raw("amount"), _l("交易金额")), ZERO


def _cell_text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip().lstrip("`").strip()


def skip_reason(reader: RowReader) -> str | None:
    """Why a row that is not a transaction is skipped (a total line, a note), or None."""
    texts: list[str] = []  # the first three non-empty cells (all of them when fewer)
    for cell in reader.cells:
        if cell is None or cell == "":
            continue
        text = _cell_text(cell)
        if text:
            texts.append(text)
            if len(texts) == 3:
                break
    if not texts:
        return None
    if any(text.startswith(TOTAL_PREFIXES) for text in texts) and (
        texts[0].startswith(TOTAL_PREFIXES) or not reader.text("serial")
    ):
        return _("合计行")
    if len(texts) == 1 and reader.header.width > 2 and _is_note(texts[0]):
        return _("说明行，非交易")
    return None


def _is_note(text: str) -> bool:
    """导出时间：…, 注：…, 打印日期 …: a line of explanation, not a truncated transaction row."""
    if not (text.startswith(NOTE_PREFIXES) or "：" in text or ":" in text):
        return False
    try:
        parse_datetime(text)
    except RowError:
        return True
    return False


def _note(reader: RowReader) -> str:
    parts = [reader.text(key) for key in NOTE_KEYS if reader.has(key)]
    text = "；".join(part for part in parts if part)
    return clean_text(text, label=_l("摘要"), max_length=MAX_REMARK_LENGTH, multiline=True)


def _row(reader: RowReader, line: int, statement: ParsedStatement, money_in: Decimal, money_out: Decimal):
    if money_out and not money_in:
        statement.skipped.append((line, _("支出，非捐赠")))
        return None
    if not money_in:
        raise RowError(_("没有收入金额"))
    serial = clean_text(reader.text("serial"), label=_l("流水号"), max_length=64)
    if not serial:
        raise RowError(_("缺少流水号"))
    received_at = parse_date_and_time(reader.raw("date"), reader.raw("time"), _l("交易日期"), _l("交易时间"))
    name = clean_text(reader.text("payer_name"), label=_l("对方户名"), max_length=MAX_NAME_LENGTH)
    account = clean_text(reader.text("payer_account"), label=_l("对方账号"), max_length=MAX_ACCOUNT_LENGTH)
    return ParsedRow(
        line=line,
        transaction_id=serial,
        received_at=received_at,
        amount=money_in,
        payer_name=name,
        payer_account=account,
        remark=_note(reader),
    )


RowSource = Callable[[], Iterator[tuple[int, list[Any]]]]


def _sources(data: bytes) -> tuple[list[RowSource], str]:
    """Row iterators to look for a header in: the CSV text, or each XLSX sheet in order."""
    if not is_xlsx(data):
        text, encoding = decode_text(data)
        return [lambda: csv_rows(text)], encoding
    sheets = xlsx_sheets(data).worksheets
    if not sheets:
        raise ImportFileError(_("XLSX 文件没有工作表"))
    return [lambda sheet=sheet: xlsx_rows(sheet) for sheet in sheets], ""


def _builtin_header(rows: Iterator[tuple[int, list[Any]]], encoding: str = "") -> Header:
    return find_header(rows, columns=COLUMNS, required=REQUIRED, format_label=FORMAT_LABEL, encoding=encoding)


def locate_header(
    data: bytes, *, mappings: Sequence[ColumnMapping] = (), builtin: bool = True
) -> tuple[Header, ColumnMapping | None, Iterator[tuple[int, list[Any]]]]:
    """(header, the mapping used or None, the rows after the header) of the first CSV text or
    sheet whose header a saved mapping or the built-in column names recognise."""
    sources, encoding = _sources(data)
    for source in sources:
        rows = source()
        head = list(islice(rows, HEADER_SCAN_ROWS))
        scan = iter(head)
        found = find_mapped_header(scan, mappings)
        if found is not None:
            return found[0], found[1], chain(scan, rows)
        if builtin:
            scan = iter(head)
            try:
                header = _builtin_header(scan, encoding)
            except ImportFileError:
                continue
            return header, None, chain(scan, rows)
    first = next((source for source in sources if any(not is_blank(cells) for _line, cells in source())), sources[0])
    head = list(islice(first(), HEADER_SCAN_ROWS))
    preview, header_line = preview_rows(head)
    if not builtin:
        names = "、".join(f"“{mapping.name}”" for mapping in mappings)
        message = _("文件的表头与列映射%(names)s不一致；请确认选择的映射与文件一致。整个文件未导入") % {"names": names}
    else:
        try:
            _builtin_header(iter(head), encoding)
            message = ""  # not reached: a sheet with a header was returned above
        except ImportFileError as exc:
            message = exc.message
    raise HeaderNotRecognised(message, rows=preview, header_line=header_line)


def read_rows(
    header: Header, rows: Iterator[tuple[int, list[Any]]], statement: ParsedStatement
) -> list[tuple[int, Decimal | None, Decimal | None]]:
    """Read the data rows into ``statement``; returns the running-balance entries of the rows."""
    balances: list[tuple[int, Decimal | None, Decimal | None]] = []
    has_balance = "balance" in header.index
    for line, cells in rows:
        if is_blank(cells):
            continue
        reader = RowReader(header, cells)
        reason = skip_reason(reader)
        if reason is not None:
            statement.skipped.append((line, reason))
            continue
        try:
            check_columns(reader)
            money_in, money_out = movement(reader)
        except RowError as exc:
            statement.rejected.append((line, exc.reason))
            balances.append((line, None, None))
            continue
        if has_balance:
            try:
                balance = optional_amount(reader.raw("balance"), _l("余额"))
            except RowError:
                balance = None
            balances.append((line, money_in - money_out, balance))
        try:
            row = _row(reader, line, statement, money_in, money_out)
        except RowError as exc:
            statement.rejected.append((line, exc.reason))
            continue
        if row is not None:
            statement.rows.append(row)
    return balances


def parse(data: bytes, *, mappings: Sequence[ColumnMapping] = (), builtin: bool = True) -> ParsedStatement:
    """A bank statement; ``mappings`` are the saved column mappings to try first, and
    ``builtin=False`` allows only them (``import_donations --mapping NAME``)."""
    header, mapping, rows = locate_header(data, mappings=mappings, builtin=builtin)
    source = f"{FORMAT_LABEL}（{mapping.name}）" if mapping is not None else FORMAT_LABEL
    statement = ParsedStatement(
        channel=Channel.BANK,
        source=source,
        default_payer_name=DEFAULT_PAYER_NAME,
        mapping=mapping.name if mapping is not None else "",
    )
    statement.warnings.extend(check_running_balances(read_rows(header, rows, statement)))
    return statement


# --- for mapping a file's columns by hand (the admin's 建立列映射 page) ---------------------------


def head_rows(data: bytes) -> list[list[Any]]:
    """The first rows of the CSV text, or of the first XLSX sheet that has content, as read."""
    sources, _encoding = _sources(data)
    for source in sources:
        head = [cells for _line, cells in islice(source(), HEADER_SCAN_ROWS)]
        if any(not is_blank(cells) for cells in head):
            return head
    return []


# the bank parser's keys a mapping field stands for (the note takes 摘要, 用途 or 备注)
_GUESS_KEYS = {"summary": ("summary", "purpose", "remark")}


def guess_columns(cells: Sequence[Any]) -> dict[str, int]:
    """Mapping fields the built-in column names recognise in a header row: a starting point for
    the clerk, who confirms or changes each."""
    lookup: dict[str, str] = {}
    for key, names in COLUMNS.items():
        field = next((name for name, keys in _GUESS_KEYS.items() if key in keys), key)
        for name in names:
            lookup.setdefault(normalise_header(name), field)
    guessed: dict[str, int] = {}
    for position, cell in enumerate(cells):
        field = lookup.get(normalise_header(cell))
        if field is not None and field not in guessed:
            guessed[field] = position
    return guessed

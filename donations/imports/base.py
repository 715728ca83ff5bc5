"""The shared part of every statement import: reading bytes, decoding, finding the
header, parsing amounts and times, and registering the parsed rows through the
services (``donor_register``, ``donation_register``, ``donation_record_refund``).

Decision (see README.md in this folder): GOOD ROWS ARE IMPORTED. Each valid row
is registered in its own transaction; a bad row is reported with its line number
and the reason and does not stop the rest. A file whose header is wrong (a
required column missing), whose encoding cannot be decoded, or that cannot be
read as CSV/XLSX at all is rejected whole with ``ImportFileError`` before
anything is written.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from donations.models import Campaign, Donation, DonationKind, Donor, DonorKind, PublicDisplay, ReceiptStatus
from donations.services.donors import donor_find_or_register, donors_match_names, payer_donors_register
from donations.services.intake import (
    MAX_DONATION_AMOUNT,
    CashGift,
    cash_gift_clean,
    donation_register,
    donation_register_cash_batch,
)
from donations.services.refunds import RefundAlreadyRecorded, RefundPaymentNotFound, donation_record_refund
from redcross import validators
from redcross.models import Branch
from redcross.money import YUAN, to_yuan

__all__ = [
    "FORMATS",
    "ColumnMapping",
    "HeaderNotRecognised",
    "ImportFileError",
    "ImportReport",
    "ParsedRow",
    "ParsedStatement",
    "RowError",
]


FORMATS = ("wechat", "alipay", "bank", "template")


# statements are in Beijing time whatever the server's TIME_ZONE says
SHANGHAI = ZoneInfo("Asia/Shanghai")


# a 100,000-row WeChat statement is about 30 MB
MAX_FILE_BYTES = 200 * 1024 * 1024


MAX_ROWS = 1_000_000


# how many rows may come before the header (title and account lines of bank statements)
HEADER_SCAN_ROWS = 30


# longer text in a name or account cell is not data from a payment channel
MAX_NAME_LENGTH = 200


MAX_ACCOUNT_LENGTH = 100


MAX_REMARK_LENGTH = 1000


# the note of a donor an import created (``Donor.created_by_import`` is what marks it)
IMPORTED_DONOR_NOTE = "对账单导入自动创建"


_CHUNK = 500  # ids per IN (...) query


# payments registered per transaction: big enough to amortise the sequence lock, small enough
# that a clash with a concurrent import re-does little row by row
IMPORT_BATCH = 1000


_XLSX_MAGIC = b"PK\x03\x04"


# the old binary Excel format (.xls, an OLE2 compound file), which is not read
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# a unit or suffix in brackets after a column name: 贷方发生额（收入）, 余额(元), 金额[元], 摘要【附言】
_BRACKETED = re.compile(r"[（(\[【][^（）()\[\]【】]*[）)\]】]")


# running-balance jumps listed one by one before the rest are only counted
MAX_BALANCE_WARNINGS = 20


_LOOSE_NUMBER = re.compile(r"[+-]?[0-9][0-9,]*(?:\.[0-9]+)?", flags=re.ASCII)


_DATETIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d-%H.%M.%S.%f",  # a DB2 timestamp, as some banks' host systems print it
    "%Y-%m-%d-%H.%M.%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
)


_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H%M%S", "%H.%M.%S")


class ImportFileError(Exception):
    """The whole file is rejected (wrong header, undecodable, not CSV/XLSX); nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HeaderNotRecognised(ImportFileError):
    """No known layout and no saved column mapping fits the file's header; nothing was written.

    ``rows`` are the first rows of the file (cells as text) so staff can map its columns once
    (``donations.StatementMapping``); ``header_line`` is the row most likely to be the header.
    """

    def __init__(self, message: str, *, rows: list[list[str]], header_line: int) -> None:
        super().__init__(message)
        self.rows = rows
        self.header_line = header_line


PREVIEW_COLUMNS = 40


PREVIEW_CELL_LENGTH = 60


def preview_cell(value: Any) -> str:
    """A cell as text for a preview: dates without the T, integral floats without .0, cut short."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value).strip()
    return _short(text, PREVIEW_CELL_LENGTH)


def preview_rows(rows: Iterable[tuple[int, list[Any]]]) -> tuple[list[list[str]], int]:
    """The first ``HEADER_SCAN_ROWS`` rows as text, and the line of the likely header: the first
    row with the most non-empty cells."""
    preview: list[list[str]] = []
    best_line, best_count = 1, 0
    for scanned, (line, cells) in enumerate(rows):
        row = [preview_cell(cell) for cell in cells[:PREVIEW_COLUMNS]]
        while len(preview) < line - 1:  # lines a quoted cell spanned
            preview.append([])
        preview.append(row)
        count = sum(1 for cell in row if cell)
        if count > best_count:
            best_line, best_count = line, count
        if scanned + 1 >= HEADER_SCAN_ROWS:
            break
    return preview, best_line


class RowError(Exception):
    """One row is bad; the reason is shown to the clerk with the row's line number."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class ParsedRow:
    """One payment or refund of a cash statement (WeChat Pay, Alipay, bank)."""

    line: int
    transaction_id: str  # the channel's id of this payment; for a refund, the refund's own id
    received_at: datetime  # aware, Asia/Shanghai
    amount: Decimal  # as in the file (a negative payment is rejected by the service); refunds positive
    payer_name: str
    payer_account: str
    remark: str
    is_refund: bool = False
    refund_of: str = ""  # for a refund: the transaction id of the payment it refunds


@dataclass
class ParsedStatement:
    """What a format module reads from a file, before anything is written."""

    channel: str
    source: str  # e.g. "微信支付对账单", used in notes
    default_payer_name: str
    rows: list[ParsedRow] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mapping: str = ""  # the name of the saved column mapping the file was read with


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    refunded: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # rows that are not donations (bank outflows, closed orders, total lines): (line, reason)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    # things to look at that did not stop a row: footer count mismatch, refunds of receipted gifts...
    warnings: list[str] = field(default_factory=list)
    # the saved column mapping (``StatementMapping``) a bank statement was read with, if any
    mapping: str = ""

    def summary(self) -> str:
        text = (
            f"imported: {self.imported}; duplicates: {self.duplicates}; "
            f"refunded: {self.refunded}; rejected: {len(self.rejected)}"
        )
        if self.skipped:
            text += f"; skipped: {len(self.skipped)}"
        return text

    def skipped_by_reason(self) -> dict[str, list[int]]:
        grouped: dict[str, list[int]] = {}
        for line, reason in self.skipped:
            grouped.setdefault(reason, []).append(line)
        return grouped

    def lines(self, *, max_rejected: int | None = None) -> list[str]:
        """The summary, then ``line N: reason`` per rejected row, skipped rows by reason, warnings."""
        out = [self.summary()]
        if self.mapping:
            out.append(f"mapping: {self.mapping}")
        rejected = sorted(self.rejected)
        shown = rejected if max_rejected is None else rejected[:max_rejected]
        out.extend(f"line {line}: {reason}" for line, reason in shown)
        if len(shown) < len(rejected):
            out.append(f"... {len(rejected) - len(shown)} more rejected rows")
        for reason, numbers in self.skipped_by_reason().items():
            listed = ", ".join(str(n) for n in numbers[:20]) + (", ..." if len(numbers) > 20 else "")
            out.append(f"skipped {len(numbers)} ({reason}): lines {listed}")
        out.extend(f"warning: {warning}" for warning in self.warnings)
        return out


def read_bytes(path_or_file: Any) -> bytes:
    """A path, bytes, or an open (uploaded) file; refuses files over ``MAX_FILE_BYTES``."""
    if isinstance(path_or_file, bytes | bytearray | memoryview):
        data = bytes(path_or_file)
    elif isinstance(path_or_file, str | Path):
        path = Path(path_or_file)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImportFileError(_("文件超过 %(mb)d MB") % {"mb": MAX_FILE_BYTES // 2**20})
            data = path.read_bytes()
        except OSError as exc:
            raise ImportFileError(_("无法读取文件：%(error)s") % {"error": exc.strerror or exc}) from None
    elif hasattr(path_or_file, "read"):
        if hasattr(path_or_file, "seek"):
            path_or_file.seek(0)
        data = path_or_file.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            raise ImportFileError(_("请以二进制方式打开文件"))
    else:
        raise TypeError(f"cannot read a statement from {type(path_or_file).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_("文件超过 %(mb)d MB") % {"mb": MAX_FILE_BYTES // 2**20})
    if not data.strip():
        raise ImportFileError(_("文件是空的"))
    return data


def is_xlsx(data: bytes) -> bool:
    return data.startswith(_XLSX_MAGIC)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a CSV statement: UTF-8 with or without BOM, else GBK (read as GB18030, its superset).

    Returns (text, encoding). Anything else (UTF-16, binary, a mixture that is
    valid in neither) rejects the whole file.
    """
    if is_xlsx(data):
        raise ImportFileError(_("这是 XLSX（Excel）文件，不是 CSV 文本；请另存为 CSV 或选择对应的格式"))
    if data.startswith(_XLS_MAGIC):
        raise ImportFileError(_("这是旧版 Excel（.xls）文件；请在 Excel 中另存为 .xlsx 或 CSV 后再导入"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(_("不支持 UTF-16 编码的文件；请另存为 UTF-8 或 GBK 编码的 CSV"))
    candidates = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise ImportFileError(_("文件含有空字符（NUL），不是文本格式的对账单"))
        return text, ("gbk" if encoding == "gb18030" else encoding)
    raise ImportFileError(_("无法识别文件编码：既不是 UTF-8 也不是 GBK；请从商户平台重新下载，不要用其他软件转存"))


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, cells); a record may span lines inside quotes."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for row in reader:
            if line > MAX_ROWS:
                raise ImportFileError(_("文件超过 %(n)d 行，请分批导入") % {"n": MAX_ROWS})
            yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(
            _("第 %(line)d 行无法按 CSV 读取（%(error)s），整个文件未导入") % {"line": reader.line_num, "error": exc}
        ) from None


def xlsx_sheets(data: bytes):
    """Open an XLSX read-only, formulas as their text (never evaluated)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not is_xlsx(data):
        raise ImportFileError(_("不是 XLSX（Excel 2007 及以上）文件"))
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise ImportFileError(_("XLSX 文件已损坏或格式不正确（%(error)s）") % {"error": type(exc).__name__}) from None
    except Exception as exc:  # openpyxl raises many types on malformed parts
        raise ImportFileError(_("XLSX 文件无法读取（%(error)s）") % {"error": type(exc).__name__}) from None


def xlsx_rows(sheet) -> Iterator[tuple[int, list[Any]]]:
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                raise ImportFileError(_("文件超过 %(n)d 行，请分批导入") % {"n": MAX_ROWS})
            yield number, list(values)
    except ImportFileError:
        raise
    except Exception as exc:  # a malformed sheet part
        raise ImportFileError(_("XLSX 工作表无法读取（%(error)s）") % {"error": type(exc).__name__}) from None


def normalise_header(value: Any) -> str:
    """A column name as matched: no padding, spaces or BOM, and no unit or suffix in brackets, so
    贷方发生额（收入）, 贷方发生额(元) and 贷方发生额 are one column."""
    text = "" if value is None else str(value)
    text = text.replace("\ufeff", "").strip().strip("`").strip()
    text = text.replace(" ", "").replace("\u3000", "").replace("\t", "")
    return _BRACKETED.sub("", text)


def header_signature(cells: Sequence[Any]) -> str:
    """What identifies a header row for a saved column mapping: its normalised column names in
    order (empty cells at the end ignored), hashed."""
    names = [normalise_header(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


@dataclass
class Header:
    line: int
    index: dict[str, int]  # canonical column key -> cell index
    width: int


@dataclass(frozen=True)
class ColumnMapping:
    """A saved column mapping (``donations.StatementMapping``) as the parsers use it: the header row
    it was made for (``header_signature``) and the cell index of each canonical column key."""

    name: str
    signature: str
    index: Mapping[str, int]


def find_mapped_header(
    rows: Iterator[tuple[int, list[Any]]], mappings: Sequence[ColumnMapping]
) -> tuple[Header, ColumnMapping] | None:
    """Consume rows up to and including the first one whose header a mapping was made for."""
    if not mappings:
        return None
    by_signature: dict[str, ColumnMapping] = {}
    for mapping in mappings:
        by_signature.setdefault(mapping.signature, mapping)
    for scanned, (line, cells) in enumerate(rows):
        if not is_blank(cells):
            mapping = by_signature.get(header_signature(cells))
            if mapping is not None:
                return Header(line=line, index=dict(mapping.index), width=len(cells)), mapping
        if scanned + 1 >= HEADER_SCAN_ROWS:
            break
    return None


def find_header(
    rows: Iterator[tuple[int, list[Any]]],
    *,
    columns: Mapping[str, tuple[str, ...]],
    required: Iterable[str | tuple[str, ...]],
    format_label: str,
    encoding: str = "",
) -> Header:
    """Consume rows up to and including the header; reject the file if there is none.

    ``columns`` maps a canonical key to the accepted column names (synonyms);
    each ``required`` entry is a key, or a tuple of keys of which one must be present.
    """
    # a column name -> (key, rank): when a row has two names of one key, the earlier synonym wins
    lookup: dict[str, tuple[str, int]] = {}
    for key, names in columns.items():
        for rank, name in enumerate(names):
            lookup.setdefault(normalise_header(name), (key, rank))
    required = [(item,) if isinstance(item, str) else tuple(item) for item in required]
    best: tuple[int, int, list[str]] | None = None  # (required columns matched, line, missing)
    for scanned, (line, cells) in enumerate(rows):
        index: dict[str, int] = {}
        ranks: dict[str, int] = {}
        for position, cell in enumerate(cells):
            found = lookup.get(normalise_header(cell))
            if found is not None and found[1] < ranks.get(found[0], len(columns[found[0]])):
                index[found[0]], ranks[found[0]] = position, found[1]
        if index:
            missing = [columns[group[0]][0] for group in required if not any(key in index for key in group)]
            if not missing:
                return Header(line=line, index=index, width=len(cells))
            matched = len(required) - len(missing)
            if best is None or matched > best[0]:
                best = (matched, line, missing)
        if scanned + 1 >= HEADER_SCAN_ROWS:
            break
    if best is not None and best[0] >= 2:
        raise ImportFileError(
            _("%(format)s表头（第 %(line)d 行）缺少必需的列：%(missing)s；整个文件未导入") % {
                "format": format_label, "line": best[1], "missing": "、".join(best[2])}
        )  # fmt: skip
    expected = "、".join(columns[group[0]][0] for group in required)
    hint = _("（按 %(encoding)s 编码读取）") % {"encoding": encoding.upper()} if encoding else ""
    raise ImportFileError(
        _("未找到%(format)s的表头（应含列：%(expected)s）%(hint)s；请确认选择的格式与文件一致。整个文件未导入") % {
            "format": format_label, "expected": expected, "hint": hint}
    )  # fmt: skip


class RowReader:
    """Cells of one data row by canonical column key, cleaned of channel padding (` and tabs)."""

    __slots__ = ("cells", "header")

    def __init__(self, header: Header, cells: list[Any]) -> None:
        self.header = header
        self.cells = cells

    def raw(self, key: str) -> Any:
        position = self.header.index.get(key)
        if position is None or position >= len(self.cells):
            return None
        value = self.cells[position]
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("`"):  # WeChat Pay prefixes every field so Excel keeps it as text
                value = value[1:].strip()
        return value

    def text(self, key: str) -> str:
        value = self.raw(key)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    def has(self, key: str) -> bool:
        return key in self.header.index


def is_blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip().strip("`").strip()) for cell in cells)


def _short(text: str, length: int = 30) -> str:
    return text if len(text) <= length else text[:length] + "…"


def parse_amount(value: Any, label: str | None = None) -> Decimal:
    """Yuan as a Decimal with two places; the sign is kept (callers and services judge it)."""
    if label is None:
        label = _("金额")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError(_("缺少%(label)s") % {"label": label})
    if isinstance(value, bool):
        raise RowError(_("%(label)s格式不正确") % {"label": label})
    if isinstance(value, float):
        # a number typed in Excel: binary floating point, round to fen only if it is within a rounding error
        if not math.isfinite(value):
            raise RowError(_("%(label)s格式不正确") % {"label": label})
        amount = Decimal(repr(value))
        if abs(amount) < MAX_DONATION_AMOUNT * 1000:
            rounded = amount.quantize(YUAN)
            if abs(amount - rounded) < Decimal("0.000001"):
                amount = rounded
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:
        text = str(value).strip().lstrip("`").strip()
        if text[:1] == "=":
            raise RowError(_("%(label)s不能是公式：%(text)s") % {"label": label, "text": _short(text)})
        text = text.removeprefix("¥").removeprefix("￥").removeprefix("CNY").strip()
        if _LOOSE_NUMBER.fullmatch(text) and len(text.replace(",", "").split(".")[0].lstrip("+-")) > 13:
            raise RowError(_("%(label)s超过一百亿元，请核对") % {"label": label})
        amount = text  # to_yuan parses strict ASCII money, no exponents or full-width digits
    try:
        result = to_yuan(amount)
    except (TypeError, ValueError, InvalidOperation):
        raise RowError(
            _("%(label)s格式不正确：%(text)s（须为元，最多两位小数）") % {"label": label, "text": _short(str(value))}
        ) from None
    if abs(result) > MAX_DONATION_AMOUNT:
        raise RowError(_("%(label)s超过一百亿元，请核对") % {"label": label})
    return result


def _parse_datetime_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def parse_datetime(value: Any, label: str | None = None) -> datetime:
    """A statement time (Beijing time unless it says otherwise) as an aware datetime."""
    if label is None:
        label = _("到账时间")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError(_("缺少%(label)s") % {"label": label})
    result: datetime | None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = _excel_serial(value)
    else:
        text = str(value).strip().lstrip("`").strip()
        result = _parse_datetime_text(text) if len(text) <= 40 else None
    if result is None:
        raise RowError(_("%(label)s格式不正确：%(text)s") % {"label": label, "text": _short(str(value))})
    if result.tzinfo is None:
        result = result.replace(tzinfo=SHANGHAI)
    return result


def _excel_serial(value: float) -> datetime | None:
    # a date cell that lost its date format: days since 1899-12-30
    if not 20000 <= value <= 80000:
        return None
    from openpyxl.utils.datetime import from_excel

    return from_excel(value)


def parse_date_and_time(
    date_value: Any, time_value: Any, label: str | None = None, time_label: str | None = None
) -> datetime:
    """A bank's separate 交易日期 and 交易时间 columns; the time column may hold date and time, and
    then no date column is needed."""
    if time_label is None:
        time_label = _("交易时间")
    if time_value in (None, "") or (isinstance(time_value, str) and not time_value.strip()):
        return parse_datetime(date_value, label)
    if isinstance(time_value, datetime):
        return parse_datetime(time_value, time_label)
    if isinstance(time_value, time):
        clock = time_value
    else:
        text = str(time_value).strip().lstrip("`").strip()
        if len(text) > 8:  # the time column holds date and time
            return parse_datetime(text, time_label)
        clock = None
        for pattern in _TIME_FORMATS:
            try:
                clock = datetime.strptime(text, pattern).time()
                break
            except ValueError:
                continue
        if clock is None:
            raise RowError(_("%(label)s格式不正确：%(text)s") % {"label": time_label, "text": _short(text)})
    day = parse_datetime(date_value, label)
    return datetime.combine(day.date(), clock, tzinfo=day.tzinfo)


def parse_date(value: Any, label: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_datetime(value, label).date()


def clean_text(value: Any, *, label: str, max_length: int, multiline: bool = False) -> str:
    """A text cell checked by the kernel's ``clean_text`` (single-line unless ``multiline``); a
    refusal is the row's error, naming the column's ``label``."""
    try:
        return validators.clean_text(value, "text", max_length, label=label, multiline=multiline)
    except ValidationError as exc:
        raise RowError(message_of(exc)) from None


def check_columns(reader: RowReader) -> None:
    """A data row must have as many cells as the header (extra empty cells at the end are fine)."""
    cells = reader.cells
    width = reader.header.width
    if len(cells) < width or any(
        cell not in (None, "") and not (isinstance(cell, str) and not cell.strip()) for cell in cells[width:]
    ):
        raise RowError(_("列数与表头不符（表头 %(w)d 列，本行 %(n)d 列）") % {"w": width, "n": len(cells)})


def check_running_balances(entries: Sequence[tuple[int, Decimal | None, Decimal | None]]) -> list[str]:
    """Warnings for balance jumps that the rows do not explain.

    ``entries`` are (line, money in minus money out, balance after the row) of every transaction
    row in file order, payments, refunds, fees and outflows alike; None in either breaks the chain
    (a row whose amounts or balance could not be read) and the check starts again after it.
    Statements come oldest first or newest first: the order with fewer jumps is taken.
    """
    pairs: list[tuple[tuple[int, Decimal, Decimal], tuple[int, Decimal, Decimal]]] = []
    previous = None
    for line, change, balance in entries:
        if change is None or balance is None:
            previous = None
            continue
        current = (line, change, balance)
        if previous is not None:
            pairs.append((previous, current))
        previous = current
    ascending = [(b[0], a[0], a[2], b[1], b[2]) for a, b in pairs if a[2] + b[1] != b[2]]
    descending = [(a[0], b[0], b[2], a[1], a[2]) for a, b in pairs if b[2] + a[1] != a[2]]
    jumps = ascending if len(ascending) <= len(descending) else descending
    warnings = [
        _("第 %(line)d 行：余额 %(balance)s 元与上一笔（第 %(previous)d 行）余额 %(before)s 元加本行发生额 "
          "%(change)s 元不符，相差 %(gap)s 元；对账单可能缺少交易行或有重复行") % {
            "line": line, "balance": balance, "previous": before_line, "before": before, "change": change,
            "gap": balance - before - change}
        for line, before_line, before, change, balance in jumps[:MAX_BALANCE_WARNINGS]
    ]  # fmt: skip
    if len(jumps) > MAX_BALANCE_WARNINGS:
        warnings.append(_("另有 %(n)d 处余额不衔接，未逐一列出") % {"n": len(jumps) - MAX_BALANCE_WARNINGS})
    return warnings


def optional_amount(value: Any, label: str) -> Decimal | None:
    """An amount cell that may be empty (None), e.g. a balance or the other side of a ledger row."""
    if value is None or (isinstance(value, str) and value.strip().lstrip("`").strip() in ("", "-", "--")):
        return None
    return parse_amount(value, label)


def message_of(exc: ValidationError) -> str:
    return "；".join(str(message) for message in exc.messages)


def chunked(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class PayerDonors:
    """One person donor per payer name for the import's branch, found or created on first use and
    cached. A payer has only a name, so it is found again only among donors an import created
    (``donor_match``), never attached to a hand-registered donor who happens to share the name.
    """

    def __init__(self, *, by, branch: Branch, source: str) -> None:
        self.by = by
        self.branch = branch
        self.source = source
        self.cache: dict[str, Donor] = {}

    def _note(self) -> str:
        # for the staff reading the donor: which statement created it (the marker is the field)
        return f"{IMPORTED_DONOR_NOTE}（{self.source}）"

    def preload(self, names: Iterable[str]) -> None:
        wanted = {name for name in names if name and name not in self.cache}
        self.cache.update(donors_match_names(branch=self.branch, kind=DonorKind.PERSON, names=wanted))

    def get(self, name: str) -> tuple[Donor, bool]:
        """(donor, created now); call inside the row's transaction."""
        donor = self.cache.get(name)
        if donor is not None:
            return donor, False
        donor, created = donor_find_or_register(
            by=self.by,
            branch=self.branch,
            kind=DonorKind.PERSON,
            name=name,
            public_display=PublicDisplay.MASKED,
            wants_receipt=False,
            note=self._note(),
        )
        self.cache[name] = donor
        return donor, created

    def ensure(self, names: Iterable[str]) -> list[str]:
        """Create, in bulk, the donors of the names not known yet; returns those names.

        Call inside the batch's transaction and ``forget_all`` them if it rolls back.
        """
        self.preload(names)
        missing = sorted({name for name in names if name not in self.cache})
        if missing:
            for donor in payer_donors_register(by=self.by, branch=self.branch, names=missing, note=self._note()):
                self.cache[donor.name] = donor
        return missing

    def forget_all(self, names: Iterable[str]) -> None:
        for name in names:
            self.forget(name)

    def forget(self, name: str) -> None:
        """The row's transaction rolled back: a donor created in it no longer exists."""
        self.cache.pop(name, None)


def existing_transactions(channel: str, ids: list[str]) -> dict[str, Decimal | None]:
    """channel transaction id -> amount of the donations already registered, in chunked queries."""
    found: dict[str, Decimal | None] = {}
    for chunk in chunked(sorted(set(ids))):
        found.update(
            Donation.objects.filter(channel=channel, channel_transaction_id__in=chunk)
            # repeats the condition of the partial unique index, so SQLite searches it instead of scanning
            .exclude(channel_transaction_id="")
            .order_by()
            .values_list("channel_transaction_id", "amount")
        )
    return found


def _row_note(statement: ParsedStatement, row: ParsedRow) -> str:
    parts = [_("%(source)s导入（第 %(line)d 行）") % {"source": statement.source, "line": row.line}]
    if row.payer_account:
        parts.append(_("付款账户：%(account)s") % {"account": row.payer_account})
    if row.remark:
        parts.append(_("对账单信息：%(remark)s") % {"remark": row.remark})
    return "\n".join(parts)


def _is_transaction_clash(exc: ValidationError) -> bool:
    return hasattr(exc, "error_dict") and "channel_transaction_id" in exc.error_dict


def _register_batch(
    statement: ParsedStatement,
    batch: list[ParsedRow],
    *,
    by,
    branch: Branch,
    campaign: Campaign,
    donors: PayerDonors,
    report: ImportReport,
) -> bool:
    """Register a batch of new payments in one transaction; False if it was rolled back.

    Rows refused by the checks are found before anything is written, so their payers get
    no donor. After a rollback the caller re-does the batch row by row, so nothing of it
    is reported here.
    """
    gifts = [
        CashGift(
            donor=None,
            received_at=row.received_at,
            amount=row.amount,
            channel_transaction_id=row.transaction_id,
            note=_row_note(statement, row),
        )
        for row in batch
    ]
    # a payer gets a donor only when one of their rows can be registered
    good: list[tuple[ParsedRow, CashGift]] = []
    refused: list[tuple[int, str]] = []
    for row, gift in zip(batch, gifts, strict=True):
        try:
            cash_gift_clean(gift)
        except ValidationError as exc:
            refused.append((row.line, message_of(exc)))
        else:
            good.append((row, gift))
    names = [row.payer_name or statement.default_payer_name for row, _gift in good]
    created: list[str] = []
    try:
        with transaction.atomic():
            created = donors.ensure(names)
            results = donation_register_cash_batch(
                by=by,
                branch=branch,
                campaign=campaign,
                channel=statement.channel,
                gifts=[replace(gift, donor=donors.cache[name]) for (_row, gift), name in zip(good, names, strict=True)],
            )
    except IntegrityError:
        donors.forget_all(created)
        return False
    report.rejected.extend(refused)
    for (row, _gift), result in zip(good, results, strict=True):
        if isinstance(result, ValidationError):
            if _is_transaction_clash(result):
                report.duplicates += 1
            else:
                report.rejected.append((row.line, message_of(result)))
        else:
            report.imported += 1
    return True


def _register_one(
    statement: ParsedStatement,
    row: ParsedRow,
    *,
    by,
    branch: Branch,
    campaign: Campaign,
    donors: PayerDonors,
    report: ImportReport,
) -> None:
    """One payment in its own transaction: the fallback when a batch clashed."""
    name = row.payer_name or statement.default_payer_name
    created = False
    try:
        with transaction.atomic():
            donor, created = donors.get(name)
            donation_register(
                by=by,
                branch=branch,
                donor=donor,
                campaign=campaign,
                kind=DonationKind.CASH,
                channel=statement.channel,
                received_at=row.received_at,
                amount=row.amount,
                channel_transaction_id=row.transaction_id,
                note=_row_note(statement, row),
            )
    except ValidationError as exc:
        if created:
            donors.forget(name)
        if _is_transaction_clash(exc):  # registered meanwhile by someone else
            report.duplicates += 1
        else:
            report.rejected.append((row.line, message_of(exc)))
    except IntegrityError:
        if created:
            donors.forget(name)
        clash = Donation.objects.filter(channel=statement.channel, channel_transaction_id=row.transaction_id)
        if clash.exclude(channel_transaction_id="").exists():
            report.duplicates += 1
        else:
            report.rejected.append((row.line, _("数据库拒绝了本行，请核对后手工登记")))
    else:
        report.imported += 1


def import_cash_statement(
    statement: ParsedStatement, *, by, branch: Branch, campaign: Campaign, report: ImportReport | None = None
) -> ImportReport:
    """Register the payments, then the refunds, of a parsed statement; one transaction per row."""
    report = report or ImportReport()
    report.mapping = statement.mapping
    report.rejected.extend(statement.rejected)
    report.skipped.extend(statement.skipped)
    report.warnings.extend(statement.warnings)
    channel = statement.channel

    payments: list[ParsedRow] = []
    refunds: list[ParsedRow] = []
    first_seen: dict[tuple[bool, str], ParsedRow] = {}
    for row in statement.rows:
        first = first_seen.get((row.is_refund, row.transaction_id))
        if first is None:
            first_seen[(row.is_refund, row.transaction_id)] = row
            (refunds if row.is_refund else payments).append(row)
        elif (first.amount, first.received_at, first.refund_of) == (row.amount, row.received_at, row.refund_of):
            report.duplicates += 1  # the same row twice in one file: counted once as a duplicate
        else:
            report.rejected.append(
                (row.line, _("交易号 %(id)s 与第 %(first)d 行相同但内容不同") % {
                    "id": row.transaction_id, "first": first.line})
            )  # fmt: skip

    existing = existing_transactions(channel, [row.transaction_id for row in payments])
    donors = PayerDonors(by=by, branch=branch, source=statement.source)
    donors.preload(row.payer_name or statement.default_payer_name for row in payments)

    new_payments: list[ParsedRow] = []
    for row in payments:
        if row.transaction_id not in existing:
            new_payments.append(row)
            continue
        registered = existing[row.transaction_id]
        if registered == row.amount:
            report.duplicates += 1
        else:
            report.rejected.append(
                (row.line, _("渠道交易号 %(id)s 已登记，但金额不同（已登记 %(old)s 元，本行 %(new)s 元）") % {
                    "id": row.transaction_id, "old": registered, "new": row.amount})
            )  # fmt: skip

    for batch in chunked(new_payments, IMPORT_BATCH):
        if not _register_batch(statement, batch, by=by, branch=branch, campaign=campaign, donors=donors, report=report):
            # another import took one of these transaction ids meanwhile: row by row tells which
            for row in batch:
                _register_one(statement, row, by=by, branch=branch, campaign=campaign, donors=donors, report=report)

    for row in refunds:
        try:
            donation = donation_record_refund(
                by=by,
                channel=channel,
                payment_transaction_id=row.refund_of,
                refund_id=row.transaction_id,
                amount=row.amount,
                refunded_at=row.received_at,
                source=_("%(source)s第 %(line)d 行") % {"source": statement.source, "line": row.line},
            )
        except RefundAlreadyRecorded:
            report.duplicates += 1
        except RefundPaymentNotFound:
            report.rejected.append((row.line, _("未找到原支付（交易号 %(id)s）") % {"id": row.refund_of}))
        except ValidationError as exc:
            report.rejected.append((row.line, message_of(exc)))
        else:
            report.refunded += 1
            if donation.receipts.filter(status=ReceiptStatus.VALID).exists():
                report.warnings.append(
                    _("第 %(line)d 行：捐赠 %(serial)s 已开具票据，退款后请财务冲红并按实际金额重开") % {
                        "line": row.line, "serial": donation.serial}
                )  # fmt: skip
    return report

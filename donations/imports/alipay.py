"""Alipay merchant statements (支付宝商家中心), CSV as downloaded: 业务明细 and 账务明细.

``parse`` tells them apart by their header: a header with 账务流水号 is the account ledger.

业务明细 (business details)
---------------------------

Layout::

    #支付宝业务明细查询
    #账号：[20880123456789010156]
    #起始日期：[2020年02月01日 00:00:00]   终止日期：[2020年03月01日 00:00:00]
    #-----------------------------------------业务明细列表----------------------------------------
    支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,
    订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,
    券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注
    2020020122001400001234567890\t,D20200201000001\t,交易,爱心捐赠,2020-02-01 10:00:01,...
    #-----------------------------------------业务明细列表结束------------------------------------
    #交易合计：3笔，商家实收共300.00元，...
    #导出时间：[2020年03月01日 10:00:00]

* lines starting with ``#`` are comments; values are padded with tabs (stripped);
* 业务类型 ``交易`` is a payment: id = 支付宝交易号, amount = 订单金额（元）, time = 完成时间
  (创建时间 when empty), payer = 对方账户 (``张三(zhangsan@example.com)`` gives the name
  张三 and the account; an account alone gives the donor "支付宝用户");
* 业务类型 ``退款`` is a refund: 订单金额 is negative (its absolute value is refunded), its own
  id is 退款批次号/请求号, and it refunds the payment in the same file with the same
  商户订单号, else the payment whose 支付宝交易号 the refund row carries (Alipay repeats
  the original trade number on refund rows), else the one named in 退款批次号;
* other 业务类型 (收费, 转账, ...) are skipped as not donations.

账务明细 (account ledger)
-------------------------

Layout::

    #支付宝账务明细查询
    #账号：[20880123456789010156]
    #起始日期：[2020年02月01日 00:00:00]   终止日期：[2020年03月01日 00:00:00]
    #-----------------------------------------账务明细列表----------------------------------------
    账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,
    交易渠道,业务类型,备注
    20200201100001\t,2020020122001400001000000001\t,LZRCA202002010001\t,爱心捐赠\t,2020-02-01 08:30:15\t,
    王芳(wan***@example.com)\t,+200.00\t,\t,10200.00\t,支付宝\t,在线支付\t,\t
    #-----------------------------------------账务明细列表结束------------------------------------
    #支出合计：2笔，共-89.20元
    #收入合计：5笔，共5618.00元
    #导出时间：[2020年03月01日 10:00:00]

* every row moves money one way: income in 收入金额 (``+200.00``), expense in 支出金额
  (``-88.00``, signed; an unsigned value is read as its absolute value);
* an income row of 业务类型 ``在线支付`` or ``交易`` is a payment: id = 业务流水号 (the 支付宝交易号,
  so a payment read from both exports is registered once), amount = 收入金额, time = 发生时间,
  payer = 对方账号 read like 对方账户 above;
* an expense row of 业务类型 ``交易退款`` is a refund: its own id is the 账务流水号, and its
  业务流水号 names the payment it refunds (in the file or imported before);
* fees (收费, 服务费, ...) and withdrawals (提现) are expenses, neither gifts nor refunds: skipped
  with their own reason; any other row is skipped as not a donation;
* 账户余额 is checked row by row (``base.check_running_balances``); the ``#收入合计`` and
  ``#支出合计`` footers are compared with the rows read, and a difference is a warning.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from donations.imports.base import (
    HEADER_SCAN_ROWS,
    MAX_ACCOUNT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REMARK_LENGTH,
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
    is_blank,
    normalise_header,
    optional_amount,
    parse_amount,
    parse_datetime,
)
from donations.models import Channel

FORMAT_LABEL = "支付宝对账单"
DEFAULT_PAYER_NAME = "支付宝用户"

COLUMNS = {
    "trade_no": ("支付宝交易号",),
    "merchant_order": ("商户订单号",),
    "biz_type": ("业务类型",),
    "product": ("商品名称",),
    "created": ("创建时间",),
    "finished": ("完成时间",),
    "counterparty": ("对方账户",),
    "amount": ("订单金额（元）", "订单金额"),
    "refund_batch": ("退款批次号/请求号", "退款批次号", "退款请求号"),
    "remark": ("备注",),
}
REQUIRED = ("trade_no", "merchant_order", "biz_type", ("finished", "created"), "counterparty", "amount", "refund_batch")
END_OF_LIST = "业务明细列表结束"

LEDGER_LABEL = "支付宝账务明细"
LEDGER_COLUMNS = {
    "ledger_serial": ("账务流水号",),
    "biz_serial": ("业务流水号",),
    "merchant_order": ("商户订单号",),
    "product": ("商品名称",),
    "time": ("发生时间", "入账时间"),
    "counterparty": ("对方账号", "对方账户"),
    "income": ("收入金额（+元）", "收入金额"),
    "expense": ("支出金额（-元）", "支出金额"),
    "balance": ("账户余额（元）", "账户余额"),
    "biz_type": ("业务类型",),
    "remark": ("备注",),
}
LEDGER_REQUIRED = ("ledger_serial", "biz_serial", "time", "income", "expense", "biz_type")
LEDGER_END_OF_LIST = "账务明细列表结束"
PAYMENT_TYPES = {"在线支付", "交易"}
REFUND_TYPES = {"交易退款", "退款"}
FEE_TYPES = {"收费", "服务费", "交易服务费", "手续费", "技术服务费", "交易手续费"}
WITHDRAWAL_TYPES = {"提现", "快速提现", "余额提现"}
_LEDGER_TOTAL = re.compile(
    r"^#\s*(收入|支出)合计[：:]\s*([0-9,]+)\s*笔\s*[，,]\s*共\s*([+-]?[0-9,]+(?:\.[0-9]+)?)\s*元"
)

_NAME_AND_ACCOUNT = re.compile(r"^(.*?)\s*[（(]([^()（）]*)[)）]$")
_ACCOUNT_ONLY = re.compile(r"^[0-9A-Za-z*+._\-@ ]+$")


def split_payer(text: str) -> tuple[str, str]:
    """``张三(zha***@163.com)`` -> (张三, zha***@163.com); ``138****0000`` -> ("", 138****0000)."""
    match = _NAME_AND_ACCOUNT.match(text)
    if match and match.group(1).strip():
        return match.group(1).strip(), match.group(2).strip()
    if ("@" in text or any(ch.isdigit() for ch in text)) and _ACCOUNT_ONLY.match(text):
        return "", text
    return text, ""


def _row(reader: RowReader, line: int, statement: ParsedStatement) -> ParsedRow | None:
    check_columns(reader)
    biz_type = reader.text("biz_type")
    if biz_type not in ("交易", "退款"):
        statement.skipped.append((line, _("业务类型 %(t)s，非捐赠") % {"t": biz_type[:20] or "（空）"}))
        return None
    trade_no = clean_text(reader.text("trade_no"), label=_l("支付宝交易号"), max_length=64)
    merchant_order = clean_text(reader.text("merchant_order"), label=_l("商户订单号"), max_length=64)
    time_value = reader.raw("finished") if reader.text("finished") else reader.raw("created")
    received_at = parse_datetime(time_value, _l("完成时间"))
    amount = parse_amount(reader.raw("amount"), _l("订单金额"))
    counterparty = clean_text(reader.text("counterparty"), label=_l("对方账户"), max_length=MAX_NAME_LENGTH)
    name, account = split_payer(counterparty)
    if len(account) > MAX_ACCOUNT_LENGTH:
        raise RowError(_("对方账户过长"))
    parts = []
    if merchant_order:
        parts.append(f"商户订单号：{merchant_order}")
    for key, label in (("product", "商品名称"), ("remark", "备注")):
        value = reader.text(key)
        if value:
            parts.append(f"{label}：{value}")
    remark = clean_text("；".join(parts), label=_l("商品名称或备注"), max_length=MAX_REMARK_LENGTH)
    if biz_type == "交易":
        if not trade_no:
            raise RowError(_("缺少支付宝交易号"))
        return ParsedRow(
            line=line,
            transaction_id=trade_no,
            received_at=received_at,
            amount=amount,
            payer_name=name,
            payer_account=account,
            remark=remark,
        )
    refund_id = clean_text(reader.text("refund_batch"), label=_l("退款批次号/请求号"), max_length=64)
    if not refund_id:
        raise RowError(_("退款行缺少退款批次号/请求号"))
    return ParsedRow(
        line=line,
        transaction_id=refund_id,
        received_at=received_at,
        amount=abs(amount),
        payer_name=name,
        payer_account=account,
        remark=remark,
        is_refund=True,
        # resolved in parse(): the payment with the same 商户订单号 wins
        refund_of=trade_no or refund_id,
    )


def parse(data: bytes) -> ParsedStatement:
    """Either Alipay export, told apart by its header."""
    text, encoding = decode_text(data)
    if _is_ledger(text):
        return _parse_ledger(text, encoding)
    return _parse_business(text, encoding)


def _is_ledger(text: str) -> bool:
    for scanned, (_line, cells) in enumerate(csv_rows(text)):
        if any(normalise_header(cell) == "账务流水号" for cell in cells):
            return True
        if scanned + 1 >= HEADER_SCAN_ROWS:
            return False
    return False


def _parse_business(text: str, encoding: str) -> ParsedStatement:
    rows = csv_rows(text)
    header = find_header(rows, columns=COLUMNS, required=REQUIRED, format_label=FORMAT_LABEL, encoding=encoding)
    statement = ParsedStatement(channel=Channel.ALIPAY, source=FORMAT_LABEL, default_payer_name=DEFAULT_PAYER_NAME)
    merchant_orders: dict[int, str] = {}  # line -> 商户订单号, to match refunds to payments in the file
    for line, cells in rows:
        if is_blank(cells):
            continue
        first = str(cells[0]).strip()
        if first.startswith("#"):
            if END_OF_LIST in first:
                break
            continue
        reader = RowReader(header, cells)
        try:
            row = _row(reader, line, statement)
        except RowError as exc:
            statement.rejected.append((line, exc.reason))
            continue
        if row is not None:
            statement.rows.append(row)
            merchant_orders[line] = reader.text("merchant_order")
    payment_by_order = {
        merchant_orders[row.line]: row.transaction_id
        for row in statement.rows
        if not row.is_refund and merchant_orders.get(row.line)
    }
    for row in statement.rows:
        if row.is_refund and merchant_orders.get(row.line) in payment_by_order:
            row.refund_of = payment_by_order[merchant_orders[row.line]]
    return statement


# --- 账务明细 (account ledger) ---------------------------------------------------------------------


def _ledger_row(
    reader: RowReader, line: int, statement: ParsedStatement, income: Decimal, expense: Decimal
) -> ParsedRow | None:
    biz_type = reader.text("biz_type")
    if income and expense:
        raise RowError(_("同一行既有收入金额又有支出金额"))
    if not income and not expense:
        raise RowError(_("没有收入金额或支出金额"))
    if income and biz_type not in PAYMENT_TYPES:
        statement.skipped.append((line, _("收入，业务类型 %(t)s，非捐赠") % {"t": biz_type[:20] or "（空）"}))
        return None
    if expense and biz_type not in REFUND_TYPES:
        if biz_type in FEE_TYPES or "服务费" in biz_type or "手续费" in biz_type:
            statement.skipped.append((line, _("手续费，非捐赠")))
        elif biz_type in WITHDRAWAL_TYPES:
            statement.skipped.append((line, _("提现，非捐赠")))
        else:
            statement.skipped.append((line, _("支出，业务类型 %(t)s，非捐赠") % {"t": biz_type[:20] or "（空）"}))
        return None
    biz_serial = clean_text(reader.text("biz_serial"), label=_l("业务流水号"), max_length=64)
    ledger_serial = clean_text(reader.text("ledger_serial"), label=_l("账务流水号"), max_length=64)
    received_at = parse_datetime(reader.raw("time"), _l("发生时间"))
    counterparty = clean_text(reader.text("counterparty"), label=_l("对方账号"), max_length=MAX_NAME_LENGTH)
    name, account = split_payer(counterparty)
    if len(account) > MAX_ACCOUNT_LENGTH:
        raise RowError(_("对方账号过长"))
    parts = [f"账务流水号：{ledger_serial}"] if ledger_serial else []
    for key, label in (("merchant_order", "商户订单号"), ("product", "商品名称"), ("remark", "备注")):
        value = reader.text(key)
        if value:
            parts.append(f"{label}：{value}")
    remark = clean_text("；".join(parts), label=_l("商品名称或备注"), max_length=MAX_REMARK_LENGTH)
    if income:
        if not biz_serial:
            raise RowError(_("缺少业务流水号"))
        return ParsedRow(
            line=line,
            transaction_id=biz_serial,
            received_at=received_at,
            amount=income,
            payer_name=name,
            payer_account=account,
            remark=remark,
        )
    if not ledger_serial:
        raise RowError(_("退款行缺少账务流水号"))
    if not biz_serial:
        raise RowError(_("退款行缺少业务流水号（原支付）"))
    return ParsedRow(
        line=line,
        transaction_id=ledger_serial,
        received_at=received_at,
        amount=abs(expense),
        payer_name=name,
        payer_account=account,
        remark=remark,
        is_refund=True,
        refund_of=biz_serial,
    )


def _parse_ledger(text: str, encoding: str) -> ParsedStatement:
    rows = csv_rows(text)
    header = find_header(
        rows, columns=LEDGER_COLUMNS, required=LEDGER_REQUIRED, format_label=LEDGER_LABEL, encoding=encoding
    )
    statement = ParsedStatement(channel=Channel.ALIPAY, source=LEDGER_LABEL, default_payer_name=DEFAULT_PAYER_NAME)
    balances: list[tuple[int, Decimal | None, Decimal | None]] = []
    read = {"收入": [0, Decimal(0)], "支出": [0, Decimal(0)]}  # rows and total of each side, as read
    footers: list[tuple[int, str]] = []
    trailing = 0
    ended = False
    for line, cells in rows:
        if is_blank(cells):
            continue
        first = str(cells[0]).strip()
        if first.startswith("#"):
            ended = ended or LEDGER_END_OF_LIST in first
            if ended and "合计" in first:
                footers.append((line, ",".join(str(cell) for cell in cells).strip()))
            continue
        if ended:
            trailing += 1
            continue
        reader = RowReader(header, cells)
        try:
            check_columns(reader)
            income = optional_amount(reader.raw("income"), _l("收入金额")) or Decimal(0)
            expense = abs(optional_amount(reader.raw("expense"), _l("支出金额")) or Decimal(0))
        except RowError as exc:
            statement.rejected.append((line, exc.reason))
            balances.append((line, None, None))
            continue
        for side, amount in (("收入", income), ("支出", expense)):
            if amount:
                read[side][0] += 1
                read[side][1] += amount
        try:
            balance = optional_amount(reader.raw("balance"), _l("账户余额"))
        except RowError:
            balance = None
        balances.append((line, income - expense, balance))
        try:
            row = _ledger_row(reader, line, statement, income, expense)
        except RowError as exc:
            statement.rejected.append((line, exc.reason))
            continue
        if row is not None:
            statement.rows.append(row)
    statement.warnings.extend(check_running_balances(balances))
    statement.warnings.extend(_check_ledger_footers(footers, read))
    if trailing:
        statement.warnings.append(_("列表结束标记之后还有 %(n)d 行内容，未导入") % {"n": trailing})
    return statement


def _check_ledger_footers(footers: list[tuple[int, str]], read: dict[str, list]) -> list[str]:
    """``#收入合计：5笔，共5618.00元`` and ``#支出合计：…`` against the rows read."""
    warnings = []
    for line, text in footers:
        match = _LEDGER_TOTAL.match(text)
        if match is None:
            warnings.append(_("第 %(line)d 行的合计无法读取：%(text)s") % {"line": line, "text": text[:40]})
            continue
        side, count, total = match.group(1), int(match.group(2).replace(",", "")), match.group(3)
        total = abs(Decimal(total.replace(",", "")))
        rows, amount = read[side]
        if (count, total) != (rows, amount):
            warnings.append(
                _("账务明细的%(side)s合计为 %(count)d 笔、%(total)s 元，实际读到 %(rows)d 笔、%(amount)s 元；"
                  "文件可能不完整") % {
                    "side": side, "count": count, "total": total, "rows": rows, "amount": amount}
            )  # fmt: skip
    return warnings

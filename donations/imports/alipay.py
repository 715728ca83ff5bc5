"""Alipay business statement (支付宝商家中心 业务明细, CSV) as downloaded.

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
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from donations.imports.base import (
    MAX_ACCOUNT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REMARK_LENGTH,
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
    text, encoding = decode_text(data)
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

"""WeChat Pay merchant statement (微信支付商户平台 交易账单, CSV) as downloaded.

Layout::

    交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,
    货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,
    商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注
    `2020-02-01 10:00:01,`wx2421b1c4370ec43b,`10000100,...,`SUCCESS,...
    总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额
    `12,`1200.00,`100.00,`0.00,`7.20000,`1200.00,`100.00

* every value is prefixed with a backtick (so Excel keeps long numbers as text);
* 交易状态 ``SUCCESS`` is a payment: id = 微信订单号, amount = 应结订单金额 (what is settled to
  the branch; the fee 手续费 is an expense and is not deducted from the gift);
* 交易状态 ``REFUND`` is a refund of the payment with the same 微信订单号: its own id is
  微信退款单号, its amount 退款金额; a 退款状态 other than SUCCESS (PROCESSING, ...) is skipped;
* REVOKED / CLOSED / NOTPAY / PAYERROR / USERPAYING rows are skipped (no money arrived);
* the footer (总交易单数 ...) ends the data; its count is checked against the rows read and a
  mismatch becomes a warning in the report;
* the file is usually GBK, sometimes UTF-8 with or without BOM (see ``base.decode_text``).

WeChat statements name no payer: every payment goes to the donor "微信用户"; the
payer's 用户标识 (openid) and the 商户订单号 are kept in the donation's note.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from donations.imports.base import (
    MAX_ACCOUNT_LENGTH,
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

FORMAT_LABEL = "微信支付对账单"
DEFAULT_PAYER_NAME = "微信用户"

COLUMNS = {
    "time": ("交易时间",),
    "transaction_id": ("微信订单号",),
    "merchant_order": ("商户订单号",),
    "openid": ("用户标识",),
    "status": ("交易状态",),
    "currency": ("货币种类",),
    "settlement_amount": ("应结订单金额",),
    "refund_id": ("微信退款单号",),
    "refund_amount": ("退款金额",),
    "refund_status": ("退款状态",),
    "product": ("商品名称",),
    "attach": ("商户数据包",),
}
REQUIRED = ("time", "transaction_id", "status", "settlement_amount", "refund_id", "refund_amount")
FOOTER_FIRST_CELL = "总交易单数"

# no money arrived: not a donation, not an error either
NOT_PAID = {
    "REVOKED": "已撤销",
    "CLOSED": "已关闭",
    "NOTPAY": "未支付",
    "PAYERROR": "支付失败",
    "USERPAYING": "用户支付中",
}


def _remark(reader: RowReader) -> str:
    parts = []
    for key, label in (("merchant_order", "商户订单号"), ("product", "商品名称"), ("attach", "商户数据包")):
        value = reader.text(key)
        if value:
            parts.append(f"{label}：{value}")
    return clean_text("；".join(parts), label=_l("商品名称或商户数据包"), max_length=MAX_REMARK_LENGTH)


def _row(reader: RowReader, line: int, statement: ParsedStatement) -> ParsedRow | None:
    check_columns(reader)
    status = reader.text("status").upper()
    currency = reader.text("currency").upper()
    if currency not in ("", "CNY"):
        raise RowError(_("货币种类 %(currency)s 不是人民币") % {"currency": currency[:10]})
    transaction_id = clean_text(reader.text("transaction_id"), label=_l("微信订单号"), max_length=64)
    if status in NOT_PAID:
        reason = _("交易状态 %(s)s（%(label)s），非到账") % {"s": status, "label": NOT_PAID[status]}
        statement.skipped.append((line, reason))
        return None
    if status not in ("SUCCESS", "REFUND"):
        raise RowError(_("交易状态不正确：%(s)s") % {"s": status[:20]})
    if not transaction_id:
        raise RowError(_("缺少微信订单号"))
    received_at = parse_datetime(reader.raw("time"), _l("交易时间"))
    account = clean_text(reader.text("openid"), label=_l("用户标识"), max_length=MAX_ACCOUNT_LENGTH)
    remark = _remark(reader)
    if status == "SUCCESS":
        return ParsedRow(
            line=line,
            transaction_id=transaction_id,
            received_at=received_at,
            amount=parse_amount(reader.raw("settlement_amount"), _l("应结订单金额")),
            payer_name="",
            payer_account=account,
            remark=remark,
        )
    refund_status = reader.text("refund_status").upper()
    if refund_status not in ("", "SUCCESS"):
        statement.skipped.append((line, _("退款状态 %(s)s，退款未完成") % {"s": refund_status[:20]}))
        return None
    refund_id = clean_text(reader.text("refund_id"), label=_l("微信退款单号"), max_length=64)
    if not refund_id:
        raise RowError(_("退款行缺少微信退款单号"))
    return ParsedRow(
        line=line,
        transaction_id=refund_id,
        received_at=received_at,
        amount=parse_amount(reader.raw("refund_amount"), _l("退款金额")),
        payer_name="",
        payer_account=account,
        remark=remark,
        is_refund=True,
        refund_of=transaction_id,
    )


def parse(data: bytes) -> ParsedStatement:
    text, encoding = decode_text(data)
    rows = csv_rows(text)
    header = find_header(rows, columns=COLUMNS, required=REQUIRED, format_label=FORMAT_LABEL, encoding=encoding)
    statement = ParsedStatement(channel=Channel.WECHAT, source=FORMAT_LABEL, default_payer_name=DEFAULT_PAYER_NAME)
    data_rows = 0
    footer_line = None
    for line, cells in rows:
        if is_blank(cells):
            continue
        first = cells[0].strip().lstrip("`").strip() if cells else ""
        if first == FOOTER_FIRST_CELL:
            footer_line = line
            break
        data_rows += 1
        reader = RowReader(header, cells)
        try:
            row = _row(reader, line, statement)
        except RowError as exc:
            statement.rejected.append((line, exc.reason))
            continue
        if row is not None:
            statement.rows.append(row)
    if footer_line is not None:
        _check_footer(rows, footer_line, data_rows, statement)
    return statement


def _check_footer(rows, footer_line: int, data_rows: int, statement: ParsedStatement) -> None:
    totals = next(((line, cells) for line, cells in rows if not is_blank(cells)), None)
    if totals is None:
        statement.warnings.append(_("第 %(line)d 行的汇总表头后没有汇总数据") % {"line": footer_line})
        return
    line, cells = totals
    count_text = cells[0].strip().lstrip("`").strip()
    try:
        count = int(count_text)
    except ValueError:
        warning = _("第 %(line)d 行的总交易单数无法读取：%(text)s") % {"line": line, "text": count_text[:20]}
        statement.warnings.append(warning)
        return
    if count != data_rows:
        statement.warnings.append(
            _("对账单汇总的总交易单数为 %(count)d，实际读到 %(rows)d 行交易；文件可能不完整") % {
                "count": count, "rows": data_rows}
        )  # fmt: skip
    trailing = sum(1 for _line, cells in rows if not is_blank(cells))
    if trailing:
        statement.warnings.append(_("汇总行之后还有 %(n)d 行内容，未导入") % {"n": trailing})

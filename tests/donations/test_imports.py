"""Statement imports (donations.imports): WeChat Pay, Alipay, bank, the XLSX template, the command."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook
from stdnum.cn import uscc

from donations.imports import ImportFileError, import_statement
from donations.imports.template import build_template_workbook
from donations.models import (
    CampaignStatus,
    Donation,
    DonationCorrection,
    DonationItem,
    DonationStatus,
    Donor,
    DonorKind,
    PublicDisplay,
)
from donations.services.intake import donation_confirm
from redcross.signoff import DualSignatureRequired
from tests.donations.factories import OrganisationDonorFactory, RecipientFactory
from tests.factories import StaffFactory

SAMPLES = Path(__file__).parent / "samples"
SHANGHAI = ZoneInfo("Asia/Shanghai")

_WX_HEADER_TEXT = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
_WX_FOOTER_TEXT = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
WX_HEADER = _WX_HEADER_TEXT.split(",")
WX_FOOTER = _WX_FOOTER_TEXT.split(",")

FORMULAS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"]


def wx(tid, amount="100.00", *, when="2020-02-01 10:00:01", status="SUCCESS", refund_id="0", refund="0.00", **extra):
    """One WeChat statement row: every value backtick-prefixed, as the merchant platform writes them."""
    values = {
        "交易时间": when,
        "公众账号ID": "wx8888888888888888",
        "商户号": "1900000109",
        "微信订单号": tid,
        "商户订单号": f"M{tid}",
        "用户标识": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "交易类型": "JSAPI",
        "交易状态": status,
        "货币种类": "CNY",
        "应结订单金额": amount,
        "微信退款单号": refund_id,
        "退款金额": refund,
        "退款状态": "SUCCESS" if status == "REFUND" else "",
        "商品名称": "爱心捐赠",
        **extra,
    }
    return ["`" + values.get(column, "") for column in WX_HEADER]


def csv_bytes(rows, encoding="gbk") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def wechat_file(*rows, footer=True, count=None, encoding="gbk") -> bytes:
    lines = [WX_HEADER, *rows]
    if footer:
        lines += [
            WX_FOOTER,
            ["`" + str(len(rows) if count is None else count), "`0.00", "`0.00", "`0", "`0", "`0", "`0"],
        ]
    return csv_bytes(lines, encoding)


def run(data, fmt, clerk, branch, campaign=None):
    return import_statement(path_or_file=data, fmt=fmt, by=clerk, branch=branch, campaign=campaign)


def nothing_written():
    return Donation.objects.count() == 0 and Donor.objects.count() == 0


# --- WeChat Pay -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_wechat_sample_imports_payments_and_matches_refunds(city, clerk, campaign):
    report = run(SAMPLES / "wechat_statement.csv", "wechat", clerk, city, campaign)

    assert (report.imported, report.duplicates, report.refunded, report.rejected) == (8, 0, 2, [])
    assert report.summary() == "imported: 8; duplicates: 0; refunded: 2; rejected: 0"
    assert report.warnings == []  # the footer's 总交易单数 (10) matches
    donations = Donation.objects.filter(channel="wechat")
    assert donations.count() == 8
    # imported cash still needs its second signature
    assert set(donations.values_list("status", flat=True)) == {DonationStatus.REGISTERED}
    assert set(donations.values_list("registered_by", flat=True)) == {clerk.pk}
    assert set(donations.values_list("campaign", flat=True)) == {campaign.pk}
    first = Donation.objects.get(channel_transaction_id="4200000501202002010000000001")
    assert first.amount == Decimal("100.00")
    assert first.received_at == datetime(2020, 2, 1, 9, 12, 45, tzinfo=SHANGHAI)
    assert "LZRC202002010001" in first.note and "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" in first.note
    # refunds: one full (50.00 of 50.00), one partial (80.00 of 200.00)
    full = Donation.objects.get(channel_transaction_id="4200000501202002010000000002")
    partial = Donation.objects.get(channel_transaction_id="4200000501202002010000000005")
    assert (full.amount, full.refunded_amount) == (Decimal("50.00"), Decimal("50.00"))
    assert (partial.amount, partial.refunded_amount) == (Decimal("200.00"), Decimal("80.00"))
    assert partial.refunds[0]["id"] == "50300000012020020200000000002"
    # one anonymous WeChat donor, masked, no receipt wanted
    donor = Donor.objects.get()
    assert (donor.name, donor.kind, donor.public_display, donor.wants_receipt) == (
        "微信用户",
        DonorKind.PERSON,
        PublicDisplay.MASKED,
        False,
    )


@pytest.mark.django_db
def test_running_the_same_file_twice_adds_nothing(city, clerk, campaign):
    run(SAMPLES / "wechat_statement.csv", "wechat", clerk, city, campaign)
    before = list(Donation.objects.order_by("id").values_list("id", "amount", "refunded_amount"))

    again = run(SAMPLES / "wechat_statement.csv", "wechat", clerk, city, campaign)

    assert (again.imported, again.duplicates, again.refunded, again.rejected) == (0, 10, 0, [])
    assert list(Donation.objects.order_by("id").values_list("id", "amount", "refunded_amount")) == before
    assert Donor.objects.count() == 1


@pytest.mark.django_db
def test_imported_cash_is_confirmed_by_a_second_person_only(city, clerk, reviewer, campaign):
    run(wechat_file(wx("W1")), "wechat", clerk, city, campaign)
    donation = Donation.objects.get()
    assert donation.status == DonationStatus.REGISTERED
    assert donation_confirm(donation=donation, by=reviewer).status == DonationStatus.CONFIRMED


@pytest.mark.django_db
def test_import_by_clerk_cannot_be_confirmed_by_the_same_clerk(city, clerk, campaign):
    both = StaffFactory(branch=city, roles=["donation_clerk", "finance_reviewer"])
    run(wechat_file(wx("W1")), "wechat", both, city, campaign)
    with pytest.raises(DualSignatureRequired):
        donation_confirm(donation=Donation.objects.get(), by=both)


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("gbk", b""), ("gb18030", b""), ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf")],
    ids=["gbk", "gb18030", "utf8", "utf8-bom"],
)
@pytest.mark.django_db
def test_wechat_encodings(city, clerk, campaign, encoding, prefix):
    data = prefix + wechat_file(wx("W1", 商品名称="抗击疫情爱心捐赠·澜州"), encoding=encoding)

    report = run(data, "wechat", clerk, city, campaign)

    assert (report.imported, report.rejected) == (1, [])
    assert "抗击疫情爱心捐赠·澜州" in Donation.objects.get().note


@pytest.mark.parametrize(
    "data",
    [
        # GBK header, then bytes that are neither UTF-8 nor GBK
        "交易时间,微信订单号\r\n".encode("gbk") + b"`2020-02-01,\x80\xff\xfe\r\n",
        # a UTF-16 export
        "\ufeff交易时间,微信订单号\r\n".encode("utf-16-le"),
        # an XLSX (zip) uploaded as CSV
        b"PK\x03\x04" + b"\x00" * 100,
        # NUL bytes: not a text statement
        wechat_file(wx("W1")).replace(b"W1", b"W\x001"),
    ],
    ids=["invalid-bytes", "utf16", "xlsx-as-csv", "nul"],
)
@pytest.mark.django_db
def test_undecodable_file_is_rejected_whole(city, clerk, campaign, data):
    with pytest.raises(ImportFileError):
        run(data, "wechat", clerk, city, campaign)
    assert nothing_written()


@pytest.mark.django_db
def test_mixed_encodings_are_rejected_whole(city, clerk, campaign):
    # a UTF-8 statement with one row pasted in from a GBK file: valid in neither encoding as a whole
    utf8 = wechat_file(wx("W1", 商品名称="爱心捐赠"), footer=False, encoding="utf-8")
    gbk_row = csv_bytes([wx("W2", 商品名称="爱心捐赠")], "gbk")
    with pytest.raises(ImportFileError) as excinfo:
        run(utf8 + gbk_row, "wechat", clerk, city, campaign)
    assert "表头" in excinfo.value.message or "编码" in excinfo.value.message
    assert nothing_written()


@pytest.mark.django_db
def test_wrong_header_is_rejected_whole(city, clerk, campaign):
    header = [c for c in WX_HEADER if c not in ("微信订单号", "应结订单金额")]
    data = csv_bytes([header, ["`x"] * len(header)])
    with pytest.raises(ImportFileError) as excinfo:
        run(data, "wechat", clerk, city, campaign)
    assert "缺少必需的列：微信订单号、应结订单金额" in excinfo.value.message
    assert "第 1 行" in excinfo.value.message
    assert nothing_written()


@pytest.mark.django_db
def test_a_statement_of_another_format_is_rejected_whole(city, clerk, campaign):
    with pytest.raises(ImportFileError) as excinfo:
        run(SAMPLES / "alipay_statement.csv", "wechat", clerk, city, campaign)
    assert "未找到微信支付对账单的表头" in excinfo.value.message
    assert "GBK" in excinfo.value.message
    assert nothing_written()


@pytest.mark.django_db
def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_imported(city, clerk, campaign):
    data = wechat_file(
        wx("OK1", "100.00"),  # line 2
        wx("NEG", "-5.00"),  # 3
        wx("HUGE", "10000000000.01"),  # 4: over 10^10 yuan
        wx("MAX", "10000000000.00"),  # 5: exactly 10^10 is accepted
        wx("GIANT", "99999999999999999999999.00"),  # 6
        wx("TEXT", "abc"),  # 7
        wx("EXP", "1e5"),  # 8
        wx("FEN", "12.345"),  # 9
        wx("ZERO", "0.00"),  # 10
        wx("DATE", when="2020-13-45 10:00:00"),  # 11
        wx("FUTURE", when="2099-01-01 00:00:00"),  # 12
        wx("OLD", when="1999-12-31 23:59:59"),  # 13
        ["`2020-02-01 10:00:01", "`wx", "`1900000109"],  # 14: too few columns
        wx("STATUS", status="FOO"),  # 15
        wx("REVOKED", status="REVOKED"),  # 16: skipped, not an error
        wx("USD", 货币种类="USD"),  # 17
        wx(""),  # 18
        wx("OK2", "0.01"),  # 19
    )

    report = run(data, "wechat", clerk, city, campaign)

    assert report.imported == 3
    assert sorted(report.rejected) == [
        (3, "金额必须大于零"),
        (4, "应结订单金额超过一百亿元，请核对"),
        (6, "应结订单金额超过一百亿元，请核对"),
        (7, "应结订单金额格式不正确：abc（须为元，最多两位小数）"),
        (8, "应结订单金额格式不正确：1e5（须为元，最多两位小数）"),
        (9, "应结订单金额格式不正确：12.345（须为元，最多两位小数）"),
        (10, "金额必须大于零"),
        (11, "交易时间格式不正确：2020-13-45 10:00:00"),
        (12, "到账时间不能晚于现在"),
        (13, "到账时间过早，请核对"),
        (14, "列数与表头不符（表头 27 列，本行 3 列）"),
        (15, "交易状态不正确：FOO"),
        (17, "货币种类 USD 不是人民币"),
        (18, "缺少微信订单号"),
    ]
    assert report.skipped == [(16, "交易状态 REVOKED（已撤销），非到账")]
    assert set(Donation.objects.values_list("channel_transaction_id", flat=True)) == {"OK1", "MAX", "OK2"}
    assert Donation.objects.get(channel_transaction_id="MAX").amount == Decimal("10000000000.00")
    assert report.lines()[:3] == [
        "imported: 3; duplicates: 0; refunded: 0; rejected: 14; skipped: 1",
        "line 3: 金额必须大于零",
        "line 4: 应结订单金额超过一百亿元，请核对",
    ]
    # a failed row leaves no donor behind either
    assert list(Donor.objects.values_list("name", flat=True)) == ["微信用户"]


@pytest.mark.django_db
def test_duplicate_ids_inside_one_file(city, clerk, campaign):
    data = wechat_file(
        wx("W1", "10.00"),  # line 2
        wx("W1", "10.00"),  # 3: the same row again: a duplicate
        wx("W2", "20.00"),  # 4
        wx("W2", "25.00"),  # 5: same id, other amount: rejected
    )
    report = run(data, "wechat", clerk, city, campaign)
    assert (report.imported, report.duplicates) == (2, 1)
    assert report.rejected == [(5, "交易号 W2 与第 4 行相同但内容不同")]
    assert Donation.objects.get(channel_transaction_id="W2").amount == Decimal("20.00")


@pytest.mark.django_db
def test_duplicate_ids_across_runs(city, clerk, campaign):
    run(wechat_file(wx("W1", "10.00"), wx("W2", "20.00")), "wechat", clerk, city, campaign)

    report = run(wechat_file(wx("W1", "10.00"), wx("W2", "99.00"), wx("W3", "30.00")), "wechat", clerk, city, campaign)

    assert (report.imported, report.duplicates) == (1, 1)
    assert report.rejected == [(3, "渠道交易号 W2 已登记，但金额不同（已登记 20.00 元，本行 99.00 元）")]
    assert Donation.objects.count() == 3


@pytest.mark.django_db
def test_transaction_ids_are_per_channel(city, clerk, campaign):
    run(wechat_file(wx("SAME1", "10.00")), "wechat", clerk, city, campaign)
    bank = csv_bytes([["交易日期", "流水号", "对方户名", "贷方发生额"], ["2020-02-01", "SAME1", "张三", "10.00"]])
    assert run(bank, "bank", clerk, city, campaign).imported == 1


@pytest.mark.django_db
def test_refund_of_a_payment_imported_earlier(city, clerk, campaign):
    run(wechat_file(wx("W1", "100.00")), "wechat", clerk, city, campaign)

    refunds = wechat_file(
        wx("W1", "0.00", status="REFUND", refund_id="R1", refund="30.00", when="2020-02-02 10:00:00"),  # 2
        wx("W1", "0.00", status="REFUND", refund_id="R2", refund="70.01"),  # 3: more than is left
        wx("W1", "0.00", status="REFUND", refund_id="R3", refund="70.00"),  # 4
        wx("NOPE", "0.00", status="REFUND", refund_id="R4", refund="1.00"),  # 5
        wx("W1", "0.00", status="REFUND", refund_id="R5", refund="-1.00"),  # 6
        wx("W1", "0.00", status="REFUND", refund_id="0", refund="1.00", 微信退款单号=""),  # 7
    )
    report = run(refunds, "wechat", clerk, city, campaign)

    donation = Donation.objects.get()
    assert report.refunded == 2
    assert sorted(report.rejected) == [
        (3, f"退款金额 70.01 元超过原支付 {donation.serial} 可退金额 70.00 元"),
        (5, "未找到原支付（交易号 NOPE）"),
        (6, "退款金额必须大于零"),
        (7, "退款行缺少微信退款单号"),
    ]
    assert donation.refunded_amount == Decimal("100.00")
    assert donation.amount == Decimal("100.00")  # what was received stays on record
    assert [entry["id"] for entry in donation.refunds] == ["R1", "R3"]
    assert donation.refunds[0]["refunded_at"] == "2020-02-02T10:00:00+08:00"
    # the refunds again: duplicates, nothing changes
    again = run(refunds, "wechat", clerk, city, campaign)
    assert (again.refunded, again.duplicates) == (0, 2)
    donation.refresh_from_db()
    assert donation.refunded_amount == Decimal("100.00")


@pytest.mark.django_db
def test_refund_of_a_confirmed_donation_is_recorded_as_a_correction(city, clerk, reviewer, campaign):
    run(wechat_file(wx("W1", "100.00")), "wechat", clerk, city, campaign)
    donation_confirm(donation=Donation.objects.get(), by=reviewer)

    run(wechat_file(wx("W1", "0.00", status="REFUND", refund_id="R1", refund="40.00")), "wechat", clerk, city, campaign)

    correction = DonationCorrection.objects.get()
    assert correction.changes == {"refunded_amount": {"before": "0.00", "after": "40.00"}}
    assert correction.corrected_by == clerk


@pytest.mark.django_db
def test_refund_before_its_payment_in_the_file_is_matched(city, clerk, campaign):
    data = wechat_file(
        wx("W1", "0.00", status="REFUND", refund_id="R1", refund="10.00"),
        wx("W1", "10.00"),
    )
    report = run(data, "wechat", clerk, city, campaign)
    assert (report.imported, report.refunded, report.rejected) == (1, 1, [])


@pytest.mark.django_db
def test_unfinished_refund_is_skipped(city, clerk, campaign):
    data = wechat_file(
        wx("W1", "10.00"),
        wx("W1", "0.00", status="REFUND", refund_id="R1", refund="10.00", 退款状态="PROCESSING"),
    )
    report = run(data, "wechat", clerk, city, campaign)
    assert report.skipped == [(3, "退款状态 PROCESSING，退款未完成")]
    assert Donation.objects.get().refunded_amount == Decimal("0.00")


@pytest.mark.django_db
def test_footer_count_mismatch_is_a_warning(city, clerk, campaign):
    report = run(wechat_file(wx("W1"), wx("W2"), count=3), "wechat", clerk, city, campaign)
    assert report.imported == 2
    assert report.warnings == ["对账单汇总的总交易单数为 3，实际读到 2 行交易；文件可能不完整"]
    assert "warning: 对账单汇总的总交易单数为 3，实际读到 2 行交易；文件可能不完整" in report.lines()


@pytest.mark.django_db
def test_statement_without_footer_and_with_blank_lines(city, clerk, campaign):
    data = wechat_file(wx("W1"), footer=False) + b"\r\n\r\n" + csv_bytes([wx("W2")])
    report = run(data, "wechat", clerk, city, campaign)
    assert (report.imported, report.rejected, report.warnings) == (2, [], [])


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.django_db
def test_wechat_formula_text_is_stored_verbatim(city, clerk, campaign, formula):
    run(wechat_file(wx("W1", 商户数据包=formula)), "wechat", clerk, city, campaign)
    assert f"商户数据包：{formula}" in Donation.objects.get().note


# --- Alipay ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_alipay_sample(city, clerk, campaign):
    report = run(SAMPLES / "alipay_statement.csv", "alipay", clerk, city, campaign)

    assert (report.imported, report.duplicates, report.refunded, report.rejected) == (5, 0, 1, [])
    assert set(Donation.objects.values_list("status", flat=True)) == {DonationStatus.REGISTERED}
    wang = Donor.objects.get(name="王芳")  # two payments, one donor
    assert wang.donations.count() == 2
    assert Donor.objects.filter(name="支付宝用户").count() == 1  # account only: 支付宝用户
    refunded = Donation.objects.get(channel_transaction_id="2020020122001400001000000002")
    assert refunded.refunded_amount == Decimal("88.00")
    assert refunded.refunds[0]["id"] == "LZRCA202002010002RF01"
    assert refunded.received_at == datetime(2020, 2, 1, 9, 15, 42, tzinfo=SHANGHAI)  # 完成时间
    formula = Donation.objects.get(channel_transaction_id="2020020122001400001000000005")
    assert "备注：=cmd|' /C calc'!A0" in formula.note

    again = run(SAMPLES / "alipay_statement.csv", "alipay", clerk, city, campaign)
    assert (again.imported, again.duplicates, again.refunded) == (0, 6, 0)


_ALIPAY_HEADER_TEXT = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)
ALIPAY_HEADER = _ALIPAY_HEADER_TEXT.split(",")


def ali(trade_no, order, kind, account, amount, *, batch="", remark="", when="2020-02-01 10:00:00"):
    values = {
        "支付宝交易号": trade_no,
        "商户订单号": order,
        "业务类型": kind,
        "商品名称": "爱心捐赠",
        "创建时间": when,
        "完成时间": when,
        "对方账户": account,
        "订单金额（元）": amount,
        "商家实收（元）": amount,
        "退款批次号/请求号": batch,
        "备注": remark,
    }
    return [values.get(column, "") + "\t" for column in ALIPAY_HEADER]


def alipay_file(*rows, encoding="gbk") -> bytes:
    top = [["#支付宝业务明细查询"], ["#账号：[20880123456789010156]"], ["#-----业务明细列表----"]]
    bottom = [["#-----业务明细列表结束----"], ["#交易合计：1笔"]]
    return csv_bytes([*top, [f"{c}" for c in ALIPAY_HEADER], *rows, *bottom], encoding)


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.django_db
def test_alipay_formula_payer_names_are_plain_text(city, clerk, campaign, formula):
    report = run(alipay_file(ali("T1", "O1", "交易", f"{formula}(x***@example.com)", "10.00")), "alipay", clerk, city)
    assert report.imported == 1
    donation = Donation.objects.get()
    assert donation.donor.name == formula
    assert "付款账户：x***@example.com" in donation.note


@pytest.mark.django_db
def test_alipay_refund_matched_by_merchant_order_and_other_types_skipped(city, clerk, campaign):
    data = alipay_file(
        ali("T1", "O1", "交易", "张三(z***@example.com)", "100.00"),  # line 5
        ali("", "O1", "退款", "张三(z***@example.com)", "-30.00", batch="O1RF1"),  # 6: no trade number
        ali("T9", "O9", "收费", "", "-0.60"),  # 7
        ali("T2", "O2", "退款", "李四", "-1.00"),  # 8: no batch id
        ali("T3", "O3", "退款", "李四", "-1.00", batch="RF3"),  # 9: payment unknown
    )
    report = run(data, "alipay", clerk, city, campaign)
    assert (report.imported, report.refunded) == (1, 1)
    assert report.skipped == [(7, "业务类型 收费，非捐赠")]
    assert sorted(report.rejected) == [(8, "退款行缺少退款批次号/请求号"), (9, "未找到原支付（交易号 T3）")]
    assert Donation.objects.get().refunded_amount == Decimal("30.00")


@pytest.mark.django_db
def test_alipay_utf8_with_bom(city, clerk, campaign):
    data = b"\xef\xbb\xbf" + alipay_file(ali("T1", "O1", "交易", "王芳", "10.00"), encoding="utf-8")
    assert run(data, "alipay", clerk, city, campaign).imported == 1
    assert Donation.objects.get().donor.name == "王芳"


# --- malicious strings ------------------------------------------------------------------------

BANK_HEADER = ["交易日期", "交易时间", "流水号", "对方户名", "对方账号", "贷方发生额", "借方发生额", "摘要"]


def bank_row(serial, name="张三", credit="100.00", debit="", summary="捐款", *, day="2020-02-01", time="10:00:00"):
    return [day, time, serial, name, "6222020000000000000", credit, debit, summary]


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert('x')</script>",
        "'; DROP TABLE donations_donation; --",
        "Robert'); DELETE FROM donations_donor;--",
        "../../../../etc/passwd",
        "{{ settings.SECRET_KEY }}",
        "${jndi:ldap://example.invalid/a}",
        "%s%s%s%n",
        "😀小明",
        "张三\u200b",  # zero-width space: kept as typed
        *FORMULAS,
    ],
)
@pytest.mark.django_db
def test_malicious_names_are_stored_as_plain_text(city, clerk, campaign, name):
    data = csv_bytes([BANK_HEADER, bank_row("B1", name=name, summary=name)], "utf-8")
    report = run(data, "bank", clerk, city, campaign)
    assert (report.imported, report.rejected) == (1, [])
    donation = Donation.objects.get()
    assert donation.donor.name == name
    assert f"对账单信息：{name}" in donation.note


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("张" * 201, "对方户名过长（最多 200 个字符）"),
        ("张三\x07", "对方户名含有控制字符"),
        ("\u202egnp.exe", "对方户名含有控制字符"),
        ("张\x1b[31m三", "对方户名含有控制字符"),
    ],
    ids=["too-long", "bell", "rtl-override", "ansi-escape"],
)
@pytest.mark.django_db
def test_names_with_control_characters_or_too_long_are_rejected(city, clerk, campaign, name, reason):
    data = csv_bytes([BANK_HEADER, bank_row("B1", name=name), bank_row("B2")], "utf-8")
    report = run(data, "bank", clerk, city, campaign)
    assert report.imported == 1
    assert report.rejected == [(2, reason)]


@pytest.mark.django_db
def test_a_huge_cell_rejects_the_file_whole(city, clerk, campaign):
    # beyond the csv module's field limit (128 KiB): the file cannot be read reliably
    data = csv_bytes([BANK_HEADER, bank_row("B1"), bank_row("B2", summary="x" * 200_000)], "utf-8")
    with pytest.raises(ImportFileError) as excinfo:
        run(data, "bank", clerk, city, campaign)
    assert "无法按 CSV 读取" in excinfo.value.message
    assert nothing_written()


# --- bank -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bank_csv_with_title_lines_outflows_and_totals(city, clerk, campaign):
    data = csv_bytes(
        [
            ["中国示例银行账户明细"],  # 1
            ["账号：6222020000000000001", "户名：测试市红十字会"],  # 2
            BANK_HEADER,  # 3
            bank_row("B1", "澜州示例商贸有限公司", "5000.00"),  # 4
            bank_row("B2", "", "200.00"),  # 5: no name
            bank_row("B3", "电费", "", "312.50"),  # 6: money out
            bank_row("B4", "李四", "-10.00"),  # 7
            bank_row("B5", "王五", "", ""),  # 8
            ["合计", "", "", "", "", "5190.00", "312.50", ""],  # 9
        ]
    )
    report = run(data, "bank", clerk, city, campaign)
    assert report.imported == 2
    assert report.skipped == [(6, "支出，非捐赠"), (9, "合计行")]
    assert sorted(report.rejected) == [(7, "金额必须大于零"), (8, "没有收入金额")]
    assert report.summary() == "imported: 2; duplicates: 0; refunded: 0; rejected: 2; skipped: 2"
    assert "skipped 1 (支出，非捐赠): lines 6" in report.lines()
    assert set(Donor.objects.values_list("name", flat=True)) == {"澜州示例商贸有限公司", "银行转账捐赠人"}
    donation = Donation.objects.get(channel_transaction_id="B1")
    assert (donation.channel, donation.amount) == ("bank", Decimal("5000.00"))
    assert donation.received_at == datetime(2020, 2, 1, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_bank_synonyms_and_single_amount_column(city, clerk, campaign):
    synonyms = csv_bytes(
        [
            ["记账日期", "交易流水号", "对方账户名称", "收入金额", "支出金额", "用途"],
            ["20200201", "S1", "张三", "1,234.50", "", "捐赠"],
        ]
    )
    direction = csv_bytes(
        [
            ["交易日期", "时间", "交易参考号", "对方名称", "交易金额", "借贷标志"],
            ["2020/02/01", "101500", "D1", "李四", "20.00", "贷"],
            ["2020/02/01", "101600", "D2", "房租", "900.00", "借"],
            ["2020/02/01", "101700", "D3", "王五", "20.00", "?"],
        ]
    )
    first = run(synonyms, "bank", clerk, city, campaign)
    second = run(direction, "bank", clerk, city, campaign)
    assert (first.imported, second.imported) == (1, 1)
    assert Donation.objects.get(channel_transaction_id="S1").amount == Decimal("1234.50")
    assert Donation.objects.get(channel_transaction_id="D1").received_at == datetime(
        2020, 2, 1, 10, 15, tzinfo=SHANGHAI
    )
    assert second.skipped == [(3, "支出，非捐赠")]
    assert second.rejected == [(4, "借贷标志不正确：?")]


@pytest.mark.django_db
def test_bank_header_without_income_column_is_rejected_whole(city, clerk, campaign):
    data = csv_bytes([["交易日期", "流水号", "对方户名", "借方发生额"], ["2020-02-01", "B1", "张三", "1.00"]])
    with pytest.raises(ImportFileError) as excinfo:
        run(data, "bank", clerk, city, campaign)
    assert "缺少必需的列：贷方发生额" in excinfo.value.message
    assert nothing_written()


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_bank_xlsx_with_typed_cells(city, clerk, campaign):
    data = xlsx_bytes(
        {
            "说明": [["本表为账户明细"]],
            "明细": [
                ["账户明细查询"],
                ["交易日期", "交易时间", "流水号", "对方户名", "贷方发生额", "借方发生额", "摘要"],
                [datetime(2020, 2, 1, 9, 30), None, 20200201001, "张三", 100.1, None, "捐款"],
                [datetime(2020, 2, 1), "11:45:00", "X2", "李四", 0.1 + 0.2, None, "捐款"],
                [datetime(2020, 2, 1), "11:46:00", "X3", "王五", 1.005, None, "捐款"],
                [datetime(2020, 2, 1), "11:47:00", "X4", "赵六", "=B1*100", None, "捐款"],
                [datetime(2020, 2, 1), "11:48:00", "X5", "单位", None, 50, "手续费"],
            ],
        }
    )
    report = run(data, "bank", clerk, city, campaign)
    assert report.imported == 2
    assert sorted(report.rejected) == [
        (5, "贷方发生额格式不正确：1.005（须为元，最多两位小数）"),
        (6, "贷方发生额不能是公式：=B1*100"),
    ]
    assert report.skipped == [(7, "支出，非捐赠")]
    first = Donation.objects.get(channel_transaction_id="20200201001")
    assert first.amount == Decimal("100.10")
    assert first.received_at == datetime(2020, 2, 1, 9, 30, tzinfo=SHANGHAI)
    assert Donation.objects.get(channel_transaction_id="X2").amount == Decimal("0.30")


@pytest.mark.django_db
def test_broken_xlsx_is_rejected_whole(city, clerk, campaign):
    data = xlsx_bytes({"明细": [["x"]]})
    with pytest.raises(ImportFileError):
        run(data[: len(data) // 2], "bank", clerk, city, campaign)
    assert nothing_written()


# --- the XLSX template --------------------------------------------------------------------------


def credit_code(base="91330100MA27XY812"):
    return base + uscc.calc_check_digit(base)


def filled_template(cash_rows=(), item_rows=()) -> bytes:
    workbook = load_workbook(io.BytesIO(build_template_workbook()))
    for title, rows in (("捐款", cash_rows), ("捐物", item_rows)):
        for row in rows:
            workbook[title].append(list(row))
        for row in workbook[title].iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("=") and cell.column_letter not in "HK":
                    cell.data_type = "s"  # typed text, not a formula cell (as Excel stores a leading ')
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_template_workbook_layout():
    workbook = load_workbook(io.BytesIO(build_template_workbook()))
    assert workbook.sheetnames == ["捐款", "捐物"]
    cash, items = workbook["捐款"], workbook["捐物"]
    assert [c.value for c in cash[1]] == [
        "捐赠人类型", "捐赠人名称", "统一社会信用代码", "联系电话", "捐赠渠道", "渠道交易号", "到账时间", "金额（元）",
        "募捐活动短名", "定向受赠单位", "捐赠意愿", "备注",
    ]  # fmt: skip
    assert [c.value for c in items[1]][:3] == ["捐赠编号", "捐赠人类型", "捐赠人名称"]
    assert [c.value for c in items[1]][11] == "价值依据"
    assert all(c.font.bold for c in cash[1])
    assert "示例行" in cash["A1"].comment.text
    lists = {v.formula1 for v in cash.data_validations.dataValidation}
    assert {'"个人,单位"', '"现场,银行转账,微信支付,支付宝,其他"'} <= lists
    assert '"发票,报关单,捐赠协议,捐赠函报价,市场价格,评估,无"' in {
        v.formula1 for v in items.data_validations.dataValidation
    }
    assert cash.max_row == 1 and items.max_row == 1  # no example data to import by mistake


@pytest.mark.django_db
def test_template_import_cash_and_in_kind(city, clerk, campaign):
    code = credit_code()
    existing = OrganisationDonorFactory(branch=city, name="澜州示例科技有限公司", credit_code=code)
    recipient = RecipientFactory(branch=city, name="澜州市第一人民医院")
    when = datetime(2020, 2, 1, 10, 0)
    data = filled_template(
        cash_rows=[
            ["单位", "澜州示例科技有限公司", code, "", "银行转账", "BK001", when, 10000, "", "澜州市第一人民医院", "抗疫", ""],  # noqa: E501
            ["个人", "张三", "", "13800000000", "现场", "", "2020-02-01 11:00", "200.50", "", "", "", FORMULAS[0]],
            ["个人", "张三", "", "13800000000", "现场", "", "2020-02-01 11:00", "200.50", "", "", "", FORMULAS[0]],
            ["个人", FORMULAS[1], "", "", "其他", "", when, "1.00", "", "", "", ""],
        ],
        item_rows=[
            [1, "单位", "澜州示例医药有限公司", credit_code("91330100MA27XY813"), "", when, "医用外科口罩", "50只/盒",
             200, "盒", 45, "发票", "2022-12-31", "", "", ""],
            [1, "", "", "", "", "", "防护服", "", 10.5, "件", "", "无", "", "", "", ""],
            [2, "个人", "李四", "", "13900000000", when, "矿泉水", "", 30, "箱", "", "", "", "", "", ""],
        ],
    )  # fmt: skip

    report = run(data, "template", clerk, city, campaign)

    assert report.rejected == []
    assert (report.imported, report.duplicates) == (6, 0)
    assert report.warnings == ["[捐款] 第 4 行与第 3 行内容相同且无渠道交易号，均已导入；如为重复录入，请删除其中一笔"]
    bank = Donation.objects.get(channel="bank")
    assert (bank.donor, bank.amount, bank.designated_recipient, bank.channel_transaction_id) == (
        existing,
        Decimal("10000.00"),
        recipient,
        "BK001",
    )
    on_site = Donation.objects.filter(channel="on_site", kind="cash")
    assert on_site.count() == 2
    assert {d.donor.phone for d in on_site} == {"13800000000"}
    assert all(FORMULAS[0] in d.note for d in on_site)
    assert Donation.objects.get(channel="other").donor.name == FORMULAS[1]
    masks = Donation.objects.get(kind="in_kind", donor__name="澜州示例医药有限公司")
    assert [(i.name, i.quantity, i.unit_value, i.value_basis) for i in masks.items.all()] == [
        ("医用外科口罩", Decimal("200.000"), Decimal("45.00"), "invoice"),
        ("防护服", Decimal("10.500"), None, "none"),
    ]
    assert masks.items.first().expiry_date.isoformat() == "2022-12-31"
    assert set(Donation.objects.values_list("status", flat=True)) == {DonationStatus.REGISTERED}

    again = run(data, "template", clerk, city, campaign)
    assert (again.imported, again.duplicates, again.rejected) == (0, 6, [])
    assert Donation.objects.count() == 6


@pytest.mark.django_db
def test_template_bad_rows(city, clerk, campaign):
    when = datetime(2020, 2, 1, 10, 0)
    campaign.status = CampaignStatus.CLOSED
    campaign.save()
    data = filled_template(
        cash_rows=[
            ["个人", "张三", "", "", "银行转账", "", when, "10.00", "", "", "", ""],  # 2
            ["团体", "张三", "", "", "现场", "", when, "10.00", "", "", "", ""],  # 3
            ["个人", "张三", "", "", "现场", "", when, "=1+1", "", "", "", ""],  # 4
            ["个人", "张三", "", "", "现场", "", when, "10.00", "nope", "", "", ""],  # 5
            ["个人", "张三", "", "", "现场", "", when, "10.00", campaign.slug, "", "", ""],  # 6
            ["个人", "张三", "", "", "现场", "", when, "10.00", "", "不存在的医院", "", ""],  # 7
            ["单位", "某公司", "91330100MA27XY8120", "", "现场", "", when, "10.00", "", "", "", ""],  # 8
            ["个人", "张三", credit_code(), "", "现场", "", when, "10.00", "", "", "", ""],  # 9
            ["个人", "张三", "", "", "现场", "", when, "10.00", "", "", "", ""],  # 10: good
        ],
        item_rows=[
            [1, "个人", "李四", "", "", when, "口罩", "", 0, "盒", "", "", "", "", "", ""],  # 2
            [1, "", "", "", "", "", "手套", "", 5, "盒", "", "", "", "", "", ""],  # 3
            [2, "个人", "王五", "", "", when, "手套", "", 5, "盒", "", "发票", "", "", "", ""],  # 4
            [3, "个人", "赵六", "", "", when, "口罩", "", 5, "盒", "", "", "", "", "", ""],  # 5
            [3, "个人", "孙七", "", "", when, "手套", "", 5, "盒", "", "", "", "", "", ""],  # 6
            [4, "个人", "周八", "", "", when, "口罩", "", 5, "盒", "", "礼物", "", "", "", ""],  # 7
        ],
    )
    report = run(data, "template", clerk, city)  # default: the city's regular giving

    assert report.imported == 1
    assert sorted(report.rejected) == [
        (2, "[捐款] 银行转账、微信支付、支付宝的捐款须填写渠道交易号"),
        (2, "[捐物] 数量必须大于零（整笔未导入）"),
        (3, "[捐款] 捐赠人类型不正确：团体（可选：个人、单位）"),
        (4, "[捐款] 金额不能是公式：=1+1"),
        (4, "[捐物] 有价值依据的物资须填写单价（整笔未导入）"),
        (5, "[捐款] 募捐活动不存在：nope"),
        (6, "[捐款] 募捐活动“测试抗疫专项募捐”已结束，不能接收新的捐赠"),
        (6, "[捐物] 同一捐赠编号的捐赠人名称与第 5 行不一致（捐赠编号 3 整笔未导入）"),
        (7, "[捐款] 定向受赠单位不存在：不存在的医院"),
        (7, "[捐物] 价值依据不正确：礼物（可选：发票、报关单、捐赠协议、捐赠函报价、市场价格、评估、无、无价值凭证）"
            "（捐赠编号 4 整笔未导入）"),
        (8, "[捐款] 统一社会信用代码校验位不正确，请核对后重新输入"),
        (9, "[捐款] 个人捐赠人没有统一社会信用代码"),
    ]  # fmt: skip
    assert Donation.objects.get().campaign.kind == "regular"
    assert DonationItem.objects.count() == 0


@pytest.mark.django_db
def test_template_wrong_sheets_or_header_rejected_whole(city, clerk, campaign):
    with pytest.raises(ImportFileError) as excinfo:
        run(xlsx_bytes({"Sheet1": [["a"]]}), "template", clerk, city, campaign)
    assert "缺少工作表“捐款”和“捐物”" in excinfo.value.message
    with pytest.raises(ImportFileError) as excinfo:
        run(
            xlsx_bytes({"捐款": [["捐赠人类型", "捐赠人名称", "金额（元）"], ["个人", "张三", 1]]}),
            "template",
            clerk,
            city,
        )
    assert "缺少必需的列：捐赠渠道、到账时间" in excinfo.value.message
    with pytest.raises(ImportFileError):
        run(SAMPLES / "wechat_statement.csv", "template", clerk, city, campaign)
    assert nothing_written()


# --- permissions, branches, campaigns -----------------------------------------------------------


@pytest.mark.django_db
def test_permissions_and_branch_scope(branch_tree, city, clerk, campaign):
    data = wechat_file(wx("W1"))
    officer = StaffFactory(branch=city, roles=["relief_officer"])
    with pytest.raises(PermissionDenied):
        run(data, "wechat", officer, city, campaign)
    east_clerk = StaffFactory(branch=branch_tree["east"], roles=["donation_clerk"])
    with pytest.raises(PermissionDenied):
        run(data, "wechat", east_clerk, branch_tree["west"])
    assert nothing_written()
    # the city clerk imports for a district into the city's campaign
    report = run(data, "wechat", clerk, branch_tree["east"], campaign)
    assert report.imported == 1
    assert Donation.objects.get().branch == branch_tree["east"]
    assert Donor.objects.get().branch == branch_tree["east"]


@pytest.mark.django_db
def test_closed_campaign_rejects_the_file_whole(city, clerk, campaign):
    campaign.status = CampaignStatus.CLOSED
    campaign.save()
    with pytest.raises(ImportFileError) as excinfo:
        run(wechat_file(wx("W1")), "wechat", clerk, city, campaign)
    assert "已结束" in excinfo.value.message
    assert nothing_written()


@pytest.mark.django_db
def test_unknown_format_and_empty_file(city, clerk, campaign):
    with pytest.raises(ImportFileError):
        run(wechat_file(wx("W1")), "paypal", clerk, city, campaign)
    with pytest.raises(ImportFileError) as excinfo:
        run(b"  \r\n", "wechat", clerk, city, campaign)
    assert excinfo.value.message == "文件是空的"


# --- the management command -----------------------------------------------------------------------


def command(*args):
    out = io.StringIO()
    call_command("import_donations", *map(str, args), stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_command_defaults_to_city_regular_giving_and_first_superuser(city, clerk):
    admin = StaffFactory(branch=city, is_superuser=True, username="root")

    lines = command(SAMPLES / "wechat_statement.csv", "--format", "wechat")

    assert lines == ["imported: 8; duplicates: 0; refunded: 2; rejected: 0"]
    donation = Donation.objects.first()
    assert (donation.branch, donation.campaign.slug, donation.registered_by) == (city, "regular-cs", admin)
    assert command(SAMPLES / "wechat_statement.csv", "--format", "wechat") == [
        "imported: 0; duplicates: 10; refunded: 0; rejected: 0"
    ]


@pytest.mark.django_db
def test_command_with_options_prints_rejected_rows(tmp_path, branch_tree, clerk, campaign):
    path = tmp_path / "statement.csv"
    path.write_bytes(wechat_file(wx("W1"), wx("W2", "-1.00"), wx("W3", when="yesterday")))

    lines = command(
        path, "--format", "wechat", "--branch", "CSE", "--campaign", campaign.slug, "--user", clerk.username
    )

    assert lines == [
        "imported: 1; duplicates: 0; refunded: 0; rejected: 2",
        "line 3: 金额必须大于零",
        "line 4: 交易时间格式不正确：yesterday",
    ]
    assert Donation.objects.get().branch == branch_tree["east"]


@pytest.mark.django_db
def test_command_errors(tmp_path, city, clerk, campaign):
    path = tmp_path / "wrong.csv"
    path.write_bytes(csv_bytes([["日期", "金额"], ["2020-02-01", "1.00"]]))
    with pytest.raises(CommandError, match="没有启用的超级用户"):
        command(path, "--format", "wechat")
    with pytest.raises(CommandError, match="文件未导入：未找到微信支付对账单的表头"):
        command(path, "--format", "wechat", "--user", clerk.username)
    with pytest.raises(CommandError, match="组织代码不存在：NOPE"):
        command(path, "--format", "wechat", "--user", clerk.username, "--branch", "NOPE")
    with pytest.raises(CommandError, match="募捐活动不存在：nope"):
        command(path, "--format", "wechat", "--user", clerk.username, "--campaign", "nope")
    with pytest.raises(CommandError, match="无法读取文件"):
        command(tmp_path / "missing.csv", "--format", "wechat", "--user", clerk.username)
    officer = StaffFactory(branch=city, roles=["relief_officer"])
    with pytest.raises(CommandError, match="没有导入捐赠对账单的权限"):
        command(SAMPLES / "wechat_statement.csv", "--format", "wechat", "--user", officer.username)
    assert nothing_written()


# --- admin upload ---------------------------------------------------------------------------------


@pytest.fixture
def import_admin():
    from django.contrib import admin

    from donations.admin.imports import DonationImportAdminMixin

    class ImportAdmin(DonationImportAdminMixin, admin.ModelAdmin):
        pass

    return ImportAdmin(Donation, admin.site)


def admin_request(rf, user, method="get", **kwargs):
    request = getattr(rf, method)("/admin/donations/donation/import/", **kwargs)
    request.user = user
    return request


@pytest.mark.django_db
def test_admin_upload_shows_the_report(rf, city, clerk, campaign, import_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("wechat.csv", (SAMPLES / "wechat_statement.csv").read_bytes(), "text/csv")
    data = {"file": upload, "fmt": "wechat", "branch": city.pk, "campaign": campaign.pk}

    response = import_admin.import_view(admin_request(rf, clerk, "post", data=data))
    response.render()

    html = response.content.decode()
    assert "imported: 8; duplicates: 0; refunded: 2; rejected: 0" in html
    assert "双人双签" in html
    assert Donation.objects.count() == 8


@pytest.mark.django_db
def test_admin_upload_of_a_wrong_file_shows_the_error(rf, city, clerk, import_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.csv", b"\x80\xff\xfe\xfd", "text/csv")
    response = import_admin.import_view(
        admin_request(rf, clerk, "post", data={"file": upload, "fmt": "wechat", "branch": city.pk})
    )
    response.render()
    assert "整个文件未导入：无法识别文件编码" in response.content.decode()
    assert nothing_written()


@pytest.mark.django_db
def test_admin_template_download_and_permission(rf, city, clerk, import_admin):
    response = import_admin.import_template_view(admin_request(rf, clerk))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(response.content)).sheetnames == ["捐款", "捐物"]
    officer = StaffFactory(branch=city, roles=["relief_officer"])
    with pytest.raises(PermissionDenied):
        import_admin.import_view(admin_request(rf, officer))


# --- batched registration (statement imports register 1,000 payments per transaction) ----------


@pytest.mark.django_db
def test_batched_import_numbers_serials_gaplessly_and_records_history(city, clerk, campaign, monkeypatch):
    from donations.imports import base

    monkeypatch.setattr(base, "IMPORT_BATCH", 3)  # 7 rows: batches of 3, 3 and 1
    rows = [wx(f"B{n}", f"{n}.00", when=f"2020-02-01 10:00:0{n}") for n in range(1, 8)]
    report = run(wechat_file(*rows), "wechat", clerk, city, campaign)

    assert (report.imported, report.rejected) == (7, [])
    serials = list(Donation.objects.order_by("received_at").values_list("serial", flat=True))
    assert serials == [f"{city.code}2020-{n:06d}" for n in range(1, 8)]
    history = Donation.history.filter(history_type="+")
    assert history.count() == 7
    assert set(history.values_list("history_user", flat=True)) == {clerk.pk}
    assert set(history.values_list("history_change_reason", flat=True)) == {"donation_register"}
    assert Donor.history.filter(history_type="+", history_user=clerk).count() == 1


@pytest.mark.django_db
def test_batched_import_gives_no_donor_to_a_payer_whose_only_row_is_refused(city, clerk, campaign):
    data = csv_bytes([BANK_HEADER, bank_row("T1", "甲某", "100.00"), bank_row("T2", "乙某", "-5.00")])
    report = run(data, "bank", clerk, city, campaign)

    assert report.imported == 1 and [line for line, _reason in report.rejected] == [3]
    assert set(Donor.objects.values_list("name", flat=True)) == {"甲某"}


@pytest.mark.django_db
def test_a_batch_that_clashes_with_a_concurrent_import_is_redone_row_by_row(city, clerk, campaign, monkeypatch):
    from django.db import IntegrityError

    from donations.imports import base
    from donations.services.intake import donation_register

    # another clerk registered W2 after our duplicate check read the database
    other = StaffFactory(branch=city, roles=["donation_clerk"])
    donation_register(
        by=other, branch=city, donor=OrganisationDonorFactory(branch=city), campaign=campaign, kind="cash",
        channel="wechat", received_at=datetime(2020, 2, 1, 10, tzinfo=SHANGHAI), amount="100.00",
        channel_transaction_id="W2",
    )  # fmt: skip
    monkeypatch.setattr(base, "existing_transactions", lambda channel, ids: {})
    real_batch = base.donation_register_cash_batch
    calls = []

    def clashing_batch(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            real_batch(**kwargs)  # writes serials and donors, then the insert fails as on a unique index
            raise IntegrityError("duplicate key value violates unique constraint")
        return real_batch(**kwargs)

    monkeypatch.setattr(base, "donation_register_cash_batch", clashing_batch)
    report = run(wechat_file(wx("W1"), wx("W2"), wx("W3")), "wechat", clerk, city, campaign)

    assert (report.imported, report.duplicates, report.rejected) == (2, 1, [])
    assert Donation.objects.filter(registered_by=clerk).count() == 2
    # the rolled-back batch left no serial and no donor behind
    assert sorted(Donation.objects.values_list("serial", flat=True)) == [f"{city.code}2020-{n:06d}" for n in (1, 2, 3)]
    assert Donor.objects.filter(name="微信用户").count() == 1

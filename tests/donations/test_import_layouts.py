"""Statements as branches download them (issue 17): the Alipay 账务明细, the big banks' corporate
statements (CSV and XLSX), running balances, and saved column mappings for the rest.

Every bank layout here is an INVENTED sample modelled on the bank's corporate online-banking export
(names, accounts and amounts are made up). CSV layouts are files in ``samples/``; XLSX layouts are
the row lists below, written to a workbook by ``xlsx_bytes``.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from donations.imports import ImportFileError, import_statement
from donations.imports.base import HeaderNotRecognised, check_running_balances, header_signature, normalise_header
from donations.models import AmountLayout, Donation, Donor, StatementMapping
from donations.services.statement_mappings import statement_mapping_save
from tests.factories import StaffFactory

SAMPLES = Path(__file__).parent / "samples"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def run(data, fmt, clerk, branch, campaign=None, mapping=None):
    return import_statement(path_or_file=data, fmt=fmt, by=clerk, branch=branch, campaign=campaign, mapping=mapping)


def xlsx_bytes(rows: list[list], title: str = "明细") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sample_text(name: str, encoding: str = "gbk") -> str:
    return (SAMPLES / name).read_bytes().decode(encoding)


def to_bytes(text: str, encoding: str = "gbk") -> bytes:
    return text.encode(encoding)


def nothing_written() -> bool:
    return Donation.objects.count() == 0 and Donor.objects.count() == 0


# --- Alipay 账务明细 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_alipay_ledger_sample(city, clerk, campaign):
    report = run(SAMPLES / "alipay_ledger.csv", "alipay", clerk, city, campaign)

    assert (report.imported, report.duplicates, report.refunded, report.rejected) == (5, 0, 1, [])
    assert report.warnings == []  # footers and balances agree with the rows
    assert report.skipped_by_reason() == {"手续费，非捐赠": [7, 13], "提现，非捐赠": [14]}
    assert "skipped 2 (手续费，非捐赠): lines 7, 13" in report.lines()
    payment = Donation.objects.get(channel_transaction_id="2020020122001400001000000002")
    assert (payment.channel, payment.amount, payment.refunded_amount) == ("alipay", Decimal("88.00"), Decimal("88.00"))
    assert payment.refunds[0]["id"] == "20200202100001"  # the refund's 账务流水号
    assert payment.donor.name == "李建国" and "付款账户：138****5678" in payment.note
    assert payment.received_at == datetime(2020, 2, 1, 9, 15, 42, tzinfo=SHANGHAI)
    assert "账务流水号：20200201100003" in payment.note
    assert Donor.objects.get(name="王芳").donations.count() == 2
    formula = Donation.objects.get(channel_transaction_id="2020020122001400001000000005")
    assert "备注：=cmd|' /C calc'!A0" in formula.note  # stored as text

    again = run(SAMPLES / "alipay_ledger.csv", "alipay", clerk, city, campaign)
    assert (again.imported, again.duplicates, again.refunded, again.rejected) == (0, 6, 0, [])


@pytest.mark.django_db
def test_alipay_ledger_after_the_business_file_adds_no_payment(city, clerk, campaign):
    run(SAMPLES / "alipay_statement.csv", "alipay", clerk, city, campaign)
    report = run(SAMPLES / "alipay_ledger.csv", "alipay", clerk, city, campaign)
    # the ledger's 业务流水号 is the business file's 支付宝交易号: the same five payments
    assert (report.imported, report.duplicates) == (0, 5)
    assert Donation.objects.count() == 5


def ledger(*rows: str, footers: str | None = None) -> bytes:
    """A ledger with the sample's header and the given data lines (no balances unless given)."""
    head = sample_text("alipay_ledger.csv").split("\r\n")[:5]
    tail = ["#-----------------------------------------账务明细列表结束------------------------------------"]
    if footers is not None:
        tail.append(footers)
    return to_bytes("\r\n".join([*head, *rows, *tail]) + "\r\n")


def lrow(
    serial, biz, kind, income="", expense="", *, who="张三(z***@example.com)", balance="", when="2020-02-01 10:00:00"
):
    cells = [serial, biz, f"M{biz}", "爱心捐赠", when, who, income, expense, balance, "支付宝", kind, ""]
    return ",".join(f"{cell}\t" for cell in cells)


@pytest.mark.django_db
def test_alipay_ledger_refund_of_a_payment_imported_before(city, clerk, campaign):
    run(ledger(lrow("L1", "T1", "在线支付", "+100.00")), "alipay", clerk, city, campaign)
    report = run(ledger(lrow("L2", "T1", "交易退款", expense="-40.00")), "alipay", clerk, city, campaign)
    assert (report.refunded, report.rejected) == (1, [])
    assert Donation.objects.get().refunded_amount == Decimal("40.00")
    unknown = run(ledger(lrow("L3", "T404", "交易退款", expense="-1.00")), "alipay", clerk, city, campaign)
    assert unknown.rejected == [(6, "未找到原支付（交易号 T404）")]


@pytest.mark.django_db
def test_alipay_ledger_bad_rows_are_named_and_good_rows_imported(city, clerk, campaign):
    data = ledger(
        lrow("L1", "T1", "在线支付", "+100.00"),  # 6: good
        lrow("L2", "T2", "在线支付", "+1.00", "-1.00"),  # 7: both sides
        lrow("L3", "T3", "在线支付"),  # 8: neither
        lrow("L4", "T4", "在线支付", "abc"),  # 9: not an amount
        lrow("L5", "T5", "在线支付", "+99999999999.00"),  # 10: over 10^10
        lrow("L6", "", "在线支付", "+5.00"),  # 11: payment without 业务流水号
        lrow("L7", "", "交易退款", expense="-5.00"),  # 12: refund naming no payment
        lrow("L8", "T8", "在线支付", "+5.00", who="<b>李四</b>"),  # 13: markup is plain text
        lrow("L9", "T9", "在线支付", "+5.00", when="2020-13-45 99:00:00"),  # 14: bad time
        lrow("L1", "T1", "在线支付", "+100.00"),  # 15: the same row twice
        lrow("L10", "T1", "在线支付", "+101.00"),  # 16: same id, other amount
        lrow("L11", "T11", "转账", "+5.00"),  # 17: income that is no payment
        "L12\t,T12\t,只有三列\t",  # 18: truncated
    )
    report = run(data, "alipay", clerk, city, campaign)

    assert report.imported == 2 and report.duplicates == 1
    assert sorted(report.rejected) == [
        (7, "同一行既有收入金额又有支出金额"),
        (8, "没有收入金额或支出金额"),
        (9, "收入金额格式不正确：abc（须为元，最多两位小数）"),
        (10, "收入金额超过一百亿元，请核对"),
        (11, "缺少业务流水号"),
        (12, "退款行缺少业务流水号（原支付）"),
        (14, "发生时间格式不正确：2020-13-45 99:00:00"),
        (16, "交易号 T1 与第 6 行相同但内容不同"),
        (18, "列数与表头不符（表头 12 列，本行 3 列）"),
    ]
    assert report.skipped == [(17, "收入，业务类型 转账，非捐赠")]
    assert Donation.objects.get(channel_transaction_id="T8").donor.name == "<b>李四</b>"


@pytest.mark.django_db
def test_alipay_ledger_footers_and_balances_are_checked(city, clerk, campaign):
    data = ledger(
        lrow("L1", "T1", "在线支付", "+100.00", balance="1100.00"),  # 6
        lrow("L2", "T2", "在线支付", "+50.00", balance="1150.00"),  # 7
        lrow("L3", "T2", "服务费", expense="-0.30", balance="1149.70"),  # 8
        lrow("L4", "T4", "在线支付", "+20.00", balance="1189.70"),  # 9: a 20.00 row is missing before it
        footers="#收入合计：4笔，共190.00元\r\n#支出合计：1笔，共-0.30元\r\n#收入合计：不详",
    )
    report = run(data, "alipay", clerk, city, campaign)

    assert report.imported == 3
    assert report.warnings == [
        "第 9 行：余额 1189.70 元与上一笔（第 8 行）余额 1149.70 元加本行发生额 20.00 元不符，相差 20.00 元；"
        "对账单可能缺少交易行或有重复行",
        "账务明细的收入合计为 4 笔、190.00 元，实际读到 3 笔、170.00 元；文件可能不完整",
        "第 13 行的合计无法读取：#收入合计：不详",
    ]


@pytest.mark.django_db
def test_alipay_ledger_truncated_download_is_reported(city, clerk, campaign):
    data = (SAMPLES / "alipay_ledger.csv").read_bytes()
    cut = data[: data.index(b"20200202100002") + 30]  # mid-row, footers lost
    report = run(cut, "alipay", clerk, city, campaign)
    assert report.imported == 5 and report.refunded == 1
    assert report.rejected == [(13, "列数与表头不符（表头 12 列，本行 2 列）")]


@pytest.mark.django_db
def test_alipay_ledger_header_with_ascii_brackets_and_padding(city, clerk, campaign):
    text = (
        sample_text("alipay_ledger.csv")
        .replace("收入金额（+元）", "\t收入金额(+元)\t")
        .replace("账户余额（元）", "账户余额(元)")
    )
    report = run(to_bytes(text, "utf-8"), "alipay", clerk, city, campaign)
    assert (report.imported, report.refunded, report.warnings) == (5, 1, [])


# --- the big banks' corporate statements ---------------------------------------------------------

# 建设银行 (CCB) 对公账户明细, XLSX: the case: the only time column is 交易时间 holding date and
# time as text, amounts with a suffix, the payer in 对方单位名称; numbers typed as text or numbers
CCB_ROWS = [
    ["中国建设银行 单位账户明细"],
    ["账号：33050161000000000001", None, "户名：澜州市红十字会"],
    [],
    ["交易时间", "借方发生额（支取）", "贷方发生额（收入）", "余额", "币种", "对方单位名称", "对方账号", "对方开户机构",
     "摘要", "备注", "账户明细编号-交易流水号", "凭证种类", "凭证号"],
    ["2020-02-01 10:12:13", None, "3,000.00", "23,000.00", "人民币", "澜州示例建材有限公司", "33001610000000000002",
     "建行澜州分行", "转账", "抗疫捐款", "1-CCB0201000001", None, None],
    ["2020-02-01 11:00:00", 150.0, None, 22850.0, "人民币", "澜州市水务公司", "33001610000000000003", "建行澜州分行",
     "代扣水费", None, "2-CCB0201000002", "电子", "0001"],
    ["2020-02-02 09:30:45", None, 88.8, 22938.8, "人民币", "钱十一", "6217000000000000004", "建行澜州分行",
     "网银转账", "捐款", "3-CCB0202000003", None, None],
    ["合计", "150.00", "3,088.80", None, None, None, None, None, None, None, None, None, None],
    ["导出时间：2020-02-03 09:00:00"],
]  # fmt: skip

# 中国银行 (BOC) 对公交易明细, XLSX: payer and payee columns (the payer of income is the donor),
# an unsigned 交易金额 with 借贷标识, separate date and time
BOC_ROWS = [
    ["中国银行 交易明细查询"],
    ["交易类型", "付款人开户行名", "付款人账号", "付款人名称", "收款人开户行名", "收款人账号", "收款人名称", "交易日期",
     "交易时间", "交易货币", "交易金额", "交易后余额", "借贷标识", "交易流水号", "用途", "摘要", "备注"],
    ["来账", "中国银行澜州分行", "6216600000000000001", "郑十二", "中国银行澜州分行", "40001234567", "澜州市红十字会",
     "2020/02/01", "08:45:00", "CNY", "500.00", "8500.00", "贷", "BOC20200201A001", "捐款", "转账", None],
    ["往账", "中国银行澜州分行", "40001234567", "澜州市红十字会", "中国银行澜州分行", "6216600000000000002",
     "澜州某某物资公司", "2020/02/01", "13:00:00", "CNY", "2000.00", "6500.00", "借", "BOC20200201A002", "采购", "转账",
     None],
    ["来账", "工商银行澜州分行", "1202000000000000003", "澜州示例餐饮有限公司", "中国银行澜州分行", "40001234567",
     "澜州市红十字会", "2020/02/02", "10:00:00", "CNY", "1000.00", "7500.00", "贷", "BOC20200202A003", "抗疫",
     "跨行来账", "捐赠"],
]  # fmt: skip

# 南京银行 (a city commercial bank) 对公账户明细, XLSX: a 序号 column, one date-and-time column, units
# in brackets, 本页小计 and 累计 lines with an empty first cell
NJCB_ROWS = [
    ["南京银行企业网上银行 账户明细"],
    ["序号", "交易日期时间", "交易流水号", "收入（元）", "支出（元）", "余额（元）", "对方名称", "对方账号", "对方行名",
     "用途", "备注"],
    [1, "2020-02-01 09:09:09", "NJCB202002010001", "1,500.00", "", "11,500.00", "冯十三", "6214000000000000001",
     "南京银行澜州分行", "捐款", ""],
    [2, "2020-02-01 17:30:00", "NJCB202002010002", "", "10.00", "11,490.00", "", "", "", "手续费", ""],
    [3, "2020-02-02 08:00:00", "NJCB202002020003", "20.00", "", "11,510.00", "陈十四", "6214000000000000002",
     "南京银行澜州分行", "爱心", "微信转入"],
    [None, "本页小计", None, "1,520.00", "10.00", None, None, None, None, None, None],
    [None, "累计", None, "1,520.00", "10.00", None, None, None, None, None, None],
]  # fmt: skip

# (layout, file, expected: {transaction id: (amount, payer, received at)}, skipped reasons by line)
BANK_LAYOUTS = [
    (
        "icbc-csv",
        lambda: (SAMPLES / "bank_icbc.csv").read_bytes(),
        {
            "ICBC2020020100000001": ("5000.00", "澜州示例商贸有限公司", datetime(2020, 2, 1, 9, 5, 11, 123456)),
            "ICBC2020020100000002": ("200.00", "张三", datetime(2020, 2, 1, 10, 20, 2)),
            "ICBC2020020200000004": ("1000.00", "澜州示例医药有限公司", datetime(2020, 2, 2, 11, 11, 11)),
        },
        {6: "支出，非捐赠", 8: "合计行", 9: "合计行"},
    ),
    (
        "ccb-xlsx",
        lambda: xlsx_bytes(CCB_ROWS),
        {
            "1-CCB0201000001": ("3000.00", "澜州示例建材有限公司", datetime(2020, 2, 1, 10, 12, 13)),
            "3-CCB0202000003": ("88.80", "钱十一", datetime(2020, 2, 2, 9, 30, 45)),
        },
        {6: "支出，非捐赠", 8: "合计行", 9: "说明行，非交易"},
    ),
    (
        "abc-csv",
        lambda: (SAMPLES / "bank_abc.csv").read_bytes(),
        {
            "ABC0201000101": ("800.00", "李四", datetime(2020, 2, 1, 9, 15, 11)),
            "ABC0202000103": ("1200.00", "澜州示例科技有限公司", datetime(2020, 2, 2, 8, 30)),
        },
        {5: "支出，非捐赠", 7: "合计行"},
    ),
    (
        "boc-xlsx",
        lambda: xlsx_bytes(BOC_ROWS),
        {
            "BOC20200201A001": ("500.00", "郑十二", datetime(2020, 2, 1, 8, 45)),
            "BOC20200202A003": ("1000.00", "澜州示例餐饮有限公司", datetime(2020, 2, 2, 10, 0)),
        },
        {4: "支出，非捐赠"},
    ),
    (
        "bocom-csv-newest-first",
        lambda: (SAMPLES / "bank_bocom.csv").read_bytes(),
        {
            "BOCOM20200202000003": ("66.00", "王五", datetime(2020, 2, 2, 16, 40)),
            "BOCOM20200201000001": ("600.00", "孙七", datetime(2020, 2, 1, 10, 12, 13)),
        },
        {4: "支出，非捐赠"},
    ),
    (
        "njcb-xlsx",
        lambda: xlsx_bytes(NJCB_ROWS),
        {
            "NJCB202002010001": ("1500.00", "冯十三", datetime(2020, 2, 1, 9, 9, 9)),
            "NJCB202002020003": ("20.00", "陈十四", datetime(2020, 2, 2, 8, 0)),
        },
        {4: "支出，非捐赠", 6: "合计行", 7: "合计行"},
    ),
]


@pytest.mark.parametrize(("layout", "make", "expected", "skipped"), BANK_LAYOUTS, ids=[b[0] for b in BANK_LAYOUTS])
@pytest.mark.django_db
def test_bank_layouts(city, clerk, campaign, layout, make, expected, skipped):
    report = run(make(), "bank", clerk, city, campaign)

    assert (report.imported, report.rejected, report.warnings) == (len(expected), [], [])
    assert dict(report.skipped) == skipped
    for transaction_id, (amount, payer, when) in expected.items():
        donation = Donation.objects.get(channel="bank", channel_transaction_id=transaction_id)
        assert (donation.amount, donation.donor.name) == (Decimal(amount), payer)
        assert donation.received_at == when.replace(tzinfo=SHANGHAI)
    again = run(make(), "bank", clerk, city, campaign)
    assert (again.imported, again.duplicates, again.rejected) == (0, len(expected), [])


@pytest.mark.django_db
def test_bank_notes_collect_summary_purpose_and_remark(city, clerk, campaign):
    run(xlsx_bytes(BOC_ROWS), "bank", clerk, city, campaign)
    note = Donation.objects.get(channel_transaction_id="BOC20200202A003").note
    assert "对账单信息：跨行来账；抗疫；捐赠" in note and "付款账户：1202000000000000003" in note


def test_headers_match_without_units_or_suffixes_in_brackets():
    assert normalise_header(" 贷方发生额（收入）") == "贷方发生额"
    assert normalise_header("余额(元)") == normalise_header("余额【元】") == normalise_header("余额[元]") == "余额"
    assert normalise_header("`交易 时间\t") == "交易时间"
    assert header_signature(["交易时间", "金额(元)", None, ""]) == header_signature(["交易时间", "金额（元）"])


@pytest.mark.django_db
def test_the_first_synonym_wins_when_a_header_has_two(city, clerk, campaign):
    # 凭证号 comes first in the row but 交易流水号 is the better id
    data = xlsx_bytes(
        [
            ["凭证号", "交易时间", "交易流水号", "对方户名", "贷方发生额"],
            ["0001", "2020-02-01 10:00:00", "S1", "张三", "5.00"],
        ]
    )
    assert run(data, "bank", clerk, city, campaign).imported == 1
    assert Donation.objects.get().channel_transaction_id == "S1"


def test_running_balances():
    d = Decimal
    rows = [(2, d("10"), d("110")), (3, d("-5"), d("105")), (4, d("1"), d("107")), (5, None, None), (6, d("1"), d("1"))]
    assert len(check_running_balances(rows)) == 1  # line 4 jumps; line 5 could not be read, 6 starts again
    assert "第 4 行" in check_running_balances(rows)[0]
    newest_first = [(2, d("1"), d("107")), (3, d("-5"), d("106")), (4, d("10"), d("111"))]
    assert check_running_balances(newest_first) == []
    many = [(n, d("1"), d(n * 2)) for n in range(1, 40)]
    warnings = check_running_balances(many)
    assert len(warnings) == 21 and warnings[-1] == "另有 18 处余额不衔接，未逐一列出"


@pytest.mark.django_db
def test_bank_balance_jump_is_a_warning_naming_the_line(city, clerk, campaign):
    text = sample_text("bank_icbc.csv").replace('"105,887.50"', '"106,887.50"')
    report = run(to_bytes(text), "bank", clerk, city, campaign)
    assert report.imported == 3
    assert report.warnings == [
        "第 7 行：余额 106887.50 元与上一笔（第 6 行）余额 104887.50 元加本行发生额 1000.00 元不符，相差 1000.00 元；"
        "对账单可能缺少交易行或有重复行"
    ]


@pytest.mark.django_db
def test_bank_bad_rows(city, clerk, campaign):
    header = ["交易时间", "交易流水号", "对方户名", "贷方发生额", "借方发生额", "余额"]
    data = xlsx_bytes(
        [
            header,
            ["2020-02-01 10:00:00", "B1", "张三", "10.00", None, "110.00"],  # 2: good
            ["2020-02-01 10:00:00", "B1", "张三", "10.00", None, "110.00"],  # 3: duplicate
            ["2020-02-01 10:01:00", "B2", "李四", "1e3", None, None],  # 4: exponent
            ["2020-02-01 10:02:00", "B3", "王五", "100000000000", None, None],  # 5: huge
            ["2020-02-01 10:03:00", "", "赵六", "5.00", None, None],  # 6: no id
            ["10:04:00", "B5", "钱七", "5.00", None, None],  # 7: a time without a date
            ["2020-02-01 10:05:00", "B6", "<img src=x onerror=alert(1)>", "5.00", None, None],  # 8: markup
            ["2020-02-01 10:06:00", "B7", "孙八", True, None, None],  # 9: wrong type
            ["2020-02-01 10:07:00", "B8", "周九", "5.00", "abc", None],  # 10: bad outflow
        ]
    )
    report = run(data, "bank", clerk, city, campaign)
    assert (report.imported, report.duplicates) == (2, 1)
    assert sorted(report.rejected) == [
        (4, "贷方发生额格式不正确：1e3（须为元，最多两位小数）"),
        (5, "贷方发生额超过一百亿元，请核对"),
        (6, "缺少流水号"),
        (7, "缺少交易日期"),
        (9, "贷方发生额格式不正确"),
        (10, "借方发生额格式不正确：abc（须为元，最多两位小数）"),
    ]
    assert Donation.objects.get(channel_transaction_id="B6").donor.name == "<img src=x onerror=alert(1)>"


@pytest.mark.django_db
def test_bank_truncated_csv_names_the_cut_row(city, clerk, campaign):
    data = (SAMPLES / "bank_abc.csv").read_bytes()
    cut = data[: data.index(b"20200202") + 20]
    report = run(cut, "bank", clerk, city, campaign)
    assert report.imported == 1
    assert report.rejected == [(6, "列数与表头不符（表头 12 列，本行 3 列）")]


@pytest.mark.django_db
def test_old_excel_is_refused_with_advice(city, clerk, campaign):
    with pytest.raises(ImportFileError, match=r"旧版 Excel（\.xls）"):
        run(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "bank", clerk, city, campaign)
    assert nothing_written()


# --- saved column mappings -----------------------------------------------------------------------

UNKNOWN_HEADER = ["帐务日期", "发生时刻", "参考号", "交易对方", "对方帐号", "发生金额", "结余", "附注"]


def unknown_mapping(branch, by, **changes) -> StatementMapping:
    fields = {
        "branch": branch,
        "name": "澜州农商行基本户",
        "bank_account": "澜州农商行 尾号0001",
        "header": UNKNOWN_HEADER,
        "columns": {"date": 0, "time": 1, "serial": 2, "payer_name": 3, "payer_account": 4, "amount": 5,
                    "balance": 6, "summary": 7},
        "amount_layout": AmountLayout.SIGNED,
        **changes,
    }  # fmt: skip
    return statement_mapping_save(mapping=StatementMapping(**fields), by=by)


@pytest.mark.django_db
def test_an_unknown_header_is_rejected_whole_with_the_first_rows(city, clerk, campaign):
    with pytest.raises(HeaderNotRecognised) as excinfo:
        run(SAMPLES / "bank_unknown.csv", "bank", clerk, city, campaign)
    assert excinfo.value.header_line == 2
    assert excinfo.value.rows[1] == UNKNOWN_HEADER
    assert "未找到银行对账单的表头" in excinfo.value.message
    assert nothing_written()


@pytest.mark.django_db
def test_a_saved_mapping_reads_later_files_with_the_same_header(city, clerk, campaign):
    mapping = unknown_mapping(city, clerk)

    report = run(SAMPLES / "bank_unknown.csv", "bank", clerk, city, campaign)  # found by its header

    assert (report.imported, report.rejected, report.warnings) == (2, [], [])
    assert report.mapping == mapping.name and report.lines()[1] == "mapping: 澜州农商行基本户"
    assert report.skipped == [(4, "支出，非捐赠")]  # the signed -50.00
    donation = Donation.objects.get(channel_transaction_id="LZRCB0003")
    assert (donation.amount, donation.donor.name) == (Decimal("2000.00"), "吴九")
    assert donation.received_at == datetime(2020, 2, 2, 14, 45, 10, tzinfo=SHANGHAI)
    assert "银行对账单（澜州农商行基本户）导入（第 5 行）" in donation.note
    # the same header in an XLSX, with another title: the same mapping
    rows = [["另一个标题"], UNKNOWN_HEADER, ["2020/02/03", "10:00:00", "LZRCB0004", "郑十", "", 30, 12130, ""]]
    assert run(xlsx_bytes(rows), "bank", clerk, city, campaign, mapping=mapping).imported == 1
    again = run(SAMPLES / "bank_unknown.csv", "bank", clerk, city, campaign)
    assert (again.imported, again.duplicates) == (0, 2)


@pytest.mark.django_db
def test_mappings_are_per_branch_and_switched_off_ones_are_not_used(branch_tree, city, clerk, campaign):
    east = branch_tree["east"]
    east_clerk = StaffFactory(branch=east, roles=["donation_clerk"])
    mapping = unknown_mapping(east, east_clerk)
    with pytest.raises(HeaderNotRecognised):  # the city does not use the east's mapping
        run(SAMPLES / "bank_unknown.csv", "bank", clerk, city, campaign)
    with pytest.raises(ImportFileError, match="不属于接收组织"):
        run(SAMPLES / "bank_unknown.csv", "bank", clerk, city, campaign, mapping=mapping)
    mapping.is_active = False
    statement_mapping_save(mapping=mapping, by=east_clerk)
    with pytest.raises(HeaderNotRecognised):
        run(SAMPLES / "bank_unknown.csv", "bank", east_clerk, east)
    # chosen by name it is still used
    assert run(SAMPLES / "bank_unknown.csv", "bank", east_clerk, east, mapping=mapping).imported == 2
    with pytest.raises(PermissionDenied):  # a district clerk cannot save a mapping for the city
        unknown_mapping(city, east_clerk, name="x")


@pytest.mark.django_db
def test_a_mapping_whose_header_differs_rejects_the_file_whole(city, clerk, campaign):
    mapping = unknown_mapping(city, clerk)
    with pytest.raises(ImportFileError, match="与列映射“澜州农商行基本户”不一致"):
        run(SAMPLES / "bank_icbc.csv", "bank", clerk, city, campaign, mapping=mapping)
    with pytest.raises(ImportFileError, match="列映射只用于银行对账单"):
        run(SAMPLES / "alipay_ledger.csv", "alipay", clerk, city, campaign, mapping=mapping)
    assert Donation.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"columns": {"date": 0, "amount": 5}}, "请选择流水号（交易号）所在的列"),
        ({"columns": {"serial": 2, "amount": 5}}, "请选择交易日期或交易时间所在的列"),
        ({"columns": {"date": 0, "serial": 2, "amount": 55}}, "“交易金额”对应的列不在表头中"),
        ({"columns": {"date": 0, "serial": 0, "amount": 5}}, "同一列不能对应两个字段"),
        ({"columns": {"date": 0, "serial": 2, "amount": "5"}}, "“交易金额”对应的列不在表头中"),
        ({"columns": {"date": 0, "serial": 2, "amount": True}}, "“交易金额”对应的列不在表头中"),
        ({"columns": {"date": 0, "serial": 2, "amount": 5, "bogus": 1}}, "未知的字段：bogus"),
        ({"columns": ["date"]}, "列对应格式不正确"),
        ({"columns": {"date": 0, "serial": 2, "credit": 5}}, "金额列为“一列金额，负数为支出”时须选择“交易金额”"),
        ({"amount_layout": AmountLayout.DIRECTION}, "金额列为“一列金额，另有一列借贷方向”时须选择“借贷方向”"),
        ({"amount_layout": AmountLayout.CREDIT_DEBIT}, "金额列为“贷方（收入）、借方（支出）各一列”时不选“交易金额”"),
        ({"header": []}, "表头须为 1 至 100 列文字"),
        ({"header": ["<script>"] * 101}, "表头须为 1 至 100 列文字"),
        ({"name": ""}, "此字段不能为空"),
        ({"name": "名" * 61}, "不超过 60 字符"),
        ({"amount_layout": "sideways"}, "不是有效选项"),
    ],
)
@pytest.mark.django_db
def test_bad_mappings_are_refused_naming_the_field_and_nothing_is_saved(city, clerk, changes, message):
    with pytest.raises(ValidationError) as excinfo:
        unknown_mapping(city, clerk, **changes)
    assert any(message in text for text in excinfo.value.messages), excinfo.value.messages
    assert StatementMapping.objects.count() == 0


@pytest.mark.django_db
def test_mapping_names_are_unique_per_branch_and_saves_are_audited(city, clerk):
    mapping = unknown_mapping(city, clerk)
    with pytest.raises(ValidationError, match="本组织已有同名的列映射"):
        unknown_mapping(city, clerk)
    mapping.bank_account = "澜州农商行 尾号0009"
    statement_mapping_save(mapping=mapping, by=clerk)
    history = mapping.history.order_by("history_date")
    assert [h.history_type for h in history] == ["+", "~"]
    assert {h.history_user_id for h in history} == {clerk.pk}
    assert {h.history_change_reason for h in history} == {"statement_mapping_save"}
    officer = StaffFactory(branch=city, roles=["relief_officer"])
    with pytest.raises(PermissionDenied):
        statement_mapping_save(mapping=mapping, by=officer)


# --- the command ---------------------------------------------------------------------------------


def command(*args):
    out = io.StringIO()
    call_command("import_donations", *map(str, args), stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_command_with_a_mapping(city, clerk, campaign):
    unknown_mapping(city, clerk)
    lines = command(
        SAMPLES / "bank_unknown.csv", "--format", "bank", "--user", clerk.username, "--mapping", "澜州农商行基本户"
    )
    assert lines == [
        "imported: 2; duplicates: 0; refunded: 0; rejected: 0; skipped: 1",
        "mapping: 澜州农商行基本户",
        "skipped 1 (支出，非捐赠): lines 4",
    ]
    with pytest.raises(CommandError, match="没有名为“nope”的列映射"):
        command(SAMPLES / "bank_unknown.csv", "--format", "bank", "--user", clerk.username, "--mapping", "nope")
    with pytest.raises(CommandError, match="--mapping 只用于银行对账单"):
        command(SAMPLES / "alipay_ledger.csv", "--format", "alipay", "--user", clerk.username, "--mapping", "x")
    with pytest.raises(CommandError, match="为这家银行建立列映射"):
        command(SAMPLES / "bank_unknown.csv", "--format", "bank", "--user", clerk.username, "--branch", "CSE")
    with pytest.raises(CommandError, match="文件未导入：文件的表头与列映射"):
        command(
            SAMPLES / "bank_icbc.csv", "--format", "bank", "--user", clerk.username, "--mapping", "澜州农商行基本户"
        )


@pytest.mark.django_db
def test_command_reads_the_ledger_and_every_bank_sample(city, clerk):
    assert command(SAMPLES / "alipay_ledger.csv", "--format", "alipay", "--user", clerk.username)[0] == (
        "imported: 5; duplicates: 0; refunded: 1; rejected: 0; skipped: 3"
    )
    for name in ("bank_icbc.csv", "bank_abc.csv", "bank_bocom.csv"):
        assert "rejected: 0" in command(SAMPLES / name, "--format", "bank", "--user", clerk.username)[0]


# --- the admin: map once, preview, save and import ----------------------------------------------


def upload(client, path: Path, branch, fmt="bank"):
    data = {"file": SimpleUploadedFile(path.name, path.read_bytes()), "fmt": fmt, "branch": branch.pk}
    return client.post(reverse("admin:donations_donation_import"), data)


MAP_FORM = {
    "name": "澜州农商行基本户",
    "bank_account": "澜州农商行 尾号0001",
    "header_line": "2",
    "amount_layout": "signed",
    "col_date": "0",
    "col_time": "1",
    "col_serial": "2",
    "col_payer_name": "3",
    "col_payer_account": "4",
    "col_amount": "5",
    "col_balance": "6",
    "col_summary": "7",
}


@pytest.mark.django_db
def test_admin_maps_an_unknown_statement_once(client, city, clerk, campaign):
    client.force_login(clerk)
    response = upload(client, SAMPLES / "bank_unknown.csv", city)
    assert response.status_code == 302
    map_url = response["Location"]
    assert re.search(r"/import/map/[A-Za-z0-9_-]{20,}/$", map_url)

    page = client.get(map_url).content.decode()
    assert "参考号" in page and "LZRCB0001" in page  # the first rows
    assert 'value="2" selected' in page  # the header line guessed
    assert 'name="col_balance"' in page

    preview = client.post(map_url, {**MAP_FORM, "preview": "1"}).content.decode()
    assert "按此映射读到收入 2 笔，合计 2,150.00 元" in preview
    assert "跳过 1 行：支出，非捐赠" in preview
    assert Donation.objects.count() == 0 and StatementMapping.objects.count() == 0  # a preview writes nothing

    done = client.post(map_url, {**MAP_FORM, "save": "1"}).content.decode()
    assert "imported: 2; duplicates: 0; refunded: 0; rejected: 0; skipped: 1" in done
    mapping = StatementMapping.objects.get()
    assert (mapping.branch, mapping.created_by, mapping.header) == (city, clerk, UNKNOWN_HEADER)
    assert mapping.history.get().history_user == clerk
    assert client.get(map_url).status_code == 404  # the kept upload is gone

    # the next month's file goes straight through
    next_month = upload(client, SAMPLES / "bank_unknown.csv", city)
    assert next_month.status_code == 200
    assert "imported: 0; duplicates: 2" in next_month.content.decode()


@pytest.mark.django_db
def test_admin_mapping_errors_are_shown_and_nothing_is_written(client, city, clerk, campaign):
    client.force_login(clerk)
    map_url = upload(client, SAMPLES / "bank_unknown.csv", city)["Location"]
    page = client.post(map_url, {**MAP_FORM, "col_serial": "", "save": "1"}).content.decode()
    assert "请选择流水号（交易号）所在的列" in page
    page = client.post(map_url, {**MAP_FORM, "col_serial": "99", "save": "1"}).content.decode()
    assert "选择一个有效的选项" in page
    assert StatementMapping.objects.count() == 0 and Donation.objects.count() == 0


@pytest.mark.django_db
def test_admin_kept_upload_is_its_uploaders_only(client, city, clerk, campaign):
    client.force_login(clerk)
    map_url = upload(client, SAMPLES / "bank_unknown.csv", city)["Location"]
    client.force_login(StaffFactory(branch=city, roles=["donation_clerk"]))
    assert client.get(map_url).status_code == 404
    assert client.get(reverse("admin:donations_donation_import_map", args=["short"])).status_code == 404


@pytest.mark.django_db
def test_mapping_admin_is_branch_scoped_and_never_deletes(
    client, branch_tree, city, clerk, django_assert_max_num_queries
):
    east = branch_tree["east"]
    east_clerk = StaffFactory(branch=east, roles=["donation_clerk"])
    city_mapping = unknown_mapping(city, clerk)
    for n in range(5):
        unknown_mapping(east, east_clerk, name=f"东区映射{n}")
    client.force_login(east_clerk)
    changelist = reverse("admin:donations_statementmapping_changelist")
    with django_assert_max_num_queries(12):
        page = client.get(changelist).content.decode()
    assert "东区映射4" in page and "澜州农商行基本户" not in page
    assert client.get(reverse("admin:donations_statementmapping_change", args=[city_mapping.pk])).status_code == 302
    client.force_login(clerk)
    change = reverse("admin:donations_statementmapping_change", args=[city_mapping.pk])
    page = client.get(change).content.decode()
    assert "发生金额" in page  # the columns as mapped
    response = client.post(change, {"name": "改名", "bank_account": "尾号0001", "is_active": ""})
    assert response.status_code == 302
    city_mapping.refresh_from_db()
    assert (city_mapping.name, city_mapping.is_active) == ("改名", False)
    assert city_mapping.history.first().history_change_reason == "statement_mapping_save"
    delete = reverse("admin:donations_statementmapping_delete", args=[city_mapping.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403

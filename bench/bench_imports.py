"""Statement import throughput: generated statements imported by a staff user.

Three statements of ``BENCH_IMPORT_ROWS`` rows each (default 10,000, so `make bench` stays short;
set 100000 for the issues' figure): a WeChat Pay statement, an Alipay 账务明细 (one row in ten a
service fee, skipped; balances and footers checked) and a corporate bank statement laid out like
the ICBC sample (交易时间 alone, bracketed units, one row in ten money out; balances checked).
``BENCH_IMPORT_FORMATS`` picks some of them (``wechat,alipay_ledger,bank``). Each figure is the
wall time of ``import_statement`` (parsing, duplicate preload, payments registered in batches).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection

HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def write_wechat_statement(path: Path, rows: int) -> None:
    """A GBK statement of ``rows`` payments (1.00 .. 999.00 yuan) with its footer."""
    start = datetime(2020, 2, 1, 8, 0, 0)
    total = 0
    with path.open("w", encoding="gbk", newline="") as out:
        out.write(HEADER + "\r\n")
        for n in range(rows):
            amount = n % 999 + 1
            total += amount
            cells = [
                f"{start + timedelta(seconds=n * 7):%Y-%m-%d %H:%M:%S}", "wx8888888888888888", "1900000109", "0",
                "WEB", f"42000005012020{n:014d}", f"BENCH{n:010d}", f"oUpF8u{n:022d}", "JSAPI", "SUCCESS", "CFT",
                "CNY", f"{amount}.00", "0.00", "0", "0", "0.00", "0.00", "", "", "爱心捐赠", "", "0.00", "0.60%",
                f"{amount}.00", "0.00", "",
            ]  # fmt: skip
            out.write(",".join("`" + cell for cell in cells) + "\r\n")
        out.write("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n")
        out.write(",".join("`" + c for c in [str(rows), f"{total}.00", "0.00", "0.00", "0.00", f"{total}.00", "0.00"]))
        out.write("\r\n")


def write_alipay_ledger(path: Path, rows: int) -> int:
    """A GBK 账务明细 of ``rows`` rows: payments, and a service fee every tenth row; returns the payments."""
    start = datetime(2020, 2, 1, 8, 0, 0)
    balance = Decimal("100000.00")
    income = [0, Decimal(0)]
    expense = [0, Decimal(0)]
    with path.open("w", encoding="gbk", newline="") as out:
        out.write("#支付宝账务明细查询\r\n#账号：[20880123456789010156]\r\n#-----账务明细列表-----\r\n")
        out.write("账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,")
        out.write("账户余额（元）,交易渠道,业务类型,备注\r\n")
        for n in range(rows):
            when = f"{start + timedelta(seconds=n * 7):%Y-%m-%d %H:%M:%S}"
            if n % 10 == 9:
                balance -= Decimal("0.60")
                expense[0] += 1
                expense[1] += Decimal("0.60")
                cells = [f"L{n:012d}", f"2020020122001400{n - 1:012d}", "", "", when, "支付宝", "", "-0.60",
                         f"{balance}", "支付宝", "服务费", ""]  # fmt: skip
            else:
                amount = Decimal(n % 999 + 1)
                balance += amount
                income[0] += 1
                income[1] += amount
                cells = [f"L{n:012d}", f"2020020122001400{n:012d}", f"BENCH{n:010d}", "爱心捐赠", when,
                         f"捐赠人{n % 500}(d{n % 500}***@example.com)", f"+{amount}.00", "", f"{balance}", "支付宝",
                         "在线支付", ""]  # fmt: skip
            out.write(",".join(cell + "\t" for cell in cells) + "\r\n")
        out.write("#-----账务明细列表结束-----\r\n")
        out.write(
            f"#支出合计：{expense[0]}笔，共-{expense[1]:.2f}元\r\n#收入合计：{income[0]}笔，共{income[1]:.2f}元\r\n"
        )
    return income[0]


def write_bank_statement(path: Path, rows: int) -> int:
    """A GBK corporate bank statement (ICBC-like) of ``rows`` rows, money out every tenth; returns the credits."""
    start = datetime(2020, 2, 1, 8, 0, 0)
    balance = Decimal("1000000.00")
    credits = 0
    with path.open("w", encoding="gbk", newline="") as out:
        out.write("中国工商银行企业网上银行 账户历史明细\r\n账号：1202020000000000001,户名：基准市红十字会\r\n")
        out.write("凭证号,本方账号,对方账号,交易时间,借/贷,借方发生额（元）,贷方发生额（元）,对方行号,摘要,用途,")
        out.write("对方单位名称,余额（元）,个性化信息,交易流水号\r\n")
        for n in range(rows):
            when = f"{start + timedelta(seconds=n * 7):%Y-%m-%d-%H.%M.%S}.000000"
            amount = Decimal(n % 999 + 1)
            if n % 10 == 9:
                balance -= amount
                side = ["借", f"{amount}.00", ""]
            else:
                balance += amount
                credits += 1
                side = ["贷", "", f"{amount}.00"]
            cells = ["", "1202020000000000001", f"62220200{n:011d}", when, *side, "102100000", "转账", "捐款",
                     f"捐赠单位{n % 500}", f"{balance}", "", f"ICBC{n:016d}"]  # fmt: skip
            out.write(",".join(cells) + "\r\n")
    return credits


def _timed(import_statement, path: Path, fmt: str, clerk, branch):
    start = time.perf_counter()
    report = import_statement(path_or_file=path, fmt=fmt, by=clerk, branch=branch)
    return report, time.perf_counter() - start


def run() -> Iterator[tuple[str, str, str]]:
    from django.contrib.auth.models import Group

    from donations.imports import import_statement
    from redcross.models import Branch, BranchLevel, User
    from redcross.roles import role_group_name

    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
    branch = Branch.objects.filter(level=BranchLevel.CITY).first() or Branch.objects.create(
        name="基准导入市红十字会", code="BI", level=BranchLevel.CITY
    )
    clerk = User.objects.create_user(username="bench-import-clerk", password=None, is_staff=True, branch=branch)
    clerk.groups.set([Group.objects.get(name=role_group_name("donation_clerk"))])
    formats = set(os.environ.get("BENCH_IMPORT_FORMATS", "wechat,alipay_ledger,bank").split(","))
    size = "100k" if rows == 100_000 else str(rows)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        if "wechat" in formats:
            path = Path(folder) / "wechat.csv"
            write_wechat_statement(path, rows)
            report, elapsed = _timed(import_statement, path, "wechat", clerk, branch)
            assert report.imported == rows, report.summary()
            yield f"import_wechat_{size}_rows", f"{elapsed:.1f}", "s"
            yield f"import_wechat_rate_{connection.vendor}", f"{rows / elapsed:.0f}", "rows/s"
        if "alipay_ledger" in formats:
            path = Path(folder) / "alipay-ledger.csv"
            payments = write_alipay_ledger(path, rows)
            report, elapsed = _timed(import_statement, path, "alipay", clerk, branch)
            assert (report.imported, report.warnings) == (payments, []), report.lines()[:5]
            yield f"import_alipay_ledger_{size}_rows", f"{elapsed:.1f}", "s"
            yield f"import_alipay_ledger_rate_{connection.vendor}", f"{rows / elapsed:.0f}", "rows/s"
        if "bank" in formats:
            path = Path(folder) / "bank.csv"
            credits = write_bank_statement(path, rows)
            report, elapsed = _timed(import_statement, path, "bank", clerk, branch)
            assert (report.imported, report.warnings) == (credits, []), report.lines()[:5]
            yield f"import_bank_{size}_rows", f"{elapsed:.1f}", "s"
            yield f"import_bank_rate_{connection.vendor}", f"{rows / elapsed:.0f}", "rows/s"

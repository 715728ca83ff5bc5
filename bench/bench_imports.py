"""Statement import throughput: a generated WeChat Pay statement imported by a staff user.

``BENCH_IMPORT_ROWS`` sets the number of rows (default 10,000, so `make bench` stays short;
set 100000 for the issue's figure). The figure is
the wall time of ``import_statement`` (parsing, duplicate preload, one
transaction per row through ``donation_register``).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
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
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        path = Path(folder) / "wechat.csv"
        write_wechat_statement(path, rows)
        start = time.perf_counter()
        report = import_statement(path_or_file=path, fmt="wechat", by=clerk, branch=branch)
        elapsed = time.perf_counter() - start
    assert report.imported == rows, report.summary()
    label = "import_wechat_100k_rows" if rows == 100_000 else f"import_wechat_{rows}_rows"
    yield label, f"{elapsed:.1f}", "s"
    yield f"import_wechat_rate_{connection.vendor}", f"{rows / elapsed:.0f}", "rows/s"

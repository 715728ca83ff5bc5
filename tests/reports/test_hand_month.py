"""One small month (March 2025) computed by hand: every figure of every donations section, for
全市系统 and 本级, the annual report's previous year and target, and the same figures in the files."""

from decimal import Decimal as D

import pytest

from reports.periods import ReportPeriod
from reports.selectors import report_build
from tests.reports.helpers import export_bytes, read_csv_zip, read_xlsx, table

pytestmark = pytest.mark.django_db

CITY, EAST, SCHOOL = "测试市红十字会", "\u3000测试市东区红十字会", "\u3000\u3000东区一中红十字会"


def _rows(report, key, *columns):
    rows, totals = table(report, key)
    picked = [tuple(row[c] for c in columns) for row in rows]
    return picked, (tuple(totals[c] for c in columns) if totals else None)


def test_city_system_month_by_hand(tiny, march):
    report = report_build(period=march, branch=tiny["city"], scope="system")
    # the donations sections, in this order, before the other apps' (training, from order 500)
    assert [s.key for s in report.sections][:10] == [
        "donations_by_campaign",
        "donations_by_channel",
        "donations_by_kind",
        "donations_directed",
        "branch_rollup",
        "receipts",
        "bulletins",
        "allocations_by_recipient_kind",
        "stock_at_end",
        "reconciliation",
    ]

    rows, totals = _rows(report, "donations_by_campaign", "campaign", "count", "cash", "goods", "total", "total:wan")
    assert rows == [
        ("测试抗疫专项募捐", 2, D("1200.00"), D("0.00"), D("1200.00"), D("0.12")),
        ("东区日常捐赠", 2, D("88.88"), D("136.32"), D("225.20"), D("0.02")),
    ]
    assert totals == ("合计", 4, D("1288.88"), D("136.32"), D("1425.20"), D("0.14"))

    rows, totals = _rows(report, "donations_by_channel", "channel_label", "count", "cash", "goods", "total")
    assert rows == [
        ("现场", 1, D("0.00"), D("136.32"), D("136.32")),
        ("银行转账", 1, D("88.88"), D("0.00"), D("88.88")),
        ("微信支付", 1, D("1000.00"), D("0.00"), D("1000.00")),
        ("支付宝", 1, D("200.00"), D("0.00"), D("200.00")),
    ]
    assert totals == ("合计", 4, D("1288.88"), D("136.32"), D("1425.20"))

    rows, totals = _rows(report, "donations_by_kind", "kind_label", "count", "amount", "amount:wan")
    assert rows == [("捐款", 3, D("1288.88"), D("0.13")), ("捐物", 1, D("136.32"), D("0.01"))]
    assert totals == ("合计", 4, D("1425.20"), D("0.14"))

    rows, totals = _rows(report, "donations_directed", "directed_label", "count", "cash", "goods", "total")
    assert rows == [
        ("定向捐赠", 1, D("88.88"), D("0.00"), D("88.88")),
        ("非定向捐赠", 3, D("1200.00"), D("136.32"), D("1336.32")),
    ]

    columns = ("branch", "count", "cash", "goods", "own_total", "subtree_total", "allocated")
    rows, totals = _rows(report, "branch_rollup", *columns)
    assert rows == [
        (CITY, 2, D("1200.00"), D("0.00"), D("1200.00"), D("1425.20"), D("300.00")),
        (EAST, 1, D("88.88"), D("0.00"), D("88.88"), D("225.20"), D("50.00")),
        (SCHOOL, 1, D("0.00"), D("136.32"), D("136.32"), D("136.32"), D("0.00")),
    ]
    assert totals == ("合计", 4, D("1288.88"), D("136.32"), D("1425.20"), None, D("350.00"))

    rows, totals = _rows(report, "receipts", "item", "count", "amount")
    assert rows == [("开具票据", 1, D("1000.00")), ("冲红票据", 1, D("50.00")), ("净额（开具减冲红）", 0, D("950.00"))]
    assert totals is None

    rows, totals = _rows(report, "allocations_by_recipient_kind", "kind_label", "count", "cash", "goods", "total")
    assert rows == [("医院", 1, D("300.00"), D("0.00"), D("300.00")), ("社区", 1, D("0.00"), D("50.00"), D("50.00"))]
    assert totals == ("合计", 2, D("300.00"), D("50.00"), D("350.00"))

    columns = ("warehouse", "item", "unit", "quantity", "unvalued_quantity", "value")
    rows, totals = _rows(report, "stock_at_end", *columns)
    assert rows == [
        ("东区备灾仓库", "棉被", "件", D("3"), D("3"), D("0.00")),
        ("东区备灾仓库", "防护服", "件", D("6"), D("0"), D("75.00")),
    ]
    assert totals == ("合计", None, None, None, None, D("75.00"))

    rows, _totals = _rows(report, "reconciliation", "campaign", "branch", "received", "last_result")
    # all-time books: 1000 + 200 (net) + 500 (February) + 700 (April) + 600 (2024); the unconfirmed 999 is out
    assert rows[0] == ("测试抗疫专项募捐", "测试市红十字会", D("3000.00"), "未核对")
    assert {row[:3] for row in rows[1:]} == {
        ("东区日常捐赠", "测试市东区红十字会", D("88.88")),
        ("东区日常捐赠", "东区一中红十字会", D("136.32")),
    }


def test_own_scope_is_the_branch_alone(tiny, march):
    city = report_build(period=march, branch=tiny["city"], scope="own")
    assert "branch_rollup" not in [s.key for s in city.sections]
    assert _rows(city, "donations_by_kind", "kind_label", "count", "amount") == (
        [("捐款", 2, D("1200.00"))],
        ("合计", 2, D("1200.00")),
    )
    assert _rows(city, "allocations_by_recipient_kind", "kind_label", "total")[0] == [("医院", D("300.00"))]
    assert _rows(city, "stock_at_end", "item")[0] == []  # the warehouse is the east district's
    assert _rows(city, "receipts", "count")[0] == [(1,), (1,), (0,)]

    east = report_build(period=march, branch=tiny["east"], scope="system")
    assert _rows(east, "donations_by_kind", "kind_label", "count", "amount") == (
        [("捐款", 1, D("88.88")), ("捐物", 1, D("136.32"))],
        ("合计", 2, D("225.20")),
    )
    rows, _totals = _rows(east, "branch_rollup", "branch", "own_total", "subtree_total")
    assert rows == [
        ("测试市东区红十字会", D("88.88"), D("225.20")),
        ("\u3000东区一中红十字会", D("136.32"), D("136.32")),
    ]
    east_own = report_build(period=march, branch=tiny["east"], scope="own")
    assert _rows(east_own, "donations_by_kind", "kind_label", "amount")[0] == [("捐款", D("88.88"))]
    assert _rows(east_own, "stock_at_end", "item", "value")[0] == [("棉被", D("0.00")), ("防护服", D("75.00"))]


def test_annual_report_compares_with_the_previous_year_and_targets(tiny):
    report = report_build(period=ReportPeriod("year", 2025), branch=tiny["city"], scope="system")
    rows, totals = table(report, "donations_by_kind")
    cash = rows[0]
    # 2025: 1000 + 200 + 88.88 + 500 (February) + 700 (April); 2024: 600.00
    assert (cash["count"], cash["prev:count"], cash["change:count"]) == (5, 1, D("400.0"))
    assert (cash["amount"], cash["prev:amount"], cash["change:amount"]) == (D("2488.88"), D("600.00"), D("314.8"))
    goods = rows[1]
    assert (goods["amount"], goods["prev:amount"], goods["change:amount"]) == (D("136.32"), D("0.00"), None)
    assert (totals["amount"], totals["prev:amount"], totals["change:amount"]) == (D("2625.20"), D("600.00"), D("337.5"))

    rows, totals = table(report, "donations_by_campaign")
    covid, east = rows
    assert (covid["total"], covid["target"], covid["completion"]) == (D("2400.00"), D("2000.00"), D("120.0"))
    assert (covid["prev:total"], covid["change:total"]) == (D("600.00"), D("300.0"))
    assert (east["total"], east["target"], east["completion"]) == (D("225.20"), None, None)
    # the totals' completion counts only the campaigns that have a target
    assert (totals["target"], totals["completion"]) == (D("2000.00"), D("120.0"))
    headers = report.section("donations_by_campaign").headers
    assert {"上年合计（元）", "合计同比增减（%）", "募捐目标（元）", "完成率（%）", "合计（万元）"} <= set(headers)
    # reconciliation is a snapshot: no previous year there
    assert not any(h.startswith("上年") for h in report.section("reconciliation").headers)


def test_previous_year_rows_without_a_match_still_show(tiny):
    report = report_build(period=ReportPeriod("year", 2025), branch=tiny["city"], scope="own")
    rows, _totals = table(report, "donations_by_channel")
    bank = next(row for row in rows if row["channel_label"] == "银行转账")
    # 2025 at the city: 500 (February, bank) + 700 (April, bank); 2024: 600 (bank)
    assert (bank["count"], bank["total"], bank["prev:total"]) == (2, D("1200.00"), D("600.00"))


def test_hand_figures_in_the_files(tiny, march):
    report = report_build(period=march, branch=tiny["city"], scope="system")
    sheets = read_xlsx(export_bytes(report, "xlsx"))
    by_kind = sheets["接收捐赠（捐款、捐物）"]
    assert by_kind[0] == ["类型", "笔数", "金额（元）", "金额（万元）"]
    assert by_kind[1:] == [["捐款", 3, 1288.88, 0.13], ["捐物", 1, 136.32, 0.01], ["合计", 4, 1425.2, 0.14]]

    report = report_build(period=march, branch=tiny["city"], scope="system")
    files = read_csv_zip(export_bytes(report, "csv"))
    rollup = files["05-branch_rollup.csv"]
    assert rollup[1] == [CITY, "市本级", "2", "1200.00", "0.00", "1200.00", "0.12", "1425.20", "0.14", "300.00"]
    assert rollup[-1] == ["合计", "", "4", "1288.88", "136.32", "1425.20", "0.14", "", "", "350.00"]


def test_intake_sections_share_their_aggregates(tiny, march, django_assert_max_num_queries):
    report = report_build(period=march, branch=tiny["city"], scope="system")
    # two grouped queries for the four intake sections, plus the campaigns' names
    with django_assert_max_num_queries(3):
        for key in ("donations_by_campaign", "donations_by_channel", "donations_by_kind", "donations_directed"):
            assert report.section(key).rows

"""Every figure of the XLSX and CSV exports against an independent aggregate (tests/reports/expected.py:
Python loops over the factory-made rows), for 本级 and 全市系统 at several branches, including the
per-branch rollup of 全市系统 against the 本级 figures of each branch."""

from decimal import Decimal

import pytest

from donations.exports import safe_cell
from redcross.money import to_wan
from reports.periods import ReportPeriod
from reports.selectors import report_build
from tests.reports import expected
from tests.reports.helpers import export_bytes, read_csv_zip, read_xlsx

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else None


def _count(value) -> int:
    return int(value)


def _quantity(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"))


def _tables_from_xlsx(report, content: bytes) -> dict:
    sheets = read_xlsx(content)
    assert next(iter(sheets)) == "报表说明"
    out = {}
    for result in report.sections:
        rows = sheets[result.title]
        out[result.key] = _split(result, rows)
    return out


def _tables_from_csv(report, content: bytes) -> dict:
    files = read_csv_zip(content)
    out = {}
    for index, result in enumerate(report.sections, start=1):
        rows = files[f"{index:02d}-{result.key}.csv"]
        out[result.key] = _split(result, rows)
    return out


def _split(result, rows):
    header, data = rows[0], rows[1:]
    assert header == result.headers
    totals = None
    if result.has_totals:
        data, totals = data[:-1], dict(zip(header, data[-1], strict=True))
    return [dict(zip(header, row, strict=True)) for row in data], totals


def _check_intake(rows, totals, want: dict, label: str):
    """rows keyed by ``label`` with 笔数, 捐款, 物资价值, 合计 (+万元) against [count, cash, goods, total]."""
    got = {row[label]: row for row in rows}
    assert set(got) == {safe_cell(key) for key in want}
    for key, (count, cash, goods, total) in want.items():
        row = got[safe_cell(key)]
        assert _count(row["笔数"]) == count, key
        assert _money(row["捐款（元）"]) == cash, key
        assert _money(row["物资价值（元）"]) == goods, key
        assert _money(row["合计（元）"]) == total, key
        assert _money(row["合计（万元）"]) == to_wan(total), key
    assert totals[label] == "合计"
    assert _count(totals["笔数"]) == sum(v[0] for v in want.values())
    assert _money(totals["捐款（元）"]) == sum((v[1] for v in want.values()), ZERO)
    assert _money(totals["物资价值（元）"]) == sum((v[2] for v in want.values()), ZERO)
    assert _money(totals["合计（元）"]) == sum((v[3] for v in want.values()), ZERO)
    assert _money(totals["合计（万元）"]) == to_wan(sum((v[3] for v in want.values()), ZERO))


def _check_all(tables, period, root, scope):
    _check_intake(*tables["donations_by_campaign"], expected.by_campaign(period, root, scope), "募捐活动")
    _check_intake(*tables["donations_by_channel"], expected.by_channel(period, root, scope), "渠道")
    _check_intake(*tables["donations_directed"], expected.directed(period, root, scope), "捐赠意愿")
    _check_intake(*tables["allocations_by_recipient_kind"], expected.allocations(period, root, scope), "受赠单位类型")

    rows, totals = tables["donations_by_kind"]
    want = expected.by_kind(period, root, scope)
    assert {row["类型"]: (_count(row["笔数"]), _money(row["金额（元）"])) for row in rows} == {
        key: tuple(value) for key, value in want.items()
    }
    assert _money(totals["金额（元）"]) == sum((v[1] for v in want.values()), ZERO)

    rows, totals = tables["receipts"]
    assert totals is None
    assert {row["项目"]: [_count(row["张数"]), _money(row["金额（元）"])] for row in rows} == expected.receipts(
        period, root, scope
    )

    rows, totals = tables["stock_at_end"]
    got = {
        (row["仓库"], row["物资名称"]): [
            _quantity(row["期末数量"]),
            _quantity(row["其中未计价数量"]),
            _money(row["期末价值（元）"]),
        ]
        for row in rows
    }
    want = expected.stock(period, root, scope)
    assert got == {key: [_quantity(q), _quantity(u), v] for key, (q, u, v) in want.items()}
    assert _money(totals["期末价值（元）"]) == sum((v[2] for v in want.values()), ZERO)

    rows, _totals = tables["reconciliation"]
    assert rows, "every campaign with confirmed gifts has its books"
    for row in rows:
        campaign = next(c for c in _campaigns() if safe_cell(c.name) == row["募捐活动"])
        branch = next(b for b in _branches() if b.name == row["组织"])
        assert _money(row["接收款物（元）"]) == expected.received_all_time(campaign, branch)

    if scope == "system":
        rows, totals = tables["branch_rollup"]
        want = expected.rollup(period, root)
        got = {
            row["组织"].strip("\u3000"): [
                _count(row["捐赠笔数"]),
                _money(row["捐款（元）"]),
                _money(row["物资价值（元）"]),
                _money(row["本级接收合计（元）"]),
                _money(row["含下级接收合计（元）"]),
                _money(row["本级拨付款物（元）"]),
            ]
            for row in rows
        }
        assert got == want
        # the rollup adds up to the 全市系统 figures, and the root's subtree total is the system total
        system_total = sum((v[3] for v in expected.by_campaign(period, root, "system").values()), ZERO)
        assert _money(totals["本级接收合计（元）"]) == system_total
        assert got[root.name][4] == system_total
        assert _money(totals["本级拨付款物（元）"]) == sum(
            (v[3] for v in expected.allocations(period, root, "system").values()), ZERO
        )
    else:
        assert "branch_rollup" not in tables


def _campaigns():
    from donations.models import Campaign

    return list(Campaign.objects.all())


def _branches():
    from redcross.models import Branch

    return list(Branch.objects.all())


CASES = [
    ("city", "system"),
    ("city", "own"),
    ("east", "system"),
    ("east_school", "own"),
    ("west", "system"),
]


@pytest.mark.parametrize(("branch_key", "scope"), CASES)
def test_every_exported_figure_agrees_with_an_independent_aggregate(ledger, march, branch_key, scope):
    root = ledger[branch_key]
    report = report_build(period=march, branch=root, scope=scope)
    _check_all(_tables_from_xlsx(report, export_bytes(report, "xlsx")), march, root, scope)
    _check_all(_tables_from_csv(report, export_bytes(report, "csv")), march, root, scope)


def test_system_is_own_plus_every_branch_below(ledger, march):
    """全市系统 of the city = the sum of 本级 over all branches; the same for a district."""
    for root_key, members in (
        ("city", ["city", "east", "west", "east_school", "west_school"]),
        ("east", ["east", "east_school"]),
    ):
        system = expected.by_channel(march, ledger[root_key], "system")
        report = report_build(period=march, branch=ledger[root_key], scope="system")
        got_system = {row[0]: row[1:] for row in report.section("donations_by_channel").rows}
        summed: dict = {}
        for member in members:
            own = report_build(period=march, branch=ledger[member], scope="own")
            for label, *figures in own.section("donations_by_channel").rows:
                before = summed.get(label, [0, ZERO, ZERO, ZERO, ZERO])
                summed[label] = [a + b for a, b in zip(before, figures, strict=True)]
        assert {label: row[:4] for label, row in got_system.items()} == {k: v[:4] for k, v in summed.items()}
        assert {label: list(row) for label, row in system.items()} == {k: v[:4] for k, v in got_system.items()}


def test_annual_figures_agree_with_both_years(ledger):
    year = ReportPeriod("year", 2025)
    report = report_build(period=year, branch=ledger["city"], scope="system")
    result = report.section("donations_by_channel")
    keys = [c.key for c in result.columns]
    rows = {row[0]: dict(zip(keys, row, strict=True)) for row in result.rows}
    this_year = expected.by_channel(year, ledger["city"], "system")
    last_year = expected.by_channel(ReportPeriod("year", 2024), ledger["city"], "system")
    assert set(rows) == set(this_year) | set(last_year)
    for label, row in rows.items():
        now = this_year.get(label, [0, ZERO, ZERO, ZERO])
        before = last_year.get(label, [0, ZERO, ZERO, ZERO])
        assert (row["count"], row["cash"], row["goods"], row["total"]) == tuple(now)
        assert (row["prev:count"], row["prev:cash"], row["prev:goods"], row["prev:total"]) == tuple(before)
        if before[3]:
            change = ((now[3] - before[3]) * 100 / before[3]).quantize(Decimal("0.1"))
            assert row["change:total"] == change
        else:
            assert row["change:total"] is None

    campaigns = {row[0]: dict(zip([c.key for c in report.section("donations_by_campaign").columns], row, strict=True))
                 for row in report.section("donations_by_campaign").rows}  # fmt: skip
    covid = campaigns["测试抗疫专项募捐"]
    want = expected.by_campaign(year, ledger["city"], "system")["测试抗疫专项募捐"][3]
    assert covid["target"] == Decimal("50000.00")
    assert covid["completion"] == (want * 100 / Decimal("50000.00")).quantize(Decimal("0.1"))
    assert campaigns["西区日常捐赠"]["target"] is None

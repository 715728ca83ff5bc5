"""A section as another app would add it: this one file, nothing changed in reports/.

Imported by tests/reports/test_exports.py (an app's ``<app>/report_sections.py`` is imported by
``reports.apps.ReportsConfig.ready``)."""

from decimal import Decimal

from reports.registry import Chart, Column, ColumnType, report_section


@report_section(
    key="test_volunteer_hours",
    title="志愿服务时长（测试）",
    order=900,
    description="测试用的章节：由另一个应用的一个文件注册",
    columns=[
        Column("team", "志愿服务队"),
        Column("people", "人次", ColumnType.INT),
        Column("hours", "服务时长", ColumnType.QUANTITY),
        Column("spent", "经费", ColumnType.MONEY, wan=True),
        Column("share", "占比", ColumnType.PERCENT),
    ],
    chart=Chart(label="team", value="people"),
)
def volunteer_hours(period, branch, scope):
    yield {"team": "应急救护志愿服务队", "people": 120, "hours": Decimal("356.5"), "spent": Decimal("12345.67"),
           "share": Decimal("60.0")}  # fmt: skip
    yield {"team": "=HYPERLINK(\"http://x\")", "people": 80, "hours": Decimal("10"), "spent": Decimal("0.50"),
           "share": Decimal("40.0")}  # fmt: skip

"""ReportPeriod: parsing, validation naming the field, local month boundaries."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from reports.periods import ReportPeriod

TODAY = date(2026, 11, 23)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_month_and_year():
    march = ReportPeriod.month_of("2025-03", today=TODAY)
    assert (march.kind, march.year, march.month, march.value, march.label) == ("month", 2025, 3, "2025-03", "2025年3月")
    assert march.start == datetime(2025, 3, 1, tzinfo=SHANGHAI)
    assert march.end == datetime(2025, 4, 1, tzinfo=SHANGHAI)
    assert ReportPeriod.month_of("2025-12", today=TODAY).end_date == date(2026, 1, 1)
    year = ReportPeriod.year_of("2025", today=TODAY)
    assert (year.value, year.label, year.kind_label, year.start_date, year.end_date) == (
        "2025", "2025年", "年报", date(2025, 1, 1), date(2026, 1, 1)
    )  # fmt: skip
    assert march.previous_year() == ReportPeriod("month", 2024, 3)
    assert ReportPeriod.parse("month", "2025-03", check=False) == march
    # the running month and year are allowed (figures to date)
    assert ReportPeriod.month_of("2026-11", today=TODAY).value == "2026-11"
    assert ReportPeriod.year_of(2026, today=TODAY).value == "2026"


def test_last_month():
    assert ReportPeriod.last_month(date(2025, 4, 1)).value == "2025-03"
    assert ReportPeriod.last_month(date(2026, 1, 1)).value == "2025-12"


@pytest.mark.parametrize(
    ("kind", "value", "field", "message"),
    [
        ("month", "2025-13", "month", "月份格式应为 YYYY-MM（如 2026-03），收到：2025-13"),
        ("month", "2025-00", "month", "月份格式应为 YYYY-MM（如 2026-03），收到：2025-00"),
        ("month", "2025/03", "month", "月份格式应为 YYYY-MM（如 2026-03），收到：2025/03"),
        ("month", "", "month", "月份格式应为 YYYY-MM（如 2026-03），收到："),
        ("month", "２０２５-03", "month", "月份格式应为 YYYY-MM（如 2026-03），收到：２０２５-03"),
        ("month", "2026-12", "month", "不能生成未来的报表：2026-12 尚未开始"),
        ("month", "1999-12", "month", "年度不能早于 2000 年"),
        ("year", "2027", "year", "不能生成未来的报表：2027 尚未开始"),
        ("year", "twenty", "year", "年度格式应为 YYYY（如 2026），收到：twenty"),
        ("quarter", "2025", "period_kind", "报表类型应为 month 或 year，收到：quarter"),
    ],
)
def test_bad_periods_name_the_field(kind, value, field, message):
    with pytest.raises(ValidationError) as error:
        ReportPeriod.parse(kind, value, today=TODAY)
    assert error.value.message_dict == {field: [message]}

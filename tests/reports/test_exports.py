"""The three formats: XLSX (sheets, Chinese headers, number formats, frozen header, no formulas),
CSV (a zip of UTF-8-with-BOM files), PDF (Chinese text extractable, charts, no JavaScript), and a
section added from one file appearing in all three."""

import importlib
import io
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reports.exports import bar_chart_svg
from reports.registry import registry
from reports.selectors import report_build
from tests.reports.helpers import export_bytes, read_csv_zip, read_xlsx

pytestmark = pytest.mark.django_db

EXTRA = "tests.reports.extra_sections"


@pytest.fixture
def extra_section():
    sys.modules.pop(EXTRA, None)
    module = importlib.import_module(EXTRA)
    yield module
    registry.unregister("test_volunteer_hours")
    sys.modules.pop(EXTRA, None)


def _pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    try:
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
    except FileNotFoundError:  # no poppler: pypdf reads the text too
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def test_sections_are_discovered_from_every_app():
    # reports.apps imported donations/report_sections.py at start-up; nothing registered them by hand
    assert {"donations_by_campaign", "receipts", "stock_at_end", "reconciliation"} <= {s.key for s in registry}
    assert [s.order for s in registry.sections()] == sorted(s.order for s in registry.sections())


def test_xlsx_sheets_headers_formats_and_frozen_header(tiny, march):
    report = report_build(period=march, branch=tiny["city"], scope="system")
    workbook = load_workbook(io.BytesIO(export_bytes(report, "xlsx")))
    assert workbook.sheetnames == ["报表说明", *[s.title for s in report.sections]]
    cover = workbook["报表说明"]
    assert cover["A1"].value == "报表" and cover["B1"].value == "测试市红十字会2025年3月月报（全市系统）"

    sheet = workbook["接收捐赠（按募捐活动）"]
    assert sheet.freeze_panes == "A2"
    headers = [cell.value for cell in sheet[1]]
    assert headers == [
        "募捐活动",
        "所属组织",
        "类型",
        "笔数",
        "捐款（元）",
        "物资价值（元）",
        "合计（元）",
        "合计（万元）",
    ]
    assert all(cell.font.bold for cell in sheet[1])
    first = dict(zip(headers, sheet[2], strict=True))
    assert first["捐款（元）"].number_format == "#,##0.00"
    assert first["合计（万元）"].number_format == "#,##0.00"
    assert first["笔数"].number_format == "#,##0"
    assert first["合计（元）"].value == 1200 and first["合计（万元）"].value == 0.12
    last = list(sheet[sheet.max_row])
    assert last[0].value == "合计" and last[0].font.bold and last[6].value == 1425.2

    stock = workbook["期末库存物资"]
    assert stock.cell(row=2, column=6).number_format == "#,##0.###"
    # no cell anywhere is a formula
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)


def test_csv_zip_has_one_utf8_bom_file_per_section(tiny, march):
    report = report_build(period=march, branch=tiny["city"], scope="own")
    content = export_bytes(report, "csv")
    files = read_csv_zip(content)  # also checks every file starts with the BOM
    names = [f"{i:02d}-{s.key}.csv" for i, s in enumerate(report.sections, start=1)]
    assert sorted(files) == sorted(["00-readme.csv", *names])
    assert files["00-readme.csv"][0] == ["报表", "测试市红十字会2025年3月月报（本级）"]
    by_kind = files[f"{[s.key for s in report.sections].index('donations_by_kind') + 1:02d}-donations_by_kind.csv"]
    assert by_kind == [
        ["类型", "笔数", "金额（元）", "金额（万元）"],
        ["捐款", "2", "1200.00", "0.12"],
        ["合计", "2", "1200.00", "0.12"],
    ]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())


def test_pdf_has_chinese_tables_and_charts_without_javascript(tiny, march, tmp_path):
    report = report_build(period=march, branch=tiny["city"], scope="system")
    content = export_bytes(report, "pdf")
    assert content.startswith(b"%PDF")
    assert b"/JavaScript" not in content and b"/JS " not in content
    text = _pdf_text(content, tmp_path)
    for expected in (
        "测试市红十字会2025年3月月报（全市系统）",
        "接收捐赠（按募捐活动）",
        "募捐活动",
        "合计（万元）",
        "各级红十字会汇总",
        "期末库存物资",
        "1,425.20",
        "测试抗疫专项募捐",
    ):
        assert expected in text, expected


def test_bar_chart_is_escaped_svg():
    svg = bar_chart_svg([("<b>甲</b>", Decimal("10.00")), ("乙", Decimal("30.00")), ("空", Decimal("0"))], unit="元")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "&lt;b&gt;甲&lt;/b&gt;" in svg and "<b>" not in svg
    assert svg.index("乙") < svg.index("甲")  # largest first
    assert "空" not in svg
    assert bar_chart_svg([]) == ""


def test_a_section_added_in_one_file_appears_in_all_three_formats(extra_section, tiny, march, tmp_path):
    report = report_build(period=march, branch=tiny["city"], scope="own")
    assert report.sections[-1].key == "test_volunteer_hours"
    headers = ["志愿服务队", "人次", "服务时长", "经费（元）", "经费（万元）", "占比（%）"]

    sheets = read_xlsx(export_bytes(report, "xlsx"))
    sheet = sheets["志愿服务时长（测试）"]
    assert sheet[0] == headers
    assert sheet[1] == ["应急救护志愿服务队", 120, 356.5, 12345.67, 1.23, 60]
    assert sheet[2][0] == '\'=HYPERLINK("http://x")'  # text, never a formula
    assert sheet[3] == ["合计", 200, None, 12346.17, 1.23, None]

    files = read_csv_zip(export_bytes(report, "csv"))
    name = f"{len(report.sections):02d}-test_volunteer_hours.csv"
    assert files[name][0] == headers
    assert files[name][1] == ["应急救护志愿服务队", "120", "356.5", "12345.67", "1.23", "60.0"]
    assert files[name][2][0].startswith("'=")

    text = _pdf_text(export_bytes(report, "pdf"), tmp_path)
    assert "志愿服务时长（测试）" in text and "应急救护志愿服务队" in text and "12,345.67" in text


def test_annual_export_has_comparison_and_target_columns(tiny):
    from reports.periods import ReportPeriod

    report = report_build(period=ReportPeriod("year", 2025), branch=tiny["city"], scope="system")
    sheets = read_xlsx(export_bytes(report, "xlsx"))
    header = sheets["接收捐赠（按募捐活动）"][0]
    assert {"上年笔数", "笔数同比增减（%）", "上年合计（元）", "募捐目标（元）", "完成率（%）"} <= set(header)
    covid = next(row for row in sheets["接收捐赠（按募捐活动）"][1:] if row[0] == "测试抗疫专项募捐")
    assert covid[header.index("完成率（%）")] == 120
    assert covid[header.index("上年合计（元）")] == 600

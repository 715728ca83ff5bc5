"""python manage.py monthly_report: a file on success; one clear line and no file on bad input."""

import io
import os
import stat

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.factories import StaffFactory
from tests.reports.helpers import read_csv_zip

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("monthly_report", *args, stdout=out)
    return out.getvalue()


def _left(folder):
    return sorted(p.name for p in folder.iterdir())


def test_writes_the_city_system_report(tiny, tmp_path):
    target = tmp_path / "march.xlsx"
    output = run("--month", "2025-03", "--system", "--format", "xlsx", "--output", str(target))
    assert output.startswith(f"written: {target} (")
    assert "测试市红十字会2025年3月月报（全市系统）" in output
    workbook = load_workbook(target)
    assert "各级红十字会汇总" in workbook.sheetnames
    assert _left(tmp_path) == ["march.xlsx"]  # no temporary file left
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable like any file the user writes


def test_branch_year_csv_for_a_user_who_may_see_it(tiny, tmp_path):
    StaffFactory(username="east-leader", branch=tiny["east"], roles=["district_staff"])
    target = tmp_path / "east-2025.zip"
    run("--year", "2025", "--branch", "CSE", "--format", "csv", "--output", str(target), "--user", "east-leader")
    files = read_csv_zip(target.read_bytes())
    assert files["00-readme.csv"][0] == ["报表", "测试市东区红十字会2025年年报（本级）"]


def test_pdf(tiny, tmp_path):
    target = tmp_path / "march.pdf"
    run("--month", "2025-03", "--format", "pdf", "--output", str(target))
    assert target.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2025-13"], "--month：月份格式应为 YYYY-MM"),
        (["--month", "2025/03"], "--month：月份格式应为 YYYY-MM"),
        (["--month", "三月"], "--month：月份格式应为 YYYY-MM"),
        (["--month", "2099-01"], "--month：不能生成未来的报表：2099-01 尚未开始"),
        (["--year", "2099"], "--year：不能生成未来的报表：2099 尚未开始"),
        (["--year", "25"], "--year：年度格式应为 YYYY"),
        (["--month", "2025-03", "--branch", "NOPE"], "--branch：组织代码不存在：NOPE"),
        (["--month", "2025-03", "--branch", "CSW", "--user", "east-staff"], "--branch：east-staff 无权查看 测试市西区"),
        (["--month", "2025-03", "--user", "nobody"], "--user：没有启用的工作人员账号：nobody"),
        (["--month", "2025-03", "--user", "clerk-no-reports"], "--user：clerk-no-reports 没有查看统计报表的权限"),
    ],
)
def test_bad_input_is_one_line_and_no_file(tiny, tmp_path, args, message):
    StaffFactory(username="east-staff", branch=tiny["east"], roles=["district_staff"])
    StaffFactory(username="clerk-no-reports", branch=tiny["city"], roles=["donation_clerk"])
    target = tmp_path / "out.xlsx"
    with pytest.raises(CommandError) as error:
        run(*args, "--format", "xlsx", "--output", str(target))
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
    assert _left(tmp_path) == []


def test_unwritable_outputs(tiny, tmp_path):
    with pytest.raises(CommandError, match="--output：文件夹不存在"):
        run("--month", "2025-03", "--format", "xlsx", "--output", str(tmp_path / "missing" / "out.xlsx"))
    with pytest.raises(CommandError, match=r"--output：.* 是一个文件夹"):
        run("--month", "2025-03", "--format", "xlsx", "--output", str(tmp_path))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):
            with pytest.raises(CommandError, match="--output：没有写入权限"):
                run("--month", "2025-03", "--format", "xlsx", "--output", str(locked / "out.xlsx"))
    finally:
        locked.chmod(0o700)
    assert _left(locked) == []
    # as root, permissions stop nothing: a folder where no file can be created fails while writing
    with pytest.raises(CommandError, match=r"^--output：(无法写入|没有写入权限)"):
        run("--month", "2025-03", "--format", "xlsx", "--output", "/proc/out.xlsx")


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary_file(tiny, tmp_path, monkeypatch):
    target = tmp_path / "march.xlsx"
    target.write_bytes(b"previous report")

    def broken(report, fmt, out):
        out.write(b"half a report")
        raise RuntimeError("disk full")

    monkeypatch.setattr("reports.services.write_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        run("--month", "2025-03", "--format", "xlsx", "--output", str(target))
    assert target.read_bytes() == b"previous report"
    assert _left(tmp_path) == ["march.xlsx"]


def test_month_and_year_together_are_refused(tiny, tmp_path):
    with pytest.raises(CommandError, match="not allowed with argument"):
        run("--month", "2025-03", "--year", "2025", "--format", "xlsx", "--output", str(tmp_path / "x.xlsx"))
    assert _left(tmp_path) == []

"""The roster import (救助对象花名册导入): a surge's household list registered through the same services
as the register page, row by row, each row whole or not at all; a second import adds nothing."""

import io

import pytest
from django.core.exceptions import PermissionDenied

from donations.imports.base import ImportFileError
from relief.imports import ROSTER_SHEET, ROSTER_SPEC, build_roster_template, roster_import
from relief.models import Application, Beneficiary, BeneficiaryDuplicate, HouseholdMember
from relief.services.projects import project_close
from tests.relief.conftest import cn_id, register

pytestmark = pytest.mark.django_db

NAMES = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰"
HEADERS = [header for _key, header, _note, _example in ROSTER_SPEC]


def roster(*rows: dict, headers=HEADERS, sheet=ROSTER_SHEET) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(headers)
    for row in rows:
        worksheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def household(index: int, **overrides) -> dict:
    row = {
        "所在区县": "测试市东区红十字会",
        "申请类型": "家庭",
        "姓名": f"欧阳示{NAMES[index]}",
        "身份证号码": cn_id("19600101", 100 + index),
        "困难情况": "低保户，冬季缺少取暖物资",
        "申请金额（元）": "300.00",
    }
    row.update(overrides)
    return row


def test_the_template_has_every_column_and_reads_back_empty(district_a, funded_project):
    from openpyxl import load_workbook

    data = build_roster_template()
    sheet = load_workbook(io.BytesIO(data))[ROSTER_SHEET]
    assert [cell.value for cell in sheet[1]] == HEADERS
    report = roster_import(data, by=district_a, project=funded_project)
    assert (report.registered, report.rejected, report.skipped) == (0, [], [])


def test_rows_become_beneficiaries_and_applications_and_a_second_import_adds_nothing(district_a, funded_project):
    data = roster(
        household(1, 家庭成员="李示一,配偶," + cn_id("19620202", 201) + "；张小示,子女"),
        household(2, 所在区县="东区", 申请类型=None, 联系电话="13900001111"),
        household(3, 所在区县="CSE", **{"申请金额（元）": None}),
    )
    report = roster_import(data, by=district_a, project=funded_project)
    assert (report.registered, report.new_beneficiaries, report.rejected, report.skipped) == (3, 3, [], [])
    applications = Application.objects.filter(project=funded_project).select_related("beneficiary")
    assert applications.count() == 3 and {a.registered_by_id for a in applications} == {district_a.pk}
    first = Beneficiary.objects.get(name="欧阳示乙")
    assert first.kind == "household" and first.branch_id == district_a.branch_id
    assert list(HouseholdMember.objects.filter(household=first).values_list("name", "relation")) == [
        ("李示一", "配偶"),
        ("张小示", "子女"),
    ]
    assert Application.objects.get(beneficiary=first).requested_amount == 300

    again = roster_import(data, by=district_a, project=funded_project)
    assert (again.registered, len(again.skipped), again.rejected) == (0, 3, [])
    assert "已申请过本项目" in again.skipped[0][1]
    assert Application.objects.filter(project=funded_project).count() == 3 and Beneficiary.objects.count() == 3


def test_a_dry_run_reports_the_same_and_writes_nothing(district_a, funded_project):
    data = roster(household(1), household(2, 身份证号码="110105196001011234"))
    report = roster_import(data, by=district_a, project=funded_project, dry_run=True)
    assert report.dry_run and report.registered == 1 and [line for line, _ in report.rejected] == [3]
    assert not Beneficiary.objects.exists() and not Application.objects.exists()
    assert roster_import(data, by=district_a, project=funded_project).registered == 1


def test_bad_rows_are_listed_with_their_line_and_column_and_nothing_of_them_is_written(district_a, funded_project):
    taken = cn_id("19600101", 150)
    register(district_a, district_a.branch, name="司徒已登", id_number=taken)
    rows = [
        household(1, 身份证号码="110105196001011234"),  # wrong check digit
        household(2, 身份证号码=None),
        household(3, 困难情况=None),
        household(4, **{"申请金额（元）": "9999.00"}),  # above the project's cap of 500
        household(5, **{"申请金额（元）": "=1+1"}),
        household(6, 所在区县="测试市西区红十字会"),  # not the importer's district
        household(7, 家庭成员=f"李重复,配偶,{cn_id('19620202', 7)}；王重复,子女,{cn_id('19620202', 7)}"),
        household(8, 家庭成员="只有名字"),
        household(9, 身份证号码=taken),  # registered under another name
        household(10, 姓名="<script>alert(1)</script>"),
        household(11, 申请类型="单位"),
        household(12, 困难情况="x" * 5000),
        household(13),  # the one good row
    ]
    report = roster_import(roster(*rows), by=district_a, project=funded_project)
    reasons = dict(report.rejected)
    assert report.registered == 1 and len(report.rejected) == 12
    assert "身份证号码" in reasons[2] and "缺少身份证号码" in reasons[3] and "困难情况" in reasons[4]
    assert "申请金额（元）" in reasons[5] and "限额" in reasons[5]
    assert "公式" in reasons[6] and "所在区县" in reasons[7]
    assert "家庭成员第 2 人身份证号码" in reasons[8] and "格式不正确" in reasons[9]
    assert "身份证号码" in reasons[10] and "姓名" in reasons[11] and "申请类型" in reasons[12]
    assert "困难情况过长" in reasons[13]
    # nothing half-written: only the good row and the beneficiary registered before
    assert set(Beneficiary.objects.values_list("name", flat=True)) == {"司徒已登", "欧阳示卯"}
    assert not HouseholdMember.objects.exists()


def test_the_same_household_twice_in_one_file_is_registered_once(district_a, funded_project):
    report = roster_import(roster(household(1), household(1)), by=district_a, project=funded_project)
    assert report.registered == 1 and report.skipped == [(3, "与第 2 行是同一受助人")]


def test_a_shared_phone_goes_to_the_duplicate_queue_and_the_report_names_only_the_line(district_a, funded_project):
    register(district_a, district_a.branch, name="司徒旧户", id_number=cn_id("19500101", 1), phone="13900002222")
    report = roster_import(roster(household(1, 联系电话="13900002222")), by=district_a, project=funded_project)
    assert report.registered == 1 and report.suspected_duplicates == [2]
    assert BeneficiaryDuplicate.objects.filter(status="open").count() == 1
    assert not any("司徒旧户" in line for line in report.lines())


def test_a_closed_project_or_a_user_without_the_right_imports_nothing(district_a, funded_project, officer, clerk):
    with pytest.raises(PermissionDenied):
        roster_import(roster(household(1)), by=clerk, project=funded_project)
    project_close(by=officer, project=funded_project, note="项目提前结束，结余转入下一期")
    report = roster_import(roster(household(1), household(2)), by=district_a, project=funded_project)
    assert report.registered == 0 and "第 2 行起未导入" in report.stopped and not Beneficiary.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a spreadsheet", "不是 XLSX"),
        (b"PK\x03\x04broken zip", "XLSX"),
        (None, "缺少必需的列"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(district_a, funded_project, data, message):
    if data is None:
        data = roster(household(1), headers=["所在区县", "姓名", "联系电话"])
    with pytest.raises(ImportFileError) as error:
        roster_import(data, by=district_a, project=funded_project)
    assert message in error.value.message
    assert not Beneficiary.objects.exists()


IMPORT_URL = "/admin/relief/application/import/"


def test_the_admin_page_checks_first_then_imports(client, district_a, funded_project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(district_a)
    page = client.get("/admin/relief/application/")
    assert IMPORT_URL in page.content.decode()
    form = client.get(IMPORT_URL)
    assert form.status_code == 200 and funded_project.name in form.content.decode()
    template = client.get(IMPORT_URL + "template.xlsx")
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd.openxml")

    def upload():
        return SimpleUploadedFile("花名册.xlsx", roster(household(1), household(2, 身份证号码="1")))

    checked = client.post(IMPORT_URL, {"project": funded_project.pk, "file": upload(), "dry_run": "on"})
    text = checked.content.decode()
    assert "检查结果（未写入）" in text and "第 3 行：身份证号码" in text and not Application.objects.exists()
    done = client.post(IMPORT_URL, {"project": funded_project.pk, "file": upload()})
    assert "导入结果" in done.content.decode() and Application.objects.count() == 1


def test_the_admin_page_refuses_other_roles_big_files_and_unreadable_ones(client, district_a, clerk, funded_project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(clerk)
    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(IMPORT_URL + "template.xlsx").status_code == 403
    client.force_login(district_a)
    big = SimpleUploadedFile("big.xlsx", b"PK" + b"0" * (2 * 1024 * 1024 + 1))
    text = client.post(IMPORT_URL, {"project": funded_project.pk, "file": big}).content.decode()
    assert "文件超过 2 MB" in text
    text = client.post(
        IMPORT_URL, {"project": funded_project.pk, "file": SimpleUploadedFile("x.xlsx", b"<html>")}
    ).content.decode()
    assert "整个文件未导入" in text and not Beneficiary.objects.exists()


def test_a_district_sees_its_own_and_the_city_projects_not_another_districts(
    client, west_staff, district_a, funded_project, officer, branch_tree
):
    from relief.selectors.choices import projects_taking_applications
    from relief.services.projects import project_open
    from tests.relief.conftest import make_project

    west_project = project_open(by=officer, project=make_project(officer, branch_tree["west"], name="西区暖冬"))
    assert set(projects_taking_applications(district_a)) == {funded_project}
    assert set(projects_taking_applications(west_staff)) == {funded_project, west_project}
    assert set(projects_taking_applications(officer)) == {funded_project, west_project}


def test_rows_beyond_the_limit_are_not_imported_and_the_report_says_from_which_line(
    district_a, funded_project, monkeypatch
):
    monkeypatch.setattr("relief.imports.MAX_ROSTER_ROWS", 2)
    report = roster_import(roster(household(1), household(2), household(3)), by=district_a, project=funded_project)
    assert report.registered == 2 and "第 4 行起未导入" in report.stopped

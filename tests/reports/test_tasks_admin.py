"""Exports through the heavy queue (eager Celery in tests), the monthly beat job, and the admin:
generated files listed and downloaded by leadership, scoped for district staff."""

import io
from datetime import date

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from reports.models import ExportStatus, ReportExport
from reports.periods import ReportPeriod
from reports.services import monthly_reports_generate, report_export_request, report_export_run
from reports.tasks import monthly_reports_task, report_export_task
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _export(branch, fmt="xlsx", status=ExportStatus.DONE, **extra):
    return ReportExport.objects.create(
        branch=branch, scope="system", period_kind="month", period_value="2025-03", format=fmt, status=status, **extra
    )


def test_export_task_end_to_end(tiny, march, leader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        export = report_export_request(by=leader, branch=tiny["city"], scope="system", period=march, fmt="xlsx")
    assert len(callbacks) == 1  # enqueued only once the row was committed
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE, export.error
    assert export.requested_by == leader
    assert export.started_at <= export.finished_at
    assert export.size == export.file.size > 0
    assert export.file.name.endswith("CS-2025-03-system.xlsx")
    workbook = load_workbook(io.BytesIO(export.file.read()))
    assert "接收捐赠（按募捐活动）" in workbook.sheetnames

    # idempotent: running the task again on a done export changes nothing
    name, finished = export.file.name, export.finished_at
    assert report_export_task.delay(export.pk).get() == ExportStatus.DONE
    export.refresh_from_db()
    assert (export.file.name, export.finished_at) == (name, finished)


def test_task_options():
    assert report_export_task.queue == "heavy"
    assert report_export_task.acks_late is True
    assert monthly_reports_task.acks_late is True
    entry = settings.CELERY_BEAT_SCHEDULE["reports-monthly"]
    assert entry["task"] == "reports.tasks.monthly_reports_task"
    assert entry["schedule"] == crontab(day_of_month=1, hour=3, minute=0)


def test_a_failed_export_records_the_error_and_can_run_again(tiny, march, leader, monkeypatch):
    export = _export(tiny["city"], status=ExportStatus.QUEUED, requested_by=leader)

    def broken(report, fmt, out):
        raise ValueError("模板出错")

    monkeypatch.setattr("reports.services.write_report", broken)
    report_export_run(export_id=export.pk)
    export.refresh_from_db()
    assert (export.status, export.error, bool(export.file)) == (ExportStatus.FAILED, "ValueError: 模板出错", False)
    monkeypatch.undo()
    report_export_run(export_id=export.pk)
    export.refresh_from_db()
    assert (export.status, export.error, bool(export.file)) == (ExportStatus.DONE, "", True)


def test_requests_are_checked(tiny, march, leader, east_staff):
    clerk = StaffFactory(branch=tiny["city"], roles=["donation_clerk"])
    with pytest.raises(PermissionDenied):
        report_export_request(by=clerk, branch=tiny["city"], scope="system", period=march, fmt="xlsx")
    with pytest.raises(PermissionDenied):
        report_export_request(by=east_staff, branch=tiny["west"], scope="system", period=march, fmt="xlsx")
    with pytest.raises(ValidationError) as error:
        report_export_request(by=leader, branch=tiny["city"], scope="system", period=march, fmt="docx")
    assert "format" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        report_export_request(
            by=leader, branch=tiny["city"], scope="system", period=ReportPeriod("month", 2099, 1), fmt="pdf"
        )
    assert "month" in error.value.message_dict
    assert not ReportExport.objects.exists()


def test_monthly_job_makes_last_months_city_report_once(tiny, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert monthly_reports_generate(today=date(2025, 4, 1)) != []
    exports = list(ReportExport.objects.order_by("format"))
    assert [(e.branch, e.scope, e.period_value, e.format, e.status, e.requested_by) for e in exports] == [
        (tiny["city"], "system", "2025-03", "pdf", ExportStatus.DONE, None),
        (tiny["city"], "system", "2025-03", "xlsx", ExportStatus.DONE, None),
    ]
    finished = [e.finished_at for e in exports]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        monthly_reports_generate(today=date(2025, 4, 1))
    assert callbacks == []  # nothing enqueued again
    assert [e.finished_at for e in ReportExport.objects.order_by("format")] == finished
    # January reports December of the year before
    with django_capture_on_commit_callbacks(execute=False):
        monthly_reports_generate(today=date(2026, 1, 1))
    assert ReportExport.objects.filter(period_value="2025-12").count() == 2


def test_monthly_beat_task_is_idempotent(tiny, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert monthly_reports_task.delay().get() == 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert monthly_reports_task.delay().get() == 2
    assert callbacks == []
    assert ReportExport.objects.count() == 2
    assert set(ReportExport.objects.values_list("status", flat=True)) == {ExportStatus.DONE}


def test_a_failed_monthly_export_is_retried_by_the_next_run(tiny, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        monthly_reports_generate(today=date(2025, 4, 1))
    ReportExport.objects.update(status=ExportStatus.FAILED, error="worker lost")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        monthly_reports_generate(today=date(2025, 4, 1))
    assert len(callbacks) == 2
    assert set(ReportExport.objects.values_list("status", flat=True)) == {ExportStatus.DONE}


# --- admin ---------------------------------------------------------------------------------------------


def test_leadership_generates_lists_and_downloads(client, tiny, leader, django_capture_on_commit_callbacks):
    client.force_login(leader)
    assert "统计报表" in client.get(reverse("admin:index")).content.decode()
    changelist = reverse("admin:reports_reportexport_changelist")
    add = reverse("admin:reports_reportexport_add")
    page = client.get(changelist)
    assert page.status_code == 200
    assert "生成报表" in page.content.decode()
    form = client.get(add)
    assert form.status_code == 200
    html = form.content.decode()
    for text in ("生成报表", "月份", "年度", "本级", "全市系统", "XLSX（Excel）", "测试市西区红十字会"):
        assert text in html, text

    data = {
        "branch": tiny["east"].pk,
        "scope": "system",
        "period_kind": "month",
        "month": "2025-03",
        "year": "",
        "format": "pdf",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add, data)
    assert response.status_code == 302 and response["Location"] == changelist
    export = ReportExport.objects.get()
    assert (export.branch, export.format, export.status, export.requested_by) == (
        tiny["east"],
        "pdf",
        ExportStatus.DONE,
        leader,
    )
    page = client.get(changelist).content.decode()
    download = reverse("admin:reports_reportexport_download", args=[export.pk])
    assert download in page and "已完成" in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]

    # the detail page is read-only, and nothing can be deleted
    detail = client.get(reverse("admin:reports_reportexport_change", args=[export.pk]))
    assert detail.status_code == 200
    assert download in detail.content.decode() and "/media/" not in detail.content.decode()
    assert client.get(reverse("admin:reports_reportexport_history", args=[export.pk])).status_code == 200
    assert client.get(reverse("admin:reports_reportexport_delete", args=[export.pk])).status_code == 403


def test_form_errors_name_the_field(client, tiny, leader):
    client.force_login(leader)
    add = reverse("admin:reports_reportexport_add")
    base = {"branch": tiny["city"].pk, "scope": "own", "format": "xlsx", "year": ""}
    response = client.post(add, {**base, "period_kind": "month", "month": "2099-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["month"] == ["不能生成未来的报表：2099-01 尚未开始"]
    response = client.post(add, {**base, "period_kind": "year", "month": "", "year": "20x5"})
    assert "year" in response.context["form"].errors
    response = client.post(add, {**base, "period_kind": "month", "month": ""})
    assert response.context["form"].errors["month"] == ["请填写月份"]
    assert not ReportExport.objects.exists()


def test_district_staff_are_scoped(client, tiny, east_staff):
    city_export = _export(tiny["city"], status=ExportStatus.QUEUED)
    east_export = _export(tiny["east"], status=ExportStatus.QUEUED)
    report_export_run(export_id=city_export.pk)
    report_export_run(export_id=east_export.pk)
    client.force_login(east_staff)
    page = client.get(reverse("admin:reports_reportexport_changelist"))
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [east_export]
    assert client.get(reverse("admin:reports_reportexport_download", args=[city_export.pk])).status_code == 404
    assert client.get(reverse("admin:reports_reportexport_download", args=[east_export.pk])).status_code == 200

    form = client.get(reverse("admin:reports_reportexport_add"))
    choices = {branch.pk for branch in form.context["form"].fields["branch"].queryset}
    assert choices == {tiny["east"].pk, tiny["east_school"].pk}
    response = client.post(
        reverse("admin:reports_reportexport_add"),
        {"branch": tiny["west"].pk, "scope": "own", "period_kind": "month", "month": "2025-03", "format": "csv"},
    )
    assert response.status_code == 200 and "branch" in response.context["form"].errors
    assert ReportExport.objects.count() == 2


def test_read_only_roles_list_but_do_not_generate(client, tiny):
    supervisor = StaffFactory(branch=tiny["city"], roles=["supervisors"])
    client.force_login(supervisor)
    assert client.get(reverse("admin:reports_reportexport_changelist")).status_code == 200
    assert client.get(reverse("admin:reports_reportexport_add")).status_code == 403

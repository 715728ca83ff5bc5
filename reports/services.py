"""Writes of the reports app: requesting an export, generating it, the monthly job, and writing a
report file atomically (temporary file in the target folder, renamed at the end).

The monthly report (月报) and the annual report (年报) are the same ``Report`` built by
``reports.selectors.report_build`` for a ``ReportPeriod`` of kind month or year; the annual one
adds the previous year and targets.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.models import Branch
from redcross.scoping import ensure_branch_access
from redcross.selectors import BranchScope, city_branch
from reports.exports import EXTENSIONS, FORMATS, write_report
from reports.models import ExportFormat, ExportStatus, ReportExport
from reports.periods import PeriodKind, ReportPeriod
from reports.selectors import Report, report_build

__all__ = [
    "ReportPeriod",
    "monthly_reports_generate",
    "report_export_request",
    "report_export_run",
    "report_write_file",
]

logger = logging.getLogger(__name__)

MONTHLY_FORMATS = (ExportFormat.XLSX, ExportFormat.PDF)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError({"format": [_("格式应为 xlsx、csv 或 pdf，收到：%(value)s") % {"value": fmt}]})


@transaction.atomic
def report_export_request(
    *, by, branch: Branch, scope: str, period: ReportPeriod, fmt: str, today=None
) -> ReportExport:
    """Record an export for ``by`` and generate it on the heavy queue once this transaction commits."""
    if not by.has_perm("reports.add_reportexport"):
        raise PermissionDenied(_("您没有生成统计报表的权限"))
    ensure_branch_access(by, branch)
    _check_format(fmt)
    if scope not in BranchScope.values:
        raise ValidationError({"scope": [_("范围应为本级或全市系统")]})
    period.check(field="month" if period.kind == PeriodKind.MONTH else "year", today=today)
    export = ReportExport.objects.create(
        branch=branch,
        scope=scope,
        period_kind=period.kind,
        period_value=period.value,
        format=fmt,
        requested_by=by,
    )
    _enqueue(export)
    return export


def _enqueue(export: ReportExport) -> None:
    from reports.tasks import report_export_task

    report_export_task.delay_on_commit(export.pk)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)[:1000]
    return f"{exc.__class__.__name__}: {exc}"[:1000]


def report_export_run(*, export_id: int) -> ReportExport:
    """Generate the export's file. Idempotent: a done export is left alone; a queued, running
    (its worker died) or failed one is generated again. A failure is recorded on the row;
    a lost database connection is raised so the task retries."""
    with transaction.atomic():
        export = ReportExport.objects.select_for_update().select_related("branch").get(pk=export_id)
        if export.status == ExportStatus.DONE and export.file:
            return export
        export.status, export.started_at, export.error = ExportStatus.RUNNING, timezone.now(), ""
        export.save(update_fields=["status", "started_at", "error"])
    try:
        report = report_build(period=export.period, branch=export.branch, scope=export.scope)
        with tempfile.TemporaryFile() as handle:
            write_report(report, export.format, handle)
            size = handle.tell()
            handle.seek(0)
            with transaction.atomic():
                locked = ReportExport.objects.select_for_update().get(pk=export.pk)
                if locked.status == ExportStatus.DONE and locked.file:
                    return locked  # another run finished first
                name = f"{report.filename_stem}.{EXTENSIONS[export.format]}"
                locked.file.save(name, File(handle, name=name), save=False)
                locked.size = size
                locked.status = ExportStatus.DONE
                locked.finished_at = timezone.now()
                locked.error = ""
                locked.save(update_fields=["file", "size", "status", "finished_at", "error"])
                return locked
    except OperationalError:
        raise
    except Exception as exc:
        logger.exception("report export %s failed", export.pk)
        ReportExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error=_error_text(exc), finished_at=timezone.now()
        )
        export.refresh_from_db()
        return export


def monthly_reports_generate(*, today=None) -> list[ReportExport]:
    """Last month's report of the city branch as 全市系统, in XLSX and PDF; once per month.

    The rows are unique per branch, scope, period and format when no one requested them, so a
    second run (or beat firing twice) finds them and enqueues only those not yet done.
    """
    city = city_branch()
    if city is None:
        return []
    period = ReportPeriod.last_month(today or timezone.localdate())
    exports = []
    with transaction.atomic():
        for fmt in MONTHLY_FORMATS:
            export, created = ReportExport.objects.get_or_create(
                branch=city,
                scope=BranchScope.SYSTEM,
                period_kind=period.kind,
                period_value=period.value,
                format=fmt,
                requested_by=None,
            )
            if created or export.status in (ExportStatus.QUEUED, ExportStatus.FAILED):
                _enqueue(export)
            exports.append(export)
    return exports


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def report_write_file(*, report: Report, fmt: str, path: str | os.PathLike) -> int:
    """Write ``report`` to ``path`` whole or not at all: a temporary file in the same folder,
    renamed over ``path`` once complete. Returns the size in bytes."""
    _check_format(fmt)
    target = Path(path)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed and renamed or removed below)
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    )
    try:
        with handle:
            write_report(report, fmt, handle)
            size = handle.tell()
        os.chmod(handle.name, 0o666 & ~_umask())  # as a file created with open() would be
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return size

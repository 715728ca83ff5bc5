"""Report tasks: thin, idempotent, take ids. Generating a file runs on the heavy queue."""

from celery import shared_task
from django.db import OperationalError

from reports.services import monthly_reports_generate, report_export_run


@shared_task(
    name="reports.tasks.report_export_task",
    queue="heavy",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def report_export_task(export_id: int) -> str:
    """Generate one export's file; a done export is not generated again. Returns its status."""
    return report_export_run(export_id=export_id).status


@shared_task(name="reports.tasks.monthly_reports_task", acks_late=True)
def monthly_reports_task() -> int:
    """Beat, on the 1st: last month's city report (全市系统) in XLSX and PDF, once per month."""
    return len(monthly_reports_generate())

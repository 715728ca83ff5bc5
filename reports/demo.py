"""Demo data for reports: last month's city report (全市系统), generated as the beat job does.

``monthly_reports_generate`` records last month's XLSX and PDF exports and queues them; the XLSX is
generated here, at once, so the demo lists a real file before the worker starts (the worker then
finds it done). The PDF is left to the worker: rendering it would slow ``make run`` by a second or
two. Idempotent: the service finds last month's rows on a second run.
"""

from __future__ import annotations

from reports.models import ExportFormat, ExportStatus
from reports.services import monthly_reports_generate, report_export_run


def seed(stdout) -> None:
    from donations.models import Donation

    if not Donation.objects.exists():
        stdout.write("reports: skipped (no demo donations to report on)")
        return
    for export in monthly_reports_generate():
        if export.format == ExportFormat.XLSX and export.status != ExportStatus.DONE:
            export = report_export_run(export_id=export.pk)
            if export.status != ExportStatus.DONE:
                raise RuntimeError(f"the demo's monthly report failed: {export.error}")
        stdout.write(f"reports: {export} {export.get_status_display()}")

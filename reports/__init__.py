"""Monthly and annual reports (统计报表) across all apps, as 本级 or 全市系统, exported as
XLSX, CSV or PDF.

The section registry (``registry.py``) collects each app's ``report_sections.py``; exports run
on the heavy queue and are kept as ``ReportExport`` rows. See docs/reports.md.
"""

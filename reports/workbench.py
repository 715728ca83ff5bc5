"""The reports app's line on the staff workbench: report exports that failed."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from redcross.workbench import TodoLine, register_todo
from reports.selectors import failed_exports

register_todo(
    TodoLine(
        key="reports.failed_exports",
        title=_("生成失败的报表"),
        permission="reports.view_reportexport",
        count=lambda *, branch_ids, user: failed_exports(branch_ids=branch_ids).count(),
        url=lambda: reverse("admin:reports_reportexport_changelist") + "?status__exact=failed",
        group=_("统计报表"),
        order=900,
        urgent=True,
    )
)

"""The roster import page (救助对象花名册导入) on the applications' admin: download the template,
upload a district's household list for one open project, check it first (nothing written) or
import it; the report lists refused rows by line and column (``relief.imports``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext

from donations.admin.base import XLSX
from donations.imports.base import ImportFileError, read_bytes
from redcross.admin import render_admin_page
from relief.forms.roster import RosterImportForm
from relief.imports import build_roster_template, roster_import

MAX_REJECTED_SHOWN = 200


class RosterImportAdminMixin:
    """Adds ``import/`` and ``import/template.xlsx`` to the applications' admin."""

    def get_urls(self):
        custom = [
            path("import/", self.admin_site.admin_view(self.roster_import_view), name="relief_application_import"),
            path(
                "import/template.xlsx",
                self.admin_site.admin_view(self.roster_template_view),
                name="relief_application_import_template",
            ),
        ]
        return custom + super().get_urls()

    def has_roster_import_permission(self, request) -> bool:
        return request.user.has_perm("relief.add_application") and request.user.has_perm("relief.add_beneficiary")

    def roster_template_view(self, request):
        if not self.has_roster_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(build_roster_template(), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="relief-roster-template.xlsx"'
        return response

    def roster_import_view(self, request):
        if not self.has_roster_import_permission(request):
            raise PermissionDenied
        form = RosterImportForm(request.POST or None, request.FILES or None, user=request.user)
        report = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                report = roster_import(
                    read_bytes(data["file"]), by=request.user, project=data["project"], dry_run=data["dry_run"]
                )
            except ImportFileError as exc:
                form.add_error("file", gettext("整个文件未导入：%(reason)s") % {"reason": exc.message})
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
        return render_admin_page(
            self,
            request,
            "admin/relief/application/roster_import.html",
            title=gettext("导入救助对象花名册"),
            form=form,
            report=report,
            report_lines=report.lines(max_rejected=MAX_REJECTED_SHOWN) if report else [],
            has_view_permission=True,
        )

"""The roster import page (救助对象花名册导入) on the applications' admin: download the template,
upload a district's household list for one open project, check it first (nothing written) or
import it; the report lists refused rows by line and column (``relief.imports``)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.imports.base import ImportFileError, read_bytes
from redcross.admin import render_admin_page
from redcross.scoping import visible_branch_ids
from relief.imports import build_roster_template, roster_import
from relief.models import Project, ProjectStatus

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROSTER_MAX_BYTES = 2 * 1024 * 1024
MAX_REJECTED_SHOWN = 200


def projects_open_to(user):
    """Open projects a user may register applications to: their own branches' and those of the
    branches above them (a district registers households for the city's project)."""
    projects = Project.objects.filter(status=ProjectStatus.OPEN).select_related("branch").order_by("-starts_on", "pk")
    ids = visible_branch_ids(user)
    if ids is None:
        return projects
    above = {int(part) for part in (user.branch.path if user.branch_id else "").strip("/").split("/") if part}
    return projects.filter(branch_id__in=ids | above)


class RosterImportForm(forms.Form):
    project = forms.ModelChoiceField(label=_("救助项目"), queryset=Project.objects.none())
    file = forms.FileField(label=_("花名册文件（XLSX）"))
    dry_run = forms.BooleanField(
        label=_("只检查，不导入"), required=False, initial=True, help_text=_("先检查一遍：列出有问题的行，什么也不写入")
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_open_to(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ROSTER_MAX_BYTES:
            raise forms.ValidationError(gettext("文件超过 %(mb)d MB，请分批导入") % {"mb": ROSTER_MAX_BYTES // 2**20})
        return upload


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
        response = HttpResponse(build_roster_template(), content_type=XLSX_TYPE)
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

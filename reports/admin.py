"""统计报表 in the admin: generated files (read-only, branch-scoped, downloaded through a checked
view, never a public media URL) and the 生成报表 form, which records an export and hands it to
the heavy queue once the request's transaction commits."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from redcross.admin import BranchScopedAdmin, download_link, render_admin_page
from reports.exports import CONTENT_TYPES
from reports.forms import ReportGenerateForm
from reports.models import ExportStatus, ReportExport
from reports.services import report_export_request

_STATUS_CSS = {
    ExportStatus.QUEUED: "report-status-queued",
    ExportStatus.RUNNING: "report-status-running",
    ExportStatus.DONE: "report-status-done",
    ExportStatus.FAILED: "report-status-failed",
}


@admin.register(ReportExport)
class ReportExportAdmin(BranchScopedAdmin):
    list_display = (
        "branch",
        "period_display",
        "scope",
        "format",
        "status_display",
        "requested_by_display",
        "created_at",
        "finished_at",
        "size_display",
        "download_link",
    )
    list_filter = ("status", "period_kind", "scope", "format")
    list_select_related = ("branch", "requested_by")
    search_fields = ("branch__name", "=period_value")
    date_hierarchy = "created_at"

    # the detail page: the file only through the checked download link, never its media URL
    fieldsets = (
        (None, {"fields": (("branch", "scope"), ("period_display", "format"))}),
        (_("文件"), {"fields": (("status_display", "download_link", "size_display"), "error")}),
        (_("申请与生成"), {"fields": (("requested_by_display", "created_at"), ("started_at", "finished_at"))}),
    )
    readonly_fields = (
        "branch", "scope", "period_display", "format", "status_display", "download_link", "size_display", "error",
        "requested_by_display", "created_at", "started_at", "finished_at",
    )  # fmt: skip
    # exports have no audit history of their own (simple-history); the admin's own log page instead
    object_history_template = "admin/object_history.html"

    # --- read-only rows --------------------------------------------------------------------------

    def history_view(self, request, object_id, extra_context=None):
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # generated files are kept: an auditor can always see what was handed out

    # --- columns ---------------------------------------------------------------------------------

    @admin.display(description=_("期间"), ordering="period_value")
    def period_display(self, obj: ReportExport) -> str:
        return gettext("%(period)s %(kind)s") % {"period": obj.period.label, "kind": obj.period.kind_label}

    @admin.display(description=_("状态"), ordering="status")
    def status_display(self, obj: ReportExport):
        label = obj.get_status_display()
        if obj.status == ExportStatus.FAILED and obj.error:
            return format_html('<span class="{}" title="{}">{}</span>', _STATUS_CSS[obj.status], obj.error, label)
        return format_html('<span class="{}">{}</span>', _STATUS_CSS.get(obj.status, ""), label)

    @admin.display(description=_("申请人"))
    def requested_by_display(self, obj: ReportExport) -> str:
        return str(obj.requested_by) if obj.requested_by_id else gettext("定时任务")

    @admin.display(description=_("大小"))
    def size_display(self, obj: ReportExport) -> str:
        return filesizeformat(obj.size) if obj.size else "—"

    @admin.display(description=_("下载"))
    def download_link(self, obj: ReportExport):
        if obj.status != ExportStatus.DONE or not obj.file:
            return "—"
        return download_link(reverse("admin:reports_reportexport_download", args=[obj.pk]), gettext("下载"))

    # --- pages -----------------------------------------------------------------------------------

    def get_urls(self):
        custom = [
            path(
                "<int:export_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="reports_reportexport_download",
            ),
        ]
        return custom + super().get_urls()

    def download_view(self, request, export_id: int):
        """Staff download, only of exports of branches the user may see."""
        export = get_object_or_404(self.get_queryset(request).select_related("branch"), pk=export_id)
        if not self.has_view_permission(request, export):
            raise PermissionDenied
        if export.status != ExportStatus.DONE or not export.file:
            raise Http404
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export.download_name,
            content_type=CONTENT_TYPES[export.format],
        )

    def add_view(self, request, form_url="", extra_context=None):
        """生成报表: the form instead of a model form; the row is written by the service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ReportGenerateForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                export = report_export_request(
                    by=request.user,
                    branch=data["branch"],
                    scope=data["scope"],
                    period=data["period"],
                    fmt=data["format"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    gettext("已提交生成“%(export)s”，完成后可在列表中下载") % {"export": export},
                )
                return HttpResponseRedirect(reverse("admin:reports_reportexport_changelist"))
        return render_admin_page(
            self,
            request,
            "admin/reports/reportexport/generate.html",
            title=gettext("生成报表"),
            form=form,
            has_view_permission=self.has_view_permission(request),
        )

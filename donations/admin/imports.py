"""Statement upload and template download in the donation admin.

``DonationImportAdminMixin`` adds two pages to a ModelAdmin of ``Donation``::

    admin/donations/donation/import/                 upload a statement, see the report
    admin/donations/donation/import/template.xlsx    the portal's XLSX template

To switch them on, mix it into the donation admin (``donations/admin/intake.py``)::

    class DonationAdmin(DonationImportAdminMixin, BranchScopedAdmin): ...

and link the page from ``templates/admin/donations/donation/change_list.html``::

    {% if perms.donations.import_donation %}
      <li><a href="{% url 'admin:donations_donation_import' %}">导入对账单</a></li>
    {% endif %}

The upload runs in the request, so it is meant for files of up to
``ADMIN_MAX_BYTES`` (a few thousand rows); larger statements go through
``python manage.py import_donations``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext

from donations.forms.imports import StatementImportForm
from donations.imports.base import ImportFileError
from donations.imports.statement import import_statement
from donations.imports.template import build_template_workbook
from redcross.admin import render_admin_page

# rejected rows shown on the page (the command prints all of them)
ADMIN_MAX_REJECTED_SHOWN = 500


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DonationImportAdminMixin:
    """Upload page and template download for the Donation ModelAdmin."""

    def get_urls(self):
        custom = [
            path("import/", self.admin_site.admin_view(self.import_view), name="donations_donation_import"),
            path(
                "import/template.xlsx",
                self.admin_site.admin_view(self.import_template_view),
                name="donations_donation_import_template",
            ),
        ]
        return custom + super().get_urls()

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("donations.import_donation")

    def import_template_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(build_template_workbook(), content_type=XLSX_TYPE)
        response["Content-Disposition"] = 'attachment; filename="donation-import-template.xlsx"'
        return response

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = StatementImportForm(request.POST or None, request.FILES or None, user=request.user)
        report = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                report = import_statement(
                    path_or_file=data["file"],
                    fmt=data["fmt"],
                    by=request.user,
                    branch=data["branch"],
                    campaign=data["campaign"],
                )
            except ImportFileError as exc:
                form.add_error("file", gettext("整个文件未导入：%(reason)s") % {"reason": exc.message})
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
        return render_admin_page(
            self,
            request,
            "admin/donations/donation/import.html",
            title=gettext("导入捐赠对账单"),
            form=form,
            report=report,
            report_lines=report.lines(max_rejected=ADMIN_MAX_REJECTED_SHOWN) if report else [],
            has_view_permission=True,
        )

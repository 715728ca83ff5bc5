"""Statement upload and template download in the donation admin.

``DonationImportAdminMixin`` adds two pages to a ModelAdmin of ``Donation``::

    admin/donations/donation/import/                 upload a statement, see the report
    admin/donations/donation/import/template.xlsx    the portal's XLSX template

To switch them on, mix it into the donation admin (``donations/admin.py``)::

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

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.imports.base import ImportFileError, import_statement
from donations.imports.template import build_template_workbook
from donations.models import Campaign, CampaignStatus
from redcross.admin import render_admin_page
from redcross.scoping import visible_branch_ids, visible_branches

# about 5,000 WeChat rows: an upload must finish well inside the web server's timeout
ADMIN_MAX_BYTES = 2 * 1024 * 1024
# rejected rows shown on the page (the command prints all of them)
ADMIN_MAX_REJECTED_SHOWN = 500

FORMAT_CHOICES = (
    ("wechat", _("微信支付对账单（CSV）")),
    ("alipay", _("支付宝对账单（CSV）")),
    ("bank", _("银行对账单（CSV 或 XLSX）")),
    ("template", _("本平台导入模板（XLSX）")),
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StatementImportForm(forms.Form):
    file = forms.FileField(label=_("对账单文件"))
    fmt = forms.ChoiceField(label=_("格式"), choices=FORMAT_CHOICES)
    branch = forms.ModelChoiceField(label=_("接收组织"), queryset=None)
    campaign = forms.ModelChoiceField(
        label=_("募捐活动"), queryset=None, required=False, help_text=_("不选则记入接收组织的日常捐赠")
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = visible_branches(user).filter(is_active=True)
        if user.branch_id and not self.is_bound:
            self.initial.setdefault("branch", user.branch_id)
        campaigns = Campaign.objects.filter(status__in=[CampaignStatus.OPEN, CampaignStatus.FOLDED])
        ids = visible_branch_ids(user)
        if ids is not None:
            # own campaigns and those of the branches above (a branch may take gifts for them)
            paths = list(visible_branches(user).values_list("path", flat=True))
            above = {int(part) for p in paths for part in p.strip("/").split("/") if part}
            campaigns = campaigns.filter(branch_id__in=ids | above)
        self.fields["campaign"].queryset = campaigns

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ADMIN_MAX_BYTES:
            raise forms.ValidationError(
                gettext("文件超过 %(mb)d MB；较大的对账单请由管理员用 import_donations 命令导入")
                % {"mb": ADMIN_MAX_BYTES // 2**20}
            )
        return upload


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

"""Statement upload, column mapping and template download in the donation admin.

``DonationImportAdminMixin`` adds three pages to a ModelAdmin of ``Donation``::

    admin/donations/donation/import/                 upload a statement, see the report
    admin/donations/donation/import/map/<token>/     map the columns of a bank statement whose
                                                     header is not recognised, preview, save, import
    admin/donations/donation/import/template.xlsx    the portal's XLSX template

A bank statement nobody knows (``HeaderNotRecognised``) is kept for a day in the default storage
(``imports/pending/<user id>/<token>``, only its uploader reads it) while the clerk maps its columns;
saving the mapping imports it, and later files with the same header use the mapping by themselves.

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

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin.base import XLSX
from donations.forms.imports import StatementImportForm, StatementMappingForm, column_letter
from donations.imports import bank
from donations.imports.base import HeaderNotRecognised, ImportFileError, ParsedRow, preview_rows
from donations.imports.statement import import_statement, parse_bank_statement
from donations.imports.template import build_template_workbook
from donations.models import MAPPING_FIELDS, AmountLayout, Campaign, StatementMapping
from donations.services.statement_mappings import statement_mapping_save
from redcross.admin import BranchScopedAdmin, render_admin_page, table_html
from redcross.forms import service_errors_to_form
from redcross.models import Branch
from redcross.scoping import can_access_branch

# rejected rows shown on the page (the command prints all of them)
ADMIN_MAX_REJECTED_SHOWN = 500


PENDING_DIR = "imports/pending"


PENDING_MAX_AGE = timedelta(hours=24)


PREVIEW_ROWS_SHOWN = 20


_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


# --- an upload kept while its columns are mapped ----------------------------------------------------


def _pending_path(user, token: str, suffix: str) -> str:
    return f"{PENDING_DIR}/{user.pk}/{token}.{suffix}"


def _drop_expired() -> None:
    """Forget uploads older than ``PENDING_MAX_AGE`` (of every user: nobody comes back for them)."""
    cutoff = timezone.now() - PENDING_MAX_AGE
    try:
        folders, _files = default_storage.listdir(PENDING_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    for folder in folders:
        for name in default_storage.listdir(f"{PENDING_DIR}/{folder}")[1]:
            stored = f"{PENDING_DIR}/{folder}/{name}"
            try:
                if default_storage.get_modified_time(stored) < cutoff:
                    default_storage.delete(stored)
            except (FileNotFoundError, NotImplementedError):
                continue


def stash_upload(data: bytes, *, user, meta: dict) -> str:
    """Keep an upload for its uploader while the columns are mapped; returns its token."""
    _drop_expired()
    token = secrets.token_urlsafe(24)
    default_storage.save(_pending_path(user, token, "bin"), ContentFile(data))
    default_storage.save(_pending_path(user, token, "json"), ContentFile(json.dumps(meta).encode()))
    return token


def load_upload(user, token: str) -> tuple[bytes, dict]:
    """The upload and what was chosen with it; 404 for an unknown, expired or someone else's token."""
    if not _TOKEN.match(token or ""):
        raise Http404
    try:
        with default_storage.open(_pending_path(user, token, "json")) as meta_file:
            meta = json.loads(meta_file.read())
        with default_storage.open(_pending_path(user, token, "bin")) as data_file:
            data = data_file.read()
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return data, meta


def drop_upload(user, token: str) -> None:
    for suffix in ("bin", "json"):
        default_storage.delete(_pending_path(user, token, suffix))


@dataclass
class MappingPreview:
    """What a mapping reads from the file, before anything is written."""

    rows: list[ParsedRow]
    payments: int
    total: Decimal
    skipped: list[tuple[str, int]]  # reason, rows
    rejected: list[tuple[int, str]]
    warnings: list[str] = field(default_factory=list)


def mapping_preview(data: bytes, *, branch: Branch, mapping: StatementMapping) -> MappingPreview:
    statement = parse_bank_statement(data, branch=branch, mapping=mapping)
    skipped: dict[str, int] = {}
    for _line, reason in statement.skipped:
        skipped[reason] = skipped.get(reason, 0) + 1
    return MappingPreview(
        rows=statement.rows[:PREVIEW_ROWS_SHOWN],
        payments=len(statement.rows),
        total=sum((row.amount for row in statement.rows), Decimal("0.00")),
        skipped=sorted(skipped.items()),
        rejected=sorted(statement.rejected)[:ADMIN_MAX_REJECTED_SHOWN],
        warnings=statement.warnings,
    )


class DonationImportAdminMixin:
    """Upload page and template download for the Donation ModelAdmin."""

    def get_urls(self):
        custom = [
            path("import/", self.admin_site.admin_view(self.import_view), name="donations_donation_import"),
            path(
                "import/map/<str:token>/",
                self.admin_site.admin_view(self.import_map_view),
                name="donations_donation_import_map",
            ),
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
        response = HttpResponse(build_template_workbook(), content_type=XLSX)
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
            except HeaderNotRecognised:
                # a bank statement nobody knows: keep it and let the clerk map its columns once
                data["file"].seek(0)
                token = stash_upload(
                    data["file"].read(),
                    user=request.user,
                    meta={
                        "branch": data["branch"].pk,
                        "campaign": data["campaign"].pk if data["campaign"] else None,
                        "filename": str(data["file"].name)[:100],
                    },
                )
                return redirect(reverse("admin:donations_donation_import_map", args=[token]))
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

    def import_map_view(self, request, token: str):
        """Map the columns of a kept bank statement, preview what they read, save and import."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        data, meta = load_upload(request.user, token)
        branch = Branch.objects.filter(pk=meta.get("branch")).first()
        if branch is None or not can_access_branch(request.user, branch):
            raise PermissionDenied
        campaign = Campaign.objects.select_related("branch").filter(pk=meta.get("campaign")).first()
        try:
            head = bank.head_rows(data)
        except ImportFileError as exc:
            drop_upload(request.user, token)
            raise Http404(exc.message) from None
        rows, header_line = preview_rows(enumerate(head, start=1))
        initial = {}
        if request.method != "POST":
            guessed = bank.guess_columns(head[header_line - 1] if head else [])
            initial = {f"col_{key}": position for key, position in guessed.items()}
            initial["amount_layout"] = (
                AmountLayout.CREDIT_DEBIT
                if "credit" in guessed
                else AmountLayout.DIRECTION
                if "direction" in guessed
                else AmountLayout.SIGNED
            )
        form = StatementMappingForm(request.POST or None, rows=rows, header_line=header_line, initial=initial)
        preview = report = None
        if request.method == "POST" and form.is_valid():
            mapping = StatementMapping(
                branch=branch,
                name=form.cleaned_data["name"],
                bank_account=form.cleaned_data["bank_account"],
                header=form.header_cells(head),
                columns=form.columns(),
                amount_layout=form.cleaned_data["amount_layout"],
            )
            try:
                if "save" in request.POST:
                    statement_mapping_save(mapping=mapping, by=request.user)
                    report = import_statement(
                        path_or_file=data, fmt="bank", by=request.user, branch=branch, campaign=campaign,
                        mapping=mapping,
                    )  # fmt: skip
                    drop_upload(request.user, token)
                else:
                    mapping.full_clean(exclude=["created_by", "header_signature"])
                    preview = mapping_preview(data, branch=branch, mapping=mapping)
            except (ValidationError, PermissionDenied) as exc:
                service_errors_to_form(exc, form)
            except ImportFileError as exc:
                form.add_error(None, exc.message)
        if report is not None:
            return render_admin_page(
                self,
                request,
                "admin/donations/donation/import.html",
                title=gettext("导入捐赠对账单"),
                form=StatementImportForm(user=request.user),
                report=report,
                report_lines=report.lines(max_rejected=ADMIN_MAX_REJECTED_SHOWN),
                has_view_permission=True,
            )
        return render_admin_page(
            self,
            request,
            "admin/donations/donation/import_map.html",
            title=gettext("建立对账单列映射"),
            form=form,
            rows=rows,
            letters=[column_letter(i) for i in range(max((len(row) for row in rows), default=0))],
            filename=meta.get("filename", ""),
            branch=branch,
            preview=preview,
            has_view_permission=True,
        )


@admin.register(StatementMapping)
class StatementMappingAdmin(BranchScopedAdmin):
    """Saved column mappings: made on the upload page, renamed or switched off here, never deleted
    (their history stays with the imports they read)."""

    list_display = ("name", "bank_account", "branch", "amount_layout", "is_active", "created_by", "created_at")
    list_filter = ("is_active", "amount_layout")
    search_fields = ("name", "bank_account")
    list_select_related = ("branch", "created_by")
    fields = (
        "branch", "name", "bank_account", "is_active", "amount_layout", "columns_display", "created_by", "created_at",
    )  # fmt: skip
    readonly_fields = ("branch", "amount_layout", "columns_display", "created_by", "created_at")

    @admin.display(description=_("列对应"))
    def columns_display(self, obj: StatementMapping) -> str:
        header = obj.header if isinstance(obj.header, list) else []
        rows = [
            (label, f"{column_letter(obj.columns[key])}　{header[obj.columns[key]]}")
            for key, label in MAPPING_FIELDS
            if isinstance(obj.columns.get(key), int) and obj.columns[key] < len(header)
        ]
        return table_html([gettext("字段"), gettext("列")], rows)

    def has_add_permission(self, request):
        return False  # a mapping is made from a statement, on the upload page

    def has_delete_permission(self, request, obj=None):
        return False  # switched off instead (启用), so its history stays

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and request.user.has_perm("donations.import_donation")

    def save_model(self, request, obj, form, change):
        if not self._in_scope(request, obj):
            raise PermissionDenied
        statement_mapping_save(mapping=obj, by=request.user)

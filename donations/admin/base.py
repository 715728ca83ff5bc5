"""What every admin page of the donations app shares: rows written only by services, read-only
inlines, status badges."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from donations.forms.allocations import ReasonForm
from donations.models import Channel, Donation
from redcross.admin import BranchScopedAdmin, render_admin_page, table_html, yuan_or_dash
from redcross.forms import service_error_message
from redcross.uploads import stored_file_download

FORM_TEMPLATE = "admin/donations/allocation_form.html"


CHOICE_TEMPLATE = "admin/donations/add_choice.html"


REASON_TEMPLATE = "admin/donations/action_reason.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ServiceWrittenAdmin(BranchScopedAdmin):
    """Rows written only by services: shown, never changed or deleted here.

    Their files (vouchers, signed forms, photos) are never served from a public media URL:
    ``file_fields`` are downloaded through ``file_view``, which checks scope and permission.
    """

    file_fields: tuple[str, ...] = ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        name = f"{self.model._meta.app_label}_{self.model._meta.model_name}_file"
        custom = [path("<int:object_id>/file/<str:field>/", self.admin_site.admin_view(self.file_view), name=name)]
        return custom + super().get_urls()

    def file_view(self, request, object_id: int, field: str):
        if field not in self.file_fields:
            raise Http404
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return stored_file_download(getattr(obj, field))

    def _file_link(self, obj, field: str):
        if not getattr(obj, field):
            return "—"
        meta = self.model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_file", args=[obj.pk, field])
        return format_html('<a href="{}">{}</a>', url, gettext("下载"))

    def _form_page(self, request, title: str, form, *, formset=None, intro: str = "", submit: str = "", **extra):
        return render_admin_page(
            self,
            request,
            FORM_TEMPLATE,
            title=title,
            form=form,
            formset=formset,
            intro=intro,
            submit_label=submit or gettext("保存"),
            has_view_permission=True,
            **extra,
        )

    def _require_add(self, request) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied

    def _require_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _run_each(self, request, queryset, call, done_message: str) -> None:
        """Call a service on each row, each in its own transaction; report the refused ones."""
        done = 0
        for obj in queryset:
            try:
                call(obj)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{obj}: {service_error_message(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"n": done})

    def _reason_action(
        self, request, queryset, *, action: str, title: str, call, done_message: str, intro: str = "", submit: str = ""
    ):
        """An action that needs a reason: an intermediate page, then the service on each row.
        ``intro`` and ``submit`` word the page for an action that is not a cancellation."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run_each(request, queryset, lambda obj: call(obj, reason), done_message)
            return None
        return render_admin_page(
            self,
            request,
            REASON_TEMPLATE,
            title=title,
            form=form,
            queryset=queryset,
            action=action,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            intro=intro,
            submit_label=submit,
        )


class ReadOnlyInline(admin.TabularInline):
    """Lines shown on an object's page that are written only by services."""

    extra = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.select_related)


class WriteOnlyInput(forms.TextInput):
    """A field typed in but never sent back to the browser (an ID number): the page shows it masked."""

    def format_value(self, value):
        return None


# --- JSON kept on a row, shown as staff read it ---------------------------------------------------


def receipt_lines_table(lines: list[dict] | None) -> str:
    """A receipt's frozen 项目明细: code, name, unit, quantity, standard and amount."""
    headers = [
        gettext("项目编码"),
        gettext("项目名称"),
        gettext("单位"),
        gettext("数量"),
        gettext("标准"),
        gettext("金额"),
    ]
    rows = [
        (
            line.get("item_code") or "—",
            line.get("item_name") or "—",
            line.get("unit") or "—",
            line.get("quantity") or "—",
            yuan_or_dash(line.get("standard")),
            yuan_or_dash(line.get("amount")),
        )
        for line in lines or []
    ]
    return table_html(headers, rows, numeric={3, 4, 5})


def _correction_value(field: str, text: str) -> str:
    if text in (None, ""):
        return "—"
    if field in MONEY_FIELDS:
        return yuan_or_dash(text)
    if field == "channel":
        return str(dict(Channel.choices).get(text, text))
    if field == "received_at":
        return _local_time(text)
    return text


def _local_time(text: str) -> str:
    """An ISO time kept in JSON as the admin shows times; the text itself if it is not one."""
    try:
        return f"{timezone.localtime(datetime.fromisoformat(text)):%Y-%m-%d %H:%M}"
    except (TypeError, ValueError):
        return text


MONEY_FIELDS = frozenset({"amount", "refunded_amount"})


def correction_changes_table(changes: dict | None) -> str:
    """A correction's changes: each field by its label, before and after, formatted."""
    rows = []
    for field, change in (changes or {}).items():
        try:
            label = str(Donation._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            label = field
        before, after = (change or {}).get("before"), (change or {}).get("after")
        rows.append((label, _correction_value(field, before), _correction_value(field, after)))
    return table_html([gettext("项目"), gettext("更正前"), gettext("更正后")], rows)


def refunds_table(refunds: list[dict] | None) -> str:
    """A donation's refunds through its channel: reference, amount, time and source."""
    rows = []
    for refund in refunds or []:
        when = _local_time(refund.get("refunded_at") or "")
        rows.append(
            (refund.get("id") or "—", yuan_or_dash(refund.get("amount")), when or "—", refund.get("source") or "—")
        )
    return table_html([gettext("退款单号"), gettext("金额"), gettext("退款时间"), gettext("来源")], rows, numeric={1})


def status_badge_html(css: str, label: str) -> str:
    return format_html('<span class="{}">{}</span>', css, label)


def int_or_zero(value) -> int:
    """A query parameter as a primary key; 0 (matches nothing) when it is not a number."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0

"""The reminder outbox: what is to be sent, to whom, and what happened; staff mark what they sent
by hand and export the pending ones (for an SMS platform of their own)."""

from __future__ import annotations

import csv
import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.exports import safe_cell
from redcross.admin import BranchScopedAdmin
from redcross.forms import service_error_message
from training.models import Reminder
from training.services.reminders import reminder_mark_sent


@admin.action(description=_("标记为已发送"), permissions=["change"])
def mark_sent(modeladmin, request, queryset):
    done = 0
    for reminder in queryset:
        try:
            reminder_mark_sent(reminder=reminder, by=request.user)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{reminder}: {service_error_message(exc)}", messages.ERROR)
    if done:
        modeladmin.message_user(request, gettext("已标记 %(count)d 条提醒") % {"count": done}, messages.SUCCESS)


@admin.action(description=_("导出 CSV"), permissions=["view"])
def export_csv(modeladmin, request, queryset):
    """The selected reminders with the phone to send them to (staff only; formula-safe)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([gettext("提醒类别"), gettext("姓名"), gettext("手机号码"), gettext("证书编号"),
                     gettext("到期日期"), gettext("提醒内容"), gettext("状态"), gettext("生成时间")])  # fmt: skip
    for reminder in queryset.select_related("person", "certificate"):
        writer.writerow(
            [
                safe_cell(str(value))
                for value in (
                    reminder.get_kind_display(),
                    reminder.person.name,
                    reminder.person.phone,
                    reminder.certificate.number if reminder.certificate_id else "",
                    reminder.due_on.isoformat(),
                    reminder.message,
                    reminder.get_status_display(),
                    timezone.localtime(reminder.created_at).strftime("%Y-%m-%d %H:%M"),
                )
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="training-reminders.csv"'
    return response


@admin.register(Reminder)
class ReminderAdmin(BranchScopedAdmin):
    list_display = ("created_at", "kind", "person", "certificate", "due_on", "status", "sent_at")
    list_filter = ("status", "kind", "due_on", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("person", "certificate")
    search_fields = ("person__name", "=certificate__number")
    show_full_result_count = False
    actions = (mark_sent, export_csv)
    fields = (
        "kind", "branch", "person", "certificate", "due_on", "message", "status", "created_at", "sent_at",
        "attempts", "last_error", "handled_by",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # recorded by the reminder job

    def has_delete_permission(self, request, obj=None):
        return False

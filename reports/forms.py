"""The 生成报表 form of the admin: branch (only those the user may see), month or year, scope, format."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from redcross.models import Branch
from redcross.scoping import visible_branches
from redcross.selectors import BranchScope
from reports.models import ExportFormat
from reports.periods import PeriodKind, ReportPeriod


class ReportGenerateForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("组织"), queryset=Branch.objects.none())
    scope = forms.ChoiceField(
        label=_("范围"),
        choices=BranchScope.choices,
        initial=BranchScope.SYSTEM,
        widget=forms.RadioSelect,
        help_text=_("本级：只统计该组织自身；全市系统：该组织及其全部下级组织"),
    )
    period_kind = forms.ChoiceField(
        label=_("报表类型"), choices=PeriodKind.choices, initial=PeriodKind.MONTH, widget=forms.RadioSelect
    )
    month = forms.CharField(
        label=_("月份"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        help_text=_("月报填写，如 2026-03"),
    )
    year = forms.CharField(
        label=_("年度"),
        required=False,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "YYYY"}),
        help_text=_("年报填写，如 2025；年报含与上年比较和目标完成情况"),
    )
    format = forms.ChoiceField(label=_("格式"), choices=ExportFormat.choices, initial=ExportFormat.XLSX)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        branches = visible_branches(user).filter(is_active=True)
        self.fields["branch"].queryset = branches
        if not self.is_bound:
            self.initial.setdefault("branch", user.branch_id or (branches.first().pk if branches.exists() else None))
            last = ReportPeriod.last_month(timezone.localdate())
            self.initial.setdefault("month", last.value)
            self.initial.setdefault("year", str(timezone.localdate().year - 1))

    def clean(self):
        data = super().clean()
        kind = data.get("period_kind")
        field = "month" if kind == PeriodKind.MONTH else "year"
        value = data.get(field) or ""
        if kind in PeriodKind.values:
            if not value:
                self.add_error(field, _("请填写月份") if field == "month" else _("请填写年度"))
            else:
                try:
                    data["period"] = ReportPeriod.parse(kind, value, field=field)
                except ValidationError as exc:
                    self.add_error(None, exc)
        return data

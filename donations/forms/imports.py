"""The statement upload form (WeChat Pay, Alipay, bank, the portal's own template)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.models import MAPPING_FIELDS, AmountLayout, Campaign, CampaignStatus
from redcross.models import Branch
from redcross.scoping import visible_branch_ids, visible_branches

ADMIN_MAX_BYTES = 2 * 1024 * 1024


FORMAT_CHOICES = (
    ("wechat", _("微信支付对账单（CSV）")),
    ("alipay", _("支付宝对账单（CSV）")),
    ("bank", _("银行对账单（CSV 或 XLSX）")),
    ("template", _("本平台导入模板（XLSX）")),
)


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
            above = {branch_id for path in paths for branch_id in Branch.lineage_ids(path)}
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


# about 5,000 WeChat rows: an upload must finish well inside the web server's timeout


def column_letter(position: int) -> str:
    """A, B, …, Z, AA, AB, … as the spreadsheet shows the column."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class StatementMappingForm(forms.Form):
    """Which column of an unrecognised bank statement holds what (``StatementMapping``).

    ``rows`` are the file's first rows as text (``donations.imports.base.preview_rows``); the
    column choices are labelled with the chosen header row's names.
    """

    name = forms.CharField(label=_("映射名称"), max_length=60, help_text=_("如：澜州银行基本户明细"))
    bank_account = forms.CharField(
        label=_("银行账户"), max_length=60, help_text=_("开户行和账号（或账号末四位），说明这是哪个账户的对账单")
    )
    header_line = forms.TypedChoiceField(label=_("表头所在行"), coerce=int)
    amount_layout = forms.ChoiceField(label=_("金额列"), choices=AmountLayout.choices, widget=forms.RadioSelect)

    def __init__(self, *args, rows: list[list[str]], header_line: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        lines = [(n, row) for n, row in enumerate(rows, start=1) if any(row)]
        self.fields["header_line"].choices = [
            (n, gettext("第 %(n)d 行：%(cells)s") % {"n": n, "cells": " | ".join(c for c in row if c)[:80]})
            for n, row in lines
        ]
        self.initial.setdefault("header_line", header_line)
        chosen = self._chosen_line()
        header = rows[chosen - 1] if 0 < chosen <= len(rows) else []
        width = max((len(row) for row in rows), default=0)
        choices = [("", "—")] + [
            (str(i), f"{column_letter(i)}　{header[i] if i < len(header) else ''}".strip()) for i in range(width)
        ]
        for key, label in MAPPING_FIELDS:
            self.fields[f"col_{key}"] = forms.TypedChoiceField(
                label=label, choices=choices, required=False, coerce=int, empty_value=None
            )

    def _chosen_line(self) -> int:
        value = self.data.get(self.add_prefix("header_line")) if self.is_bound else None
        try:
            return int(value) if value is not None else int(self.initial["header_line"])
        except (TypeError, ValueError):
            return int(self.initial["header_line"])

    def column_fields(self):
        return [self[f"col_{key}"] for key, _label in MAPPING_FIELDS]

    def columns(self) -> dict[str, int]:
        data = self.cleaned_data
        return {key: data[f"col_{key}"] for key, _label in MAPPING_FIELDS if data.get(f"col_{key}") is not None}

    def header_cells(self, head: list[list]) -> list[str]:
        """The chosen header row's cells in full (``head`` as read, not cut short for display)."""
        line = self.cleaned_data["header_line"]
        cells = head[line - 1] if 0 < line <= len(head) else []
        return ["" if cell is None else str(cell).strip() for cell in cells]

"""Saved column mappings for bank statements whose layout the importer does not know.

A clerk maps the columns of such a statement once in the admin upload (日期/时间, 流水号, 对方户名,
对方账号, 贷方/借方 or one amount, 余额, 摘要); later files with the same header row are read with
the mapping automatically, in the admin and by ``import_donations --mapping NAME``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch

# the statement fields a column can be mapped to, in the order the form shows them
MAPPING_FIELDS = (
    ("date", _("交易日期")),
    ("time", _("交易时间（或日期和时间）")),
    ("serial", _("流水号（交易号）")),
    ("payer_name", _("对方户名")),
    ("payer_account", _("对方账号")),
    ("credit", _("贷方发生额（收入）")),
    ("debit", _("借方发生额（支出）")),
    ("amount", _("交易金额")),
    ("direction", _("借贷方向")),
    ("balance", _("余额")),
    ("summary", _("摘要、用途或附言")),
)
MAPPING_FIELD_LABELS = dict(MAPPING_FIELDS)
MAX_HEADER_COLUMNS = 100


class AmountLayout(models.TextChoices):
    CREDIT_DEBIT = "credit_debit", _("贷方（收入）、借方（支出）各一列")
    SIGNED = "signed", _("一列金额，负数为支出")
    DIRECTION = "direction", _("一列金额，另有一列借贷方向")


# per layout: the amount fields it needs, and those it must not have
_LAYOUT_FIELDS = {
    AmountLayout.CREDIT_DEBIT: (("credit",), ("amount", "direction")),
    AmountLayout.SIGNED: (("amount",), ("credit", "debit", "direction")),
    AmountLayout.DIRECTION: (("amount", "direction"), ("credit", "debit")),
}


class StatementMapping(models.Model):
    """Which column of a bank statement holds what, for one header row, saved under a name for
    one bank account of a branch. Written by ``donations.services.statement_mappings``."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="statement_mappings"
    )
    name = models.CharField(_("映射名称"), max_length=60, help_text=_("如：澜州银行基本户明细"))
    bank_account = models.CharField(
        _("银行账户"), max_length=60, help_text=_("开户行和账号（或账号末四位），说明这是哪个账户的对账单")
    )
    header = models.JSONField(_("表头"), default=list, help_text=_("建立映射时文件的表头行"))
    header_signature = models.CharField(_("表头特征"), max_length=64, db_index=True, editable=False)
    columns = models.JSONField(_("列对应"), default=dict, help_text=_("字段 → 列序号（从 0 起）"))
    amount_layout = models.CharField(_("金额列"), max_length=20, choices=AmountLayout.choices)
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("停用的映射不再自动使用"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("建立人"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("建立时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("对账单列映射")
        verbose_name_plural = _("对账单列映射")
        ordering = ["branch__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "name"],
                name="statement_mapping_name_per_branch",
                violation_error_message=_("本组织已有同名的列映射"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.bank_account}）"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        header = self.header
        if (
            not isinstance(header, list)
            or not header
            or len(header) > MAX_HEADER_COLUMNS
            or not all(isinstance(cell, str) and len(cell) <= 200 for cell in header)
            or not any(cell.strip() for cell in header)
        ):
            errors["header"] = [_("表头须为 1 至 %(n)d 列文字") % {"n": MAX_HEADER_COLUMNS}]
            header = []
        columns = self.columns if isinstance(self.columns, dict) else None
        if columns is None:
            errors["columns"] = [_("列对应格式不正确")]
            columns = {}
        problems = []
        for key, position in columns.items():
            label = MAPPING_FIELD_LABELS.get(key)
            if label is None:
                problems.append(_("未知的字段：%(key)s") % {"key": str(key)[:30]})
            elif isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(header):
                problems.append(_("“%(field)s”对应的列不在表头中") % {"field": label})
        positions = [position for position in columns.values() if isinstance(position, int)]
        if len(positions) != len(set(positions)):
            problems.append(_("同一列不能对应两个字段"))
        if "serial" not in columns:
            problems.append(_("请选择流水号（交易号）所在的列"))
        if "date" not in columns and "time" not in columns:
            problems.append(_("请选择交易日期或交易时间所在的列"))
        if self.amount_layout in _LAYOUT_FIELDS:
            needed, excluded = _LAYOUT_FIELDS[AmountLayout(self.amount_layout)]
            layout = AmountLayout(self.amount_layout).label
            for key in needed:
                if key not in columns:
                    names = {"layout": layout, "field": MAPPING_FIELD_LABELS[key]}
                    problems.append(_("金额列为“%(layout)s”时须选择“%(field)s”") % names)
            for key in excluded:
                if key in columns:
                    names = {"layout": layout, "field": MAPPING_FIELD_LABELS[key]}
                    problems.append(_("金额列为“%(layout)s”时不选“%(field)s”") % names)
        if problems:
            errors.setdefault("columns", []).extend(problems)
        if errors:
            raise ValidationError(errors)

    def parser_index(self) -> dict[str, int]:
        """The columns under the keys the bank parser reads (a signed amount is ``signed_amount``)."""
        index = dict(self.columns)
        if self.amount_layout == AmountLayout.SIGNED and "amount" in index:
            index["signed_amount"] = index.pop("amount")
        return index

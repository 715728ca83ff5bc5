"""Staff forms for the warehouse: stock-in check (数质量检查), transfer, adjustment."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from donations.forms.allocations import date_input, datetime_input, lot_choices, parse_lot
from donations.selectors.warehouse import (
    lots_awaiting_check,
    quantity_text,
    scoped_warehouses,
)
from redcross.scoping import visible_branch_ids
from redcross.uploads import validate_evidence_file


class StockInCheckForm(forms.Form):
    item = forms.ModelChoiceField(label=_("物资批次"), queryset=None)
    warehouse = forms.ModelChoiceField(label=_("入库仓库"), queryset=None)
    counted_quantity = forms.CharField(label=_("清点数量"), max_length=32)
    condition = forms.CharField(label=_("质量状况"), max_length=200, help_text=_("外包装、破损、受潮等"))
    expiry_date = forms.DateField(label=_("核实有效期"), required=False, widget=date_input())
    photos = forms.FileField(label=_("查验照片"), required=False, validators=[validate_evidence_file])
    moved_at = forms.DateTimeField(label=_("入库时间"), required=False, widget=datetime_input())
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = lots_awaiting_check(branch_ids=visible_branch_ids(user))
        self.fields["item"].label_from_instance = lambda item: (
            f"{item.donation.serial} {item.name} {item.specification} {quantity_text(item.quantity)}{item.unit}"
        )
        self.fields["warehouse"].queryset = scoped_warehouses(visible_branch_ids(user)).filter(is_active=True)


class StockTransferForm(forms.Form):
    lot = forms.ChoiceField(label=_("调出仓库 · 物资批次"), choices=())
    to_warehouse = forms.ModelChoiceField(label=_("调入仓库"), queryset=None)
    quantity = forms.CharField(label=_("调拨数量"), max_length=32)
    reason = forms.CharField(label=_("原因"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    moved_at = forms.DateTimeField(label=_("调拨时间"), required=False, widget=datetime_input())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = lot_choices(user)
        self.fields["to_warehouse"].queryset = scoped_warehouses(visible_branch_ids(user)).filter(is_active=True)

    def clean_lot(self) -> tuple[int, int]:
        return parse_lot(self.cleaned_data["lot"])


class StockAdjustForm(forms.Form):
    lot = forms.ChoiceField(label=_("仓库 · 物资批次"), choices=())
    quantity = forms.CharField(label=_("调整数量"), max_length=32, help_text=_("盘盈填正数，盘亏、损毁填负数，如 -3"))
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 2}))
    moved_at = forms.DateTimeField(label=_("盘点时间"), required=False, widget=datetime_input())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = lot_choices(user, include_empty=True)

    def clean_lot(self) -> tuple[int, int]:
        return parse_lot(self.cleaned_data["lot"])

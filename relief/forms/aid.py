"""Staff forms for disbursements: one disbursement (bank, cash or goods), a batch by one bank
transfer, the recipient's receipt scan, 博爱家园 shares and dividends. The services check the
caps, the funds and the files; their errors come back on these fields."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.forms.allocations import date_input
from donations.models import AllocationSource
from donations.selectors.warehouse import quantity_text
from relief.models import AidMethod, Application, LivelihoodShare, Project
from relief.selectors.choices import project_goods_lots


class _Dated(forms.Form):
    disbursed_on = forms.DateField(label=_("发放日期"), required=False, widget=date_input(), help_text=_("不填即今天"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("disbursed_on", timezone.localdate())


class AidDisburseForm(_Dated):
    method = forms.ChoiceField(label=_("发放方式"), choices=AidMethod.choices, widget=forms.RadioSelect)
    amount = forms.CharField(
        label=_("发放金额（元）"), max_length=32, required=False, help_text=_("资金发放；不填即按批准金额")
    )
    voucher_number = forms.CharField(label=_("转账凭证号"), max_length=60, required=False, help_text=_("银行转账必填"))
    voucher = forms.FileField(label=_("转账凭证"), required=False)
    receipt_scan = forms.FileField(label=_("受助人签字或手印扫描件"), required=False, help_text=_("也可以发放后再补登"))

    field_order = ("method", "disbursed_on", "amount", "voucher_number", "voucher", "receipt_scan")


class LotChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: AllocationSource) -> str:
        item = obj.item
        return gettext("%(name)s %(spec)s（%(serial)s 调入 %(quantity)s%(unit)s）") % {
            "name": item.name, "spec": item.specification, "serial": obj.allocation.serial,
            "quantity": quantity_text(obj.quantity), "unit": item.unit,
        }  # fmt: skip


class GoodsLineForm(forms.Form):
    source = LotChoice(label=_("物资批次"), queryset=None)
    quantity = forms.CharField(label=_("数量"), max_length=32)

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = project_goods_lots(project)


GoodsLineFormSet = forms.formset_factory(GoodsLineForm, extra=3, can_delete=True)


class AidBatchForm(_Dated):
    voucher_number = forms.CharField(label=_("批量转账凭证号"), max_length=60)


class ReceiptForm(forms.Form):
    receipt_scan = forms.FileField(label=_("受助人签字或手印扫描件"), help_text=_("PDF、JPG 或 PNG"))


def _this_year() -> int:
    return timezone.localdate().year


def shares_text(share: LivelihoodShare) -> str:
    return f"{share.shares.normalize():f}"


class SharesForm(forms.Form):
    """One line a household: its shares of the year (blank: not recorded this time)."""

    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)

    def __init__(self, *args, households: list[tuple[Application, LivelihoodShare | None]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("year", _this_year())
        self.households = households
        for application, share in households:
            name = f"shares_{application.beneficiary_id}"
            self.fields[name] = forms.CharField(
                label=f"{application.number} {application.beneficiary.masked_name}",
                max_length=16, required=False,
                help_text=gettext("已登记 %(n)s 股") % {"n": shares_text(share)} if share else "",
            )  # fmt: skip
            if share is not None and not self.is_bound:
                self.initial[name] = shares_text(share)

    def entered(self) -> list[tuple[Application, str]]:
        return [
            (application, self.cleaned_data[f"shares_{application.beneficiary_id}"].strip())
            for application, _share in self.households
            if self.cleaned_data.get(f"shares_{application.beneficiary_id}", "").strip()
        ]


class DividendsForm(_Dated):
    year = forms.IntegerField(label=_("分红年度"), min_value=2000, max_value=2100)
    total = forms.CharField(label=_("分红总额（元）"), max_length=32, help_text=_("按各户股份比例分配，精确到分"))
    voucher_number = forms.CharField(label=_("转账凭证号"), max_length=60)

    field_order = ("year", "total", "disbursed_on", "voucher_number")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("year", _this_year())

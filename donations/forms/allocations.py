"""Staff forms for allocations: plans, cash allocations, goods transfer orders, the recipient's sign-off.

Every choice is limited to what the user may see (``BranchScopedForm``); the services check again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.models import (
    Allocation,
    AllocationPlanLine,
    AllocationSource,
    AllocationStatus,
    Campaign,
    Donation,
    DonationKind,
    Recipient,
)
from donations.selectors.warehouse import (
    lots_in_stock,
    quantity_text,
)
from redcross.money import format_yuan_unit
from redcross.scoping import scope_queryset, visible_branch_ids, visible_branches
from redcross.uploads import validate_evidence_file


def date_input():
    return forms.DateInput(attrs={"type": "date"})


def datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"})


class BranchScopedForm(forms.Form):
    """A form whose branch, recipient and campaign choices are limited to what the user may see."""

    def _limit(self, user) -> None:
        branches = visible_branches(user).filter(is_active=True)
        if "branch" in self.fields:
            self.fields["branch"].queryset = branches
            if user.branch_id and not self.is_bound:
                self.initial.setdefault("branch", user.branch_id)
        if "recipient" in self.fields:
            self.fields["recipient"].queryset = scope_queryset(Recipient.objects.filter(is_active=True), user)
        if "campaign" in self.fields:
            self.fields["campaign"].queryset = Campaign.objects.order_by("-id")


class AllocationPlanForm(BranchScopedForm):
    branch = forms.ModelChoiceField(label=_("组织"), queryset=None)
    document_number = forms.CharField(label=_("文号"), max_length=80)
    title = forms.CharField(label=_("标题"), max_length=200)
    issuing_body = forms.CharField(label=_("发文机关"), max_length=120)
    issued_on = forms.DateField(label=_("发文日期"), widget=date_input())
    attachment = forms.FileField(label=_("方案文件"), required=False, validators=[validate_evidence_file])
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._limit(user)


class AllocationPlanLineForm(BranchScopedForm):
    kind = forms.ChoiceField(label=_("类型"), choices=DonationKind.choices, initial=DonationKind.CASH)
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    recipient = forms.ModelChoiceField(label=_("受赠单位"), queryset=None)
    amount = forms.CharField(label=_("金额（元）"), required=False, max_length=32)
    item_name = forms.CharField(label=_("物资名称"), required=False, max_length=120)
    quantity = forms.CharField(label=_("数量"), required=False, max_length=32)
    unit = forms.CharField(label=_("单位"), required=False, max_length=20)
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._limit(user)


class PlanLineChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: AllocationPlanLine) -> str:
        what = (
            format_yuan_unit(obj.amount)
            if obj.amount is not None
            else f"{obj.item_name} {quantity_text(obj.quantity)}{obj.unit}"
        )
        return f"{obj.plan.document_number}：{obj.recipient.name} {what}"


def plan_lines(user, kind: str):
    return scope_queryset(
        AllocationPlanLine.objects.filter(kind=kind).select_related("plan", "recipient").order_by("-plan_id", "id"),
        user,
        branch_field="plan__branch",
    )


class CashAllocationForm(BranchScopedForm):
    branch = forms.ModelChoiceField(label=_("拨付组织"), queryset=None)
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    recipient = forms.ModelChoiceField(label=_("受赠单位"), queryset=None)
    amount = forms.CharField(label=_("拨付金额（元）"), max_length=32)
    allocated_on = forms.DateField(label=_("拨付日期"), widget=date_input())
    plan_line = PlanLineChoice(
        label=_("分配方案明细"), queryset=None, required=False, help_text=_("非定向捐款按分配方案拨付，先进先出")
    )
    directed_donation = forms.CharField(
        label=_("定向捐赠流水号"), required=False, max_length=30, help_text=_("按捐赠人意愿拨付定向捐款时填写")
    )
    voucher_number = forms.CharField(label=_("付款凭证号"), required=False, max_length=60)
    voucher = forms.FileField(label=_("付款凭证"), required=False, validators=[validate_evidence_file])
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._limit(user)
        self.fields["plan_line"].queryset = plan_lines(user, DonationKind.CASH)
        if not self.is_bound:
            self.initial.setdefault("allocated_on", timezone.localdate())

    def clean_directed_donation(self) -> Donation | None:
        serial = self.cleaned_data["directed_donation"].strip()
        if not serial:
            return None
        donation = scope_queryset(Donation.objects.filter(serial=serial), self.user).first()
        if donation is None:
            raise ValidationError(gettext("捐赠不存在"))
        return donation

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "branch": data["branch"],
            "campaign": data["campaign"],
            "recipient": data["recipient"],
            "amount": data["amount"],
            "allocated_on": data["allocated_on"],
            "plan_line": data["plan_line"],
            "directed_donation": data["directed_donation"],
            "voucher_number": data["voucher_number"],
            "voucher": data["voucher"],
            "note": data["note"],
        }


def lot_choices(user, *, include_empty: bool = False) -> list[tuple[str, str]]:
    lots = lots_in_stock(branch_ids=visible_branch_ids(user), include_empty=include_empty)
    return [("", "---------")] + [(f"{lot.item_id}:{lot.warehouse_id}", lot.label) for lot in lots]


def parse_lot(value: str) -> tuple[int, int]:
    item_id, _sep, warehouse_id = value.partition(":")
    try:
        return int(item_id), int(warehouse_id)
    except ValueError:
        raise ValidationError(gettext("请选择库存物资")) from None


class GoodsAllocationForm(BranchScopedForm):
    branch = forms.ModelChoiceField(label=_("调拨组织"), queryset=None)
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    recipient = forms.ModelChoiceField(label=_("受赠单位"), queryset=None)
    allocated_on = forms.DateField(label=_("调拨日期"), widget=date_input())
    plan_line = PlanLineChoice(
        label=_("分配方案明细"), queryset=None, required=False, help_text=_("定向捐赠的物资按捐赠人意愿调拨，可不选")
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._limit(user)
        self.fields["plan_line"].queryset = plan_lines(user, DonationKind.IN_KIND)
        if not self.is_bound:
            self.initial.setdefault("allocated_on", timezone.localdate())


class GoodsLineForm(forms.Form):
    lot = forms.ChoiceField(label=_("仓库 · 物资批次"), choices=())
    quantity = forms.CharField(label=_("出库数量"), max_length=32)

    def __init__(self, *args, lot_choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = lot_choices

    def clean_lot(self) -> tuple[int, int]:
        return parse_lot(self.cleaned_data["lot"])


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class AllocationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Allocation) -> str:
        what = format_yuan_unit(obj.amount) if obj.amount is not None else obj.get_kind_display()
        return f"{obj.serial} {obj.recipient.name} {what}（{obj.allocated_on:%Y-%m-%d}）"


class RecipientConfirmationForm(forms.Form):
    allocation = AllocationChoice(label=_("拨付"), queryset=None)
    signed_by_name = forms.CharField(label=_("受赠单位签收人"), max_length=60)
    signed_at = forms.DateTimeField(label=_("签收时间"), widget=datetime_input())
    amount_received = forms.CharField(
        label=_("实收金额（元）"), required=False, max_length=32, help_text=_("资金拨付填写；不填即按拨付金额")
    )
    scan = forms.FileField(label=_("签收单扫描件"), required=False, validators=[validate_evidence_file])
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allocations = scope_queryset(
            Allocation.objects.filter(status=AllocationStatus.CONFIRMED, recipient_confirmation__isnull=True),
            user,
        ).select_related("recipient")
        self.fields["allocation"].queryset = allocations
        chosen = self.data.get("allocation") if self.is_bound else self.initial.get("allocation")
        self.sources: list[AllocationSource] = []
        try:
            allocation = allocations.filter(pk=int(chosen)).first() if chosen else None
        except (TypeError, ValueError):
            allocation = None
        if allocation is not None and allocation.kind == DonationKind.IN_KIND:
            self.sources = list(allocation.sources.select_related("item").order_by("id"))
            for source in self.sources:
                item = source.item
                self.fields[f"received_{source.pk}"] = forms.CharField(
                    label=gettext("实收：%(name)s %(spec)s（调拨 %(quantity)s%(unit)s）")
                    % {
                        "name": item.name,
                        "spec": item.specification,
                        "quantity": quantity_text(source.quantity),
                        "unit": item.unit,
                    },
                    required=False,
                    max_length=32,
                    help_text=gettext("不填即按调拨数量"),
                )

    def quantities(self) -> dict[str, str]:
        return {
            str(source.pk): self.cleaned_data[f"received_{source.pk}"]
            for source in self.sources
            if self.cleaned_data.get(f"received_{source.pk}")
        }

"""Forms of the donation admin pages; they parse input and hand it to a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.models import Campaign, Channel, DonationKind, Donor, Recipient, ValueBasis
from donations.services.donors import DuplicateDonor, donor_check_duplicates
from redcross.scoping import scope_queryset, visible_branches


class DonorSearchWidget(AutocompleteSelect):
    """The admin's autocomplete with a visible prompt, which is also the box's accessible name
    (Django sets an empty placeholder)."""

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-placeholder"] = gettext("输入姓名、电话后四位或信用代码查找捐赠人")
        return attrs


def intake_defaults(user) -> dict[str, Any]:
    """What a new donation starts with: now, the user's branch, the open emergency campaign if
    there is one (a surge), else the user's branch's regular giving."""
    from django.utils import timezone

    from donations.models import CampaignKind, CampaignStatus

    open_campaigns = Campaign.objects.filter(status=CampaignStatus.OPEN)
    campaign = (
        open_campaigns.filter(is_emergency=True).order_by("-starts_on", "-id").first()
        or open_campaigns.filter(kind=CampaignKind.REGULAR, branch_id=user.branch_id).first()
    )
    defaults: dict[str, Any] = {"received_at": timezone.localtime().replace(second=0, microsecond=0)}
    if user.branch_id:
        defaults["branch"] = user.branch_id
    if campaign is not None:
        defaults["campaign"] = campaign.pk
    return defaults


class DonationRegisterForm(forms.Form):
    """One form, one submit for a walk-in gift: the donor is found by typing (name, phone digits,
    credit code) or added in place, and everything else has a default a clerk rarely changes."""

    donor = forms.ModelChoiceField(
        label=_("捐赠人"), queryset=None, help_text=_("输入姓名、名称、手机号后四位或信用代码查找；没有则点“+”新增")
    )
    kind = forms.ChoiceField(label=_("类型"), choices=DonationKind.choices, initial=DonationKind.CASH)
    amount = forms.CharField(label=_("金额（元）"), required=False, help_text=_("捐款必填；捐物按物资明细计算"))
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.ON_SITE)
    received_at = forms.DateTimeField(
        label=_("到账时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    branch = forms.ModelChoiceField(label=_("接收组织"), queryset=None)
    channel_transaction_id = forms.CharField(label=_("渠道交易号"), required=False, max_length=64)
    designated_recipient = forms.ModelChoiceField(label=_("定向受赠单位"), queryset=None, required=False)
    wish = forms.CharField(label=_("捐赠意愿"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_retroactive = forms.BooleanField(label=_("补办手续"), required=False)
    note = forms.CharField(label=_("内部备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, admin_site=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        branches = visible_branches(user).filter(is_active=True)
        self.fields["branch"].queryset = branches
        self.fields["donor"].queryset = scope_queryset(Donor.objects.all(), user)
        self.fields["campaign"].queryset = Campaign.objects.filter(status__in=["open", "folded"])
        self.fields["designated_recipient"].queryset = scope_queryset(Recipient.objects.filter(is_active=True), user)
        if admin_site is not None:
            self._search_donors_by_typing(admin_site)
        if not self.is_bound:
            self.initial.update(intake_defaults(user))

    def _search_donors_by_typing(self, admin_site) -> None:
        """The admin's own autocomplete (select2, shipped with Django) and its "+" to add a donor
        in a pop-up without leaving this form."""

        from donations.models import Donation

        relation = Donation._meta.get_field("donor")
        field = self.fields["donor"]
        widget = DonorSearchWidget(relation, admin_site)
        widget.choices = field.choices  # the field gives its (scoped) queryset to the widget it was built with
        field.widget = RelatedFieldWidgetWrapper(
            widget, relation.remote_field, admin_site, can_add_related=True, can_change_related=False,
            can_view_related=False,
        )  # fmt: skip

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "branch": data["branch"],
            "donor": data["donor"],
            "campaign": data["campaign"],
            "kind": data["kind"],
            "channel": data["channel"],
            "channel_transaction_id": data["channel_transaction_id"],
            "received_at": data["received_at"],
            "amount": data["amount"] or None,
            "designated_recipient": data["designated_recipient"],
            "wish": data["wish"],
            "is_retroactive": data["is_retroactive"],
            "note": data["note"],
        }


class DonationItemForm(forms.Form):
    name = forms.CharField(label=_("物资名称"), max_length=120)
    specification = forms.CharField(label=_("规格型号"), max_length=120, required=False)
    quantity = forms.DecimalField(label=_("数量"), max_digits=14, decimal_places=3)
    unit = forms.CharField(label=_("单位"), max_length=20)
    unit_value = forms.DecimalField(label=_("单价（元）"), max_digits=14, decimal_places=2, required=False)
    value_basis = forms.ChoiceField(label=_("价值依据"), choices=ValueBasis.choices, initial=ValueBasis.NONE)
    expiry_date = forms.DateField(label=_("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


# one empty line: a cash gift (most of them) shows none, the page adds lines for goods
DonationItemFormSet = forms.formset_factory(DonationItemForm, extra=1, can_delete=True)


class ReceiptReverseForm(forms.Form):
    reason = forms.CharField(label=_("冲红原因"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
    reissue = forms.BooleanField(label=_("冲红后重新开具票据"), required=False, initial=True)


class DonationCorrectForm(forms.Form):
    """Fields a confirmed donation may be corrected in; unchanged ones are left out of the correction."""

    donor = forms.ModelChoiceField(label=_("捐赠人"), queryset=None)
    campaign = forms.ModelChoiceField(label=_("募捐活动"), queryset=None)
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices)
    channel_transaction_id = forms.CharField(label=_("渠道交易号"), required=False, max_length=64)
    received_at = forms.DateTimeField(label=_("到账时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    amount = forms.CharField(label=_("金额（元）"), required=False)
    designated_recipient = forms.ModelChoiceField(label=_("定向受赠单位"), queryset=None, required=False)
    wish = forms.CharField(label=_("捐赠意愿"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=_("内部备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("更正原因"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)

    def __init__(self, *args, user, donation, **kwargs) -> None:
        initial = {
            "donor": donation.donor_id,
            "campaign": donation.campaign_id,
            "channel": donation.channel,
            "channel_transaction_id": donation.channel_transaction_id,
            "received_at": donation.received_at,
            "amount": donation.amount if donation.amount is not None else "",
            "designated_recipient": donation.designated_recipient_id,
            "wish": donation.wish,
            "note": donation.note,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.donation = donation
        self.fields["donor"].queryset = scope_queryset(Donor.objects.all(), user)
        self.fields["campaign"].queryset = Campaign.objects.all()
        self.fields["designated_recipient"].queryset = scope_queryset(Recipient.objects.all(), user)
        if donation.kind != DonationKind.CASH:
            del self.fields["amount"]

    def changes(self) -> dict[str, Any]:
        changes = {name: self.cleaned_data[name] for name in self.changed_data if name != "reason"}
        # the browser's date-time field has minutes only: an untouched time is not a correction
        received = changes.get("received_at")
        if received is not None and received == self.donation.received_at.replace(second=0, microsecond=0):
            del changes["received_at"]
        return changes


class DonorAdminForm(forms.ModelForm):
    allow_duplicate = forms.BooleanField(
        label=_("确认不是重复登记"), required=False, help_text=_("系统提示疑似重复时，核实后勾选仍可新建")
    )

    class Meta:
        model = Donor
        fields = [
            "branch", "kind", "name", "credit_code", "contact_person", "phone", "email", "address", "id_number",
            "public_display", "full_name_consent_text", "wants_receipt", "note",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            # the same check as donor_register: the message names the donors it found
            try:
                donor_check_duplicates(
                    name=cleaned.get("name") or "",
                    phone=cleaned.get("phone") or "",
                    credit_code=cleaned.get("credit_code") or "",
                    id_number=cleaned.get("id_number") or "",
                    allow_duplicate=bool(cleaned.get("allow_duplicate")),
                )
            except DuplicateDonor as duplicate:
                raise ValidationError(duplicate.messages) from None
        return cleaned

"""Staff forms for bulletins (公示): a draft's period and campaign, a draft's editable text."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from donations.models import Bulletin, BulletinKind, Campaign
from redcross.scoping import visible_branches


class BulletinDraftForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("发布组织"), queryset=None)
    kind = forms.ChoiceField(label=_("类型"), choices=BulletinKind.choices)
    campaign = forms.ModelChoiceField(
        label=_("募捐活动"), queryset=None, required=False, help_text=_("空白表示本组织的全部捐赠")
    )
    period_start = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))
    title = forms.CharField(
        label=_("标题"), max_length=200, required=False, help_text=_("空白时按组织、活动和期间生成")
    )
    errata = forms.CharField(
        label=_("勘误"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10000
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        branches = visible_branches(user).filter(is_active=True).order_by("path")
        self.fields["branch"].queryset = branches
        self.fields["campaign"].queryset = Campaign.objects.order_by("-starts_on", "-id")
        if user.branch_id and branches.filter(pk=user.branch_id).exists():
            self.fields["branch"].initial = user.branch_id
        yesterday = timezone.localdate() - timedelta(days=1)
        self.fields["period_start"].initial = yesterday
        self.fields["period_end"].initial = yesterday


class BulletinChangeForm(forms.ModelForm):
    class Meta:
        model = Bulletin
        fields = ["title", "errata"]

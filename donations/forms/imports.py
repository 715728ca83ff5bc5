"""The statement upload form (WeChat Pay, Alipay, bank, the portal's own template)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.models import Campaign, CampaignStatus
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
            above = {int(part) for p in paths for part in p.strip("/").split("/") if part}
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

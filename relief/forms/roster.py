"""The roster import's upload form (救助对象花名册导入, ``relief.imports``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from relief.models import Project
from relief.selectors.choices import projects_taking_applications

ROSTER_MAX_BYTES = 2 * 1024 * 1024


class RosterImportForm(forms.Form):
    project = forms.ModelChoiceField(label=_("救助项目"), queryset=Project.objects.none())
    file = forms.FileField(label=_("花名册文件（XLSX）"))
    dry_run = forms.BooleanField(
        label=_("只检查，不导入"), required=False, initial=True, help_text=_("先检查一遍：列出有问题的行，什么也不写入")
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_taking_applications(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ROSTER_MAX_BYTES:
            raise forms.ValidationError(gettext("文件超过 %(mb)d MB，请分批导入") % {"mb": ROSTER_MAX_BYTES // 2**20})
        return upload

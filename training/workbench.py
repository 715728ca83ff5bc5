"""The training app's lines on the staff workbench (``redcross.workbench``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from redcross.workbench import TodoLine, register_todo
from training.selectors import workbench as waiting
from training.selectors.aeds import aeds_needing_attention

TRAINING = _("应急救护培训")


def _changelist(model: str, **filters: str) -> str:
    return f"{reverse(f'admin:training_{model}_changelist')}?{urlencode(filters)}"


register_todo(
    TodoLine(
        key="training.sessions_held_not_closed",
        title=_("已举办尚未结班的培训班"),
        permission="training.change_session",
        count=lambda *, branch_ids, user: waiting.sessions_held_not_closed(branch_ids=branch_ids).count(),
        url=lambda: _changelist("session", status__exact="held"),
        group=TRAINING,
        order=110,
    )
)
register_todo(
    TodoLine(
        key="training.instructor_certificates_expiring",
        title=_("即将到期的师资证"),
        permission="training.view_certificate",
        count=lambda *, branch_ids, user: waiting.instructor_certificates_expiring(branch_ids=branch_ids).count(),
        url=lambda: _changelist("certificate", expiring="instructor"),
        group=TRAINING,
        order=120,
    )
)
register_todo(
    TodoLine(
        key="training.aeds_needing_attention",
        title=_("需检查或更换耗材的 AED"),
        permission="training.view_aed",
        count=lambda *, branch_ids, user: aeds_needing_attention(branch_ids=branch_ids).count(),
        url=lambda: _changelist("aed", attention="due"),
        group=TRAINING,
        order=130,
        urgent=True,
    )
)

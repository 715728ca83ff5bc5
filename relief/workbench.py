"""The relief app's lines on the staff workbench (``redcross.workbench``): the review queues of
suspected duplicate beneficiaries and of applications, approved applications waiting to be paid,
and cash waiting for its second signature."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from redcross.workbench import TodoLine, register_todo
from relief.selectors import workbench as waiting

RELIEF = _("人道救助")


def _changelist(model: str, **filters: str) -> str:
    return f"{reverse(f'admin:relief_{model}_changelist')}?{urlencode(filters)}"


def _count(selector):
    return lambda *, branch_ids, user: selector(branch_ids=branch_ids).count()


register_todo(
    TodoLine(
        key="relief.duplicates_open",
        title=_("待复核的疑似重复受助人"),
        permission="relief.review_beneficiaryduplicate",
        count=_count(waiting.open_duplicates_queryset),
        url=lambda: _changelist("beneficiaryduplicate", status__exact="open"),
        group=RELIEF,
        order=210,
        urgent=True,
    )
)
register_todo(
    TodoLine(
        key="relief.applications_to_review",
        title=_("待区县初审的救助申请"),
        permission="relief.review_application",
        count=_count(waiting.applications_to_review),
        url=lambda: _changelist("application", queue="review"),
        group=RELIEF,
        order=220,
    )
)
register_todo(
    TodoLine(
        key="relief.applications_to_decide",
        title=_("待市级审批的救助申请"),
        permission="relief.decide_application",
        count=_count(waiting.applications_to_decide),
        url=lambda: _changelist("application", queue="decide"),
        group=RELIEF,
        order=230,
    )
)
register_todo(
    TodoLine(
        key="relief.applications_to_disburse",
        title=_("已批准待发放的救助申请"),
        permission="relief.add_aid",
        count=_count(waiting.applications_to_disburse),
        url=lambda: _changelist("application", queue="disburse"),
        group=RELIEF,
        order=235,
    )
)
register_todo(
    TodoLine(
        key="relief.aid_awaiting_signature",
        title=_("待第二人签字的现金发放"),
        permission="relief.confirm_aid",
        count=_count(waiting.aid_awaiting_second_signature),
        url=lambda: _changelist("aid", queue="sign"),
        group=RELIEF,
        order=240,
    )
)

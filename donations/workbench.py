"""The donations app's lines on the staff workbench (``redcross.workbench``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from donations.selectors import workbench as waiting
from redcross.workbench import TodoLine, register_todo

DONATIONS = _("捐赠")
GOODS = pgettext_lazy("workbench group", "款物去向")
DISCLOSURE = _("信息公开")


def _changelist(model: str, **filters: str) -> str:
    url = reverse(f"admin:donations_{model}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def _count(selector):
    return lambda *, branch_ids, user: selector(branch_ids=branch_ids).count()


register_todo(
    TodoLine(
        key="donations.awaiting_confirmation",
        title=_("待复核的捐赠（双人双签）"),
        permission="donations.confirm_donation",
        count=_count(waiting.donations_awaiting_confirmation),
        url=lambda: _changelist("donation", status__exact="registered"),
        group=DONATIONS,
        order=10,
    )
)
register_todo(
    TodoLine(
        key="donations.awaiting_receipt",
        title=_("待开具捐赠票据"),
        permission="donations.issue_receipt",
        count=_count(waiting.donations_awaiting_receipt),
        url=lambda: _changelist("donation", receipt="to_issue"),
        group=DONATIONS,
        order=20,
    )
)
register_todo(
    TodoLine(
        key="donations.allocations_awaiting_confirmation",
        title=_("待复核的拨付"),
        permission="donations.confirm_allocation",
        count=_count(waiting.allocations_awaiting_confirmation),
        url=lambda: _changelist("allocation", status__exact="registered"),
        group=GOODS,
        order=30,
    )
)
register_todo(
    TodoLine(
        key="donations.movements_awaiting_second_keeper",
        title=_("待第二名保管员签字的出入库"),
        permission="donations.sign_stockmovement",
        count=_count(waiting.movements_awaiting_second_keeper),
        url=lambda: _changelist("stockmovement", status__exact="pending"),
        group=GOODS,
        order=40,
    )
)
register_todo(
    TodoLine(
        key="donations.allocations_awaiting_signoff",
        title=_("受赠单位尚未签收的拨付"),
        permission="donations.add_recipientconfirmation",
        count=_count(waiting.allocations_awaiting_signoff),
        url=lambda: reverse("admin:donations_recipientconfirmation_outstanding"),
        group=GOODS,
        order=50,
    )
)
register_todo(
    TodoLine(
        key="donations.bulletin_drafts",
        title=_("待发布的公示草稿"),
        permission="donations.publish_bulletin",
        count=_count(waiting.bulletin_drafts),
        url=lambda: _changelist("bulletin", status__exact="draft"),
        group=DISCLOSURE,
        order=60,
    )
)
register_todo(
    TodoLine(
        key="donations.disclosure_due",
        title=_("公开期限即将到期或已逾期的募捐活动"),
        permission="donations.view_bulletin",
        count=lambda *, branch_ids, user: waiting.campaigns_with_disclosure_due(branch_ids=branch_ids),
        url=lambda: reverse("admin:donations_bulletin_deadlines"),
        group=DISCLOSURE,
        order=70,
        urgent=True,
    )
)

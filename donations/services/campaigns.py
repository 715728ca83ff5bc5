"""Campaigns: regular giving per branch, special campaigns and their life cycle."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from donations.models import Campaign, CampaignKind, CampaignStatus
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.scoping import ensure_branch_access

# which status may follow which
_TRANSITIONS = {
    CampaignStatus.OPEN: {CampaignStatus.PAUSED, CampaignStatus.CLOSED, CampaignStatus.FOLDED},
    CampaignStatus.PAUSED: {CampaignStatus.OPEN, CampaignStatus.CLOSED, CampaignStatus.FOLDED},
    CampaignStatus.CLOSED: set(),
    CampaignStatus.FOLDED: set(),
}


def regular_campaign(branch: Branch) -> Campaign:
    """The branch's regular giving (日常捐赠), created on first use."""
    campaign = Campaign.objects.filter(branch=branch, kind=CampaignKind.REGULAR).first()
    if campaign is None:
        with transaction.atomic():
            Campaign.objects.bulk_create(
                [
                    Campaign(
                        branch=branch,
                        kind=CampaignKind.REGULAR,
                        name=_("%(branch)s日常捐赠") % {"branch": branch.name},
                        slug=f"regular-{branch.code.lower()}",
                    )
                ],
                ignore_conflicts=True,
            )
        campaign = Campaign.objects.get(branch=branch, kind=CampaignKind.REGULAR)
    return campaign


def campaign_for_new_donation(campaign: Campaign) -> Campaign:
    """Where a gift meant for ``campaign`` goes now: folded campaigns hand over to regular giving."""
    if campaign.status == CampaignStatus.FOLDED:
        return regular_campaign(campaign.branch)
    if campaign.status != CampaignStatus.OPEN:
        raise ValidationError(
            {"campaign": [_("募捐活动“%(name)s”%(status)s，不能接收新的捐赠") % {
                "name": campaign.name, "status": campaign.get_status_display()}]}
        )  # fmt: skip
    return campaign


@transaction.atomic
def campaign_set_status(*, campaign: Campaign, status: str, by) -> Campaign:
    ensure_branch_access(by, campaign.branch)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.kind == CampaignKind.REGULAR and status != CampaignStatus.OPEN:
        raise ValidationError({"status": [_("日常捐赠始终开放")]})
    if status not in _TRANSITIONS[CampaignStatus(campaign.status)]:
        raise ValidationError(
            {"status": [_("不能从“%(old)s”改为“%(new)s”") % {
                "old": campaign.get_status_display(), "new": CampaignStatus(status).label}]}
        )  # fmt: skip
    campaign.status = status
    with audit_context(user=by, reason="campaign_set_status"):
        campaign.save(update_fields=["status"])
    return campaign

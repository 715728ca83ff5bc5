"""Bulletins on schedule: the beat's drafts of what is due, and e-mail reminders of the Charity
Law's disclosure deadlines (``donations.selectors.disclosure``)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from donations.models import (
    Allocation,
    AllocationStatus,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Campaign,
    CampaignStatus,
    DisclosureReminder,
    Donation,
)
from donations.services.bulletins.compose import (
    bulletin_allocations,
    bulletin_donations,
    bulletin_draft,
    day_start,
    usage_lines,
)
from redcross.models import Branch

logger = logging.getLogger(__name__)

# --- drafting on schedule -------------------------------------------------------------------------


def regular_period(today: date) -> tuple[date, date] | None:
    """The period a non-emergency campaign's bulletins cover when drafted ``today``, or None.

    weekly: on Mondays, the previous Monday to Sunday; monthly: on the 1st, the previous month.
    """
    if getattr(settings, "BULLETIN_REGULAR_PERIOD", "weekly") == "monthly":
        if today.day != 1:
            return None
        end = today - timedelta(days=1)
        return end.replace(day=1), end
    if today.weekday() != 0:
        return None
    return today - timedelta(days=7), today - timedelta(days=1)


def _draft_once(*, branch: Branch, kind: str, campaign: Campaign, start: date, end: date) -> Bulletin | None:
    """The beat's draft: nothing if this period is drafted already; starts after the last published one."""
    last_end = (
        Bulletin.objects.filter(
            branch=branch, kind=kind, campaign=campaign, status=BulletinStatus.PUBLISHED, period_end__gte=start
        )
        .order_by("-period_end")
        .values_list("period_end", flat=True)
        .first()
    )
    if last_end is not None:
        start = last_end + timedelta(days=1)
    if start > end:
        return None
    if Bulletin.objects.filter(
        branch=branch, kind=kind, campaign=campaign, period_start=start, period_end=end
    ).exists():
        return None
    try:
        return bulletin_draft(branch=branch, kind=kind, campaign=campaign, period_start=start, period_end=end)
    except ValidationError:  # raced with a person or another beat run
        return None


def _usage_to_announce(*, branch: Branch, start: date, end: date, campaign: Campaign) -> bool:
    """Allocations confirmed in the period, or what a registered app adds to a usage announcement
    (a relief project's disbursements paid for by the campaign's allocations of earlier periods)."""
    if bulletin_allocations(branch=branch, start=start, end=end, campaign=campaign).exists():
        return True
    probe = Bulletin(branch=branch, kind=BulletinKind.USAGE, campaign=campaign, period_start=start, period_end=end)
    return bool(usage_lines(probe))


def bulletins_draft_due(*, today: date | None = None) -> list[Bulletin]:
    """Drafts what is due ``today`` for every campaign still running (open or paused).

    Emergency campaigns: a receipt bulletin for yesterday every day, and a usage announcement for
    yesterday when allocations were confirmed or aid paid for by the campaign was given (a registered
    app's usage lines). Other campaigns: weekly or monthly
    (``BULLETIN_REGULAR_PERIOD``), each kind only when there is something to list. The campaign's
    branch drafts; another branch that took gifts or made allocations for it drafts its own.
    Running it twice drafts nothing more.
    """
    today = today or timezone.localdate()
    drafted: list[Bulletin] = []
    campaigns = Campaign.objects.filter(status__in=[CampaignStatus.OPEN, CampaignStatus.PAUSED]).select_related(
        "branch"
    )
    for campaign in campaigns.order_by("id"):
        if campaign.is_emergency:
            period = (today - timedelta(days=1), today - timedelta(days=1))
        else:
            period = regular_period(today)
        if period is None:
            continue
        start, end = period
        if campaign.starts_on:
            start = max(start, campaign.starts_on)
        if campaign.ends_on:
            end = min(end, campaign.ends_on)
        if start > end:
            continue
        window = {"received_at__gte": day_start(start), "received_at__lt": day_start(end + timedelta(days=1))}
        others = set(
            Donation.objects.public().filter(campaign=campaign, **window).values_list("branch", flat=True).distinct()
        ) | set(
            Allocation.objects.filter(
                campaign=campaign, status=AllocationStatus.CONFIRMED, allocated_on__gte=start, allocated_on__lte=end
            )
            .values_list("branch", flat=True)
            .distinct()
        )
        others.discard(campaign.branch_id)
        branches = [campaign.branch, *Branch.objects.filter(pk__in=others).order_by("path")]
        for branch in branches:
            scope = {"branch": branch, "start": start, "end": end, "campaign": campaign}
            always = campaign.is_emergency and branch.pk == campaign.branch_id
            if always or bulletin_donations(**scope).exists():
                made = _draft_once(kind=BulletinKind.RECEIPT, **scope)
                if made is not None:
                    drafted.append(made)
            if _usage_to_announce(**scope):
                made = _draft_once(kind=BulletinKind.USAGE, **scope)
                if made is not None:
                    drafted.append(made)
    if drafted:
        logger.info("bulletins drafted: %d", len(drafted))
    return drafted


# --- deadline reminders ---------------------------------------------------------------------------


def _reminder_recipients(branch_id: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    permissions = Permission.objects.filter(
        content_type__app_label="donations", codename__in=["publish_bulletin", "add_bulletin"]
    )
    users = get_user_model().objects.filter(is_active=True, is_staff=True, branch_id=branch_id).exclude(email="")
    return users.filter(
        Q(is_superuser=True) | Q(groups__permissions__in=permissions) | Q(user_permissions__in=permissions)
    ).distinct()


def disclosure_reminders_send(*, today: date | None = None) -> int:
    """E-mail each branch's staff who draft or publish bulletins the campaigns due or overdue.

    Once a day per branch (``DisclosureReminder``): running it again sends nothing more.
    Returns the number of e-mails sent. Logs counts only, never addresses.
    """
    from django.core.mail import send_mail

    from donations.selectors.disclosure import DeadlineStatus, campaign_deadlines

    today = today or timezone.localdate()
    pending = [d for d in campaign_deadlines(today=today) if d.status in (DeadlineStatus.DUE, DeadlineStatus.OVERDUE)]
    by_branch: dict[int, list] = {}
    for deadline in pending:
        by_branch.setdefault(deadline.campaign.branch_id, []).append(deadline)
    sent = 0
    for branch_id, deadlines in by_branch.items():
        with transaction.atomic():
            reminder, created = DisclosureReminder.objects.get_or_create(
                branch_id=branch_id, sent_on=today, defaults={"campaigns": [d.campaign.pk for d in deadlines]}
            )
            if not created:
                continue
            recipients = list(_reminder_recipients(branch_id).values_list("email", flat=True))
            reminder.recipients = len(recipients)
            reminder.save(update_fields=["recipients"])
            if not recipients:
                continue
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("信息公开期限提醒：%(n)d 个募捐活动需要发布公示") % {"n": len(deadlines)}
                lines = [_("以下募捐活动的信息公开即将到期或已经逾期（慈善法）："), ""]
                for deadline in deadlines:
                    lines.append(
                        _("%(campaign)s：%(status)s，应于 %(due)s 前公开；最近一次公开：%(last)s")
                        % {
                            "campaign": deadline.campaign.name,
                            "status": deadline.status_label,
                            "due": deadline.next_due.isoformat() if deadline.next_due else "—",
                            "last": deadline.last_published.isoformat() if deadline.last_published else _("尚未公开"),
                        }
                    )
                    for obligation in deadline.open_obligations:
                        lines.append(f"  - {obligation.label}")
                lines += ["", _("请登录管理系统，在“公示”中审核并发布草稿。")]
                admin_url = settings.PUBLIC_BASE_URL + reverse("admin:donations_bulletin_deadlines")
                lines.append(admin_url)
            for address in recipients:  # one message each: staff do not see each other's addresses
                sent += send_mail(subject, "\n".join(lines), None, [address], fail_silently=True)
    logger.info("disclosure reminders: %d campaigns due or overdue, %d e-mails sent", len(pending), sent)
    return sent

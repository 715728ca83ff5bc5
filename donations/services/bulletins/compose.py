"""Composing bulletins (公示): what a bulletin lists, its canonical content and hash, drafts.

A draft holds a preview of its rows; publication (``donations.services.bulletins.publish``)
recomputes them from the ledgers, public fields only:

- a receipt bulletin (接收公示) lists the confirmed donations of the branch (and campaign) received
  in the period, as the honor roll shows them (``donations.selectors.honor_roll.honor_roll_rows``:
  organisations in full, persons masked unless they consented, anonymous donors as 爱心人士);
- a usage announcement (使用公告) lists the confirmed allocations of the branch (and campaign) made
  (``allocated_on``) in the period: serial, date, recipient unit, what was sent, plan document.

A usage announcement also carries what registered apps add (``register_usage_lines``): a relief
project's disbursements in the period as counts and totals per project, never a person. The
donations app imports none of those apps; their tables go into ``content["usage_lines"]`` (hashed
with the rest, only when there is something to list) and each app records on publication what it
counted.

Rows confirmed late (received or allocated before the period, within
``BULLETIN_LATE_LOOKBACK_DAYS``, default 92, and never listed in a published bulletin of the
branch) are listed too, marked ``late`` (补充公示), so a gift confirmed after its day's bulletin was
published still gets published once.

``content_hash`` = SHA-256 of the UTF-8 bytes of the canonical JSON of ``content``
(``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))``), and ``content`` holds
everything published: number, kind, branch code, period, title, published_at, errata,
previous_hash, rows and totals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from donations.models import (
    Allocation,
    AllocationStatus,
    Bulletin,
    BulletinAllocation,
    BulletinDonation,
    BulletinKind,
    BulletinStatus,
    Campaign,
    Donation,
    DonationKind,
)
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.scoping import ensure_branch_access
from redcross.validators import clean_text

CONTENT_FORMAT = 1
ZERO = Decimal("0.00")
_CHUNK = 2000


# --- canonical form and hashes --------------------------------------------------------------------


def canonical_json(content: dict[str, Any]) -> str:
    """The one serialisation that is hashed, served as content.json and printed nowhere else."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(ZERO)}"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.get_default_timezone())


def local_iso_time(moment: datetime) -> str:
    return timezone.localtime(moment, timezone.get_default_timezone()).isoformat()


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_label(start: date, end: date) -> str:
    return _cn_date(start) if start == end else f"{_cn_date(start)}至{_cn_date(end)}"


def lookback_days() -> int:
    """How far back a row confirmed late is still published (补充公示), in days."""
    return int(getattr(settings, "BULLETIN_LATE_LOOKBACK_DAYS", 92))


def _batched(values: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- what a bulletin lists ------------------------------------------------------------------------


def bulletin_donations(*, branch: Branch | int, start: date, end: date, campaign: Campaign | int | None = None):
    """Confirmed donations a receipt bulletin of this scope and period lists (in the period, or late)."""
    branch_id = branch.pk if isinstance(branch, Branch) else branch
    donations = Donation.objects.public().filter(branch_id=branch_id)
    if campaign is not None:
        donations = donations.filter(campaign=campaign)
    listed = BulletinDonation.objects.filter(
        donation=OuterRef("pk"), bulletin__branch_id=branch_id, bulletin__status=BulletinStatus.PUBLISHED
    )
    return donations.filter(
        Q(received_at__gte=day_start(start), received_at__lt=day_start(end + timedelta(days=1)))
        | (
            Q(received_at__gte=day_start(start - timedelta(days=lookback_days())), received_at__lt=day_start(start))
            & ~Exists(listed)
        )
    )


def bulletin_allocations(*, branch: Branch | int, start: date, end: date, campaign: Campaign | int | None = None):
    """Confirmed allocations a usage announcement of this scope and period lists (in the period, or late)."""
    branch_id = branch.pk if isinstance(branch, Branch) else branch
    allocations = Allocation.objects.filter(branch_id=branch_id, status=AllocationStatus.CONFIRMED)
    if campaign is not None:
        allocations = allocations.filter(campaign=campaign)
    listed = BulletinAllocation.objects.filter(
        allocation=OuterRef("pk"), bulletin__branch_id=branch_id, bulletin__status=BulletinStatus.PUBLISHED
    )
    return allocations.filter(
        Q(allocated_on__gte=start, allocated_on__lte=end)
        | (Q(allocated_on__gte=start - timedelta(days=lookback_days()), allocated_on__lt=start) & ~Exists(listed))
    )


def _receipt_rows(donations: QuerySet[Donation], start: date) -> tuple[list[dict], dict, list[int]]:
    from donations.selectors.honor_roll import honor_roll_rows

    ids = list(donations.order_by("received_at", "id").values_list("pk", flat=True))
    first_day = day_start(start)
    rows: list[dict] = []
    cash = refunded = goods = ZERO
    cash_count = goods_count = unvalued = 0
    for chunk in _batched(ids, _CHUNK):
        refunds = dict(
            Donation.objects.filter(pk__in=chunk, refunded_amount__gt=0).values_list("pk", "refunded_amount")
        )
        for row in honor_roll_rows(Donation.objects.filter(pk__in=chunk).order_by("received_at", "id")):
            refund = refunds.get(row.pk)
            if row.kind == DonationKind.CASH:
                cash_count += 1
                cash += row.amount or ZERO
                refunded += refund or ZERO
            else:
                goods_count += 1
                if row.goods_value is None:
                    unvalued += 1
                else:
                    goods += row.goods_value
            rows.append(
                {
                    "serial": row.serial,
                    "date": timezone.localtime(row.received_at).date().isoformat(),
                    "donor": row.donor_name,
                    "kind": row.kind,
                    "kind_label": row.kind_label,
                    "amount": _money(row.amount),
                    "refunded": _money(refund) if refund else None,
                    "goods": row.goods_summary,
                    "goods_value": _money(row.goods_value),
                    "campaign": row.campaign,
                    "channel": row.channel_category,
                    "directed_to": row.designated_recipient,
                    "retroactive": row.is_retroactive,
                    "late": row.received_at < first_day,
                }
            )
    totals = {
        "count": len(rows),
        "cash_count": cash_count,
        "goods_count": goods_count,
        "cash": _money(cash),
        "refunded": _money(refunded),
        "cash_net": _money(cash - refunded),
        "goods_value": _money(goods),
        "goods_unvalued": unvalued,
        "total": _money(cash - refunded + goods),
    }
    return rows, totals, ids


def _usage_rows(allocations: QuerySet[Allocation], start: date) -> tuple[list[dict], dict, list[int]]:
    ids = list(allocations.order_by("allocated_on", "id").values_list("pk", flat=True))
    rows: list[dict] = []
    cash = goods = ZERO
    recipients: set[int] = set()
    for chunk in _batched(ids, _CHUNK):
        page = (
            Allocation.objects.filter(pk__in=chunk)
            .select_related("recipient", "campaign", "plan_line__plan")
            .prefetch_related("sources__item")
            .order_by("allocated_on", "id")
        )
        for allocation in page:
            recipients.add(allocation.recipient_id)
            summary, value, unvalued = "", None, False
            if allocation.kind == DonationKind.CASH:
                cash += allocation.amount or ZERO
            else:
                lines: dict[tuple[str, str], Decimal] = {}
                for source in allocation.sources.all():
                    if source.item_id is None:
                        continue
                    key = (source.item.name, source.item.unit)
                    lines[key] = lines.get(key, Decimal("0")) + source.quantity
                    source_value = source.value
                    if source_value is None:
                        unvalued = True
                    else:
                        value = (value or ZERO) + source_value
                summary = "、".join(f"{name}{quantity.normalize():f}{unit}" for (name, unit), quantity in lines.items())
                goods += value or ZERO
            plan_line = allocation.plan_line
            rows.append(
                {
                    "serial": allocation.serial,
                    "date": allocation.allocated_on.isoformat(),
                    "recipient": allocation.recipient.name,
                    "recipient_kind": allocation.recipient.get_kind_display(),
                    "kind": allocation.kind,
                    "kind_label": allocation.get_kind_display(),
                    "amount": _money(allocation.amount) if allocation.kind == DonationKind.CASH else None,
                    "goods": summary,
                    "goods_value": _money(value),
                    "goods_unvalued": unvalued,
                    "campaign": allocation.campaign.name,
                    "basis": allocation.get_basis_display(),
                    "directed": allocation.basis == "donor_wish",
                    "plan_document_number": plan_line.plan.document_number if plan_line else "",
                    "retroactive": allocation.is_retroactive,
                    "late": allocation.allocated_on < start,
                }
            )
    totals = {
        "count": len(rows),
        "recipients": len(recipients),
        "cash": _money(cash),
        "goods_value": _money(goods),
        "total": _money(cash + goods),
    }
    return rows, totals, ids


# --- what other apps add to a usage announcement ------------------------------------------------


@dataclass(frozen=True)
class UsageLines:
    """A registered app's table in a usage announcement: counts and totals, never a person.

    ``columns`` are (key, header, type) with type ``text``, ``int`` or ``money``; each row holds
    those keys (money as a string with two places, as the rest of the content) and may hold a
    public ``url``, which the first column links to; ``ids`` is what the table counted, handed
    back to the app's recorder when the announcement is published.
    """

    title: str
    columns: list[tuple[str, str, str]]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    ids: list[int] = field(default_factory=list)
    note: str = ""

    def content(self, key: str) -> dict[str, Any]:
        return {
            "key": key,
            "title": self.title,
            "note": self.note,
            "columns": [{"key": k, "header": header, "type": kind} for k, header, kind in self.columns],
            "rows": self.rows,
            "totals": self.totals,
        }


UsageLinesProvider = Callable[[Bulletin], "UsageLines | None"]
UsageRecorder = Callable[[Bulletin, list[int]], None]
_USAGE_PROVIDERS: dict[str, tuple[UsageLinesProvider, UsageRecorder]] = {}


def register_usage_lines(key: str, provider: UsageLinesProvider, record: UsageRecorder) -> None:
    """Add (or, under the same key, replace) what an app adds to usage announcements. Called from
    the app's ``ready()``: ``provider(bulletin)`` returns its table for the bulletin's branch,
    campaign and period (None or no rows: nothing), ``record(bulletin, ids)`` runs in the
    publishing transaction."""
    _USAGE_PROVIDERS[key] = (provider, record)


def usage_lines(bulletin: Bulletin) -> dict[str, UsageLines]:
    """Every registered app's table for this usage announcement (none for a receipt bulletin)."""
    if bulletin.kind != BulletinKind.USAGE:
        return {}
    found: dict[str, UsageLines] = {}
    with translation.override(settings.LANGUAGE_CODE):  # the published text is Chinese, whoever publishes
        for key, (provider, _record) in sorted(_USAGE_PROVIDERS.items()):
            lines = provider(bulletin)
            if lines is not None and lines.rows:
                found[key] = lines
    return found


def usage_lines_record(bulletin: Bulletin, found: dict[str, UsageLines]) -> None:
    for key, lines in found.items():
        _provider, record = _USAGE_PROVIDERS[key]
        record(bulletin, lines.ids)


def bulletin_rows(bulletin: Bulletin) -> tuple[list[dict], dict, list[int]]:
    scope = {
        "branch": bulletin.branch_id,
        "start": bulletin.period_start,
        "end": bulletin.period_end,
        "campaign": bulletin.campaign_id,
    }
    with translation.override(settings.LANGUAGE_CODE):  # the published text is Chinese, whoever publishes
        if bulletin.kind == BulletinKind.RECEIPT:
            return _receipt_rows(bulletin_donations(**scope), bulletin.period_start)
        return _usage_rows(bulletin_allocations(**scope), bulletin.period_start)


def bulletin_content(
    bulletin: Bulletin, rows: list[dict], totals: dict, extra: dict[str, UsageLines] | None = None
) -> dict[str, Any]:
    branch = bulletin.branch
    campaign = bulletin.campaign
    with translation.override(settings.LANGUAGE_CODE):
        kind_label = str(BulletinKind(bulletin.kind).label)
    return {
        "format": CONTENT_FORMAT,
        "branch": {"code": branch.code, "name": branch.name},
        "kind": bulletin.kind,
        "kind_label": kind_label,
        "number": bulletin.number,
        "title": bulletin.title,
        "campaign": {"slug": campaign.slug, "name": campaign.name} if campaign else None,
        "period": {"start": bulletin.period_start.isoformat(), "end": bulletin.period_end.isoformat()},
        "published_at": local_iso_time(bulletin.published_at) if bulletin.published_at else None,
        "errata": bulletin.errata,
        "previous_hash": bulletin.previous_hash or None,
        "rows": rows,
        "totals": totals,
        # only when an app adds something: the content (and hash) of other bulletins stay as they were
        **({"usage_lines": [lines.content(key) for key, lines in extra.items()]} if extra else {}),
    }


# --- drafting and editing ------------------------------------------------------------------------


def _default_title(branch: Branch, kind: str, campaign: Campaign | None, start: date, end: date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        kind_label = str(BulletinKind(kind).label)
    scope = campaign.name if campaign else branch.name
    return f"{scope}{kind_label}（{period_label(start, end)}）"[:200]


def published_overlap(*, branch_id: int, kind: str, campaign_id: int | None, start: date, end: date, exclude=None):
    """A published bulletin of the same branch, kind and scope whose period overlaps this one."""
    overlapping = Bulletin.objects.filter(
        branch_id=branch_id,
        kind=kind,
        campaign_id=campaign_id,
        status=BulletinStatus.PUBLISHED,
        period_start__lte=end,
        period_end__gte=start,
    )
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude)
    return overlapping.only("pk", "kind", "number").first()


@transaction.atomic
def bulletin_draft(
    *,
    branch: Branch,
    kind: str,
    period_start: date,
    period_end: date,
    campaign: Campaign | None = None,
    by=None,
    title: str = "",
    errata: str = "",
) -> Bulletin:
    """A draft for staff to review, with a preview of its rows (recomputed at publication).

    ``by`` is None when the beat drafts. One bulletin per branch, kind, campaign (or the whole
    branch) and period; a period already covered by a published bulletin of the same scope is refused.
    """
    if by is not None:
        ensure_branch_access(by, branch)
        if not (by.has_perm("donations.add_bulletin") or by.has_perm("donations.publish_bulletin")):
            raise PermissionDenied(_("您没有起草公示的权限"))
    if kind not in BulletinKind.values:
        raise ValidationError({"kind": [_("类型只能是接收公示或使用公告")]})
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise ValidationError({"period_start": [_("请填写公示期间")]})
    if period_end < period_start:
        raise ValidationError({"period_end": [_("截止日期不能早于起始日期")]})
    if period_end > timezone.localdate():
        raise ValidationError({"period_end": [_("截止日期不能晚于今天")]})
    campaign_id = campaign.pk if campaign is not None else None
    same = Bulletin.objects.filter(
        branch=branch, kind=kind, campaign_id=campaign_id, period_start=period_start, period_end=period_end
    )
    if same.exists():
        raise ValidationError({"period_start": [_("这一期间的公示已经存在")]})
    overlap = published_overlap(
        branch_id=branch.pk, kind=kind, campaign_id=campaign_id, start=period_start, end=period_end
    )
    if overlap is not None:
        raise ValidationError({"period_start": [_("期间与已发布的%(label)s重叠") % {"label": overlap.number_label}]})
    bulletin = Bulletin(
        branch=branch,
        kind=kind,
        campaign=campaign,
        period_start=period_start,
        period_end=period_end,
        title=clean_text(title, "title", 200, multiline=False)
        or _default_title(branch, kind, campaign, period_start, period_end),
        errata=clean_text(errata, "errata", 10000),
        drafted_by=by,
    )
    rows, totals, _ids = bulletin_rows(bulletin)
    bulletin.content = bulletin_content(bulletin, rows, totals, usage_lines(bulletin))
    try:
        with transaction.atomic(), audit_context(user=by, reason="bulletin_draft"):
            bulletin.save()
    except IntegrityError:  # drafted by someone else (or the beat) a moment ago
        raise ValidationError({"period_start": [_("这一期间的公示已经存在")]}) from None
    return bulletin


@transaction.atomic
def bulletin_edit_draft(*, bulletin: Bulletin, by, title: str | None = None, errata: str | None = None) -> Bulletin:
    """Staff review: a draft's title and errata are the only things a person writes."""
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    ensure_branch_access(by, bulletin.branch_id)
    if not (by.has_perm("donations.change_bulletin") or by.has_perm("donations.publish_bulletin")):
        raise PermissionDenied(_("您没有修改公示的权限"))
    if bulletin.status != BulletinStatus.DRAFT:
        raise ValidationError({"status": [_("已发布的公示不能修改；更正请在以后的公示中发布勘误")]})
    changed = []
    if title is not None:
        bulletin.title = clean_text(title, "title", 200, required=True, multiline=False)
        changed.append("title")
    if errata is not None:
        bulletin.errata = clean_text(errata, "errata", 10000)
        changed.append("errata")
    if changed:
        bulletin.content = {**bulletin.content, "title": bulletin.title, "errata": bulletin.errata}
        with audit_context(user=by, reason="bulletin_edit_draft"):
            bulletin.save(update_fields=[*changed, "content"])
    return bulletin

"""Bulletins (公示): draft, edit a draft, publish, verify the hash chain, render the PDF, draft on
schedule, and remind staff of the Charity Law's disclosure deadlines.

Publication (``bulletin_publish``) recomputes the rows from the ledgers, public fields only:

- a receipt bulletin (接收公示) lists the confirmed donations of the branch (and campaign) received
  in the period, as the honor roll shows them (``donations.selectors.honor_roll.honor_roll_rows``:
  organisations in full, persons masked unless they consented, anonymous donors as 爱心人士);
- a usage announcement (使用公告) lists the confirmed allocations of the branch (and campaign) made
  (``allocated_on``) in the period: serial, date, recipient unit, what was sent, plan document.

Rows confirmed late (received or allocated before the period, within
``BULLETIN_LATE_LOOKBACK_DAYS``, default 92, and never listed in a published bulletin of the
branch) are listed too, marked ``late`` (补充公示), so a gift confirmed after its day's bulletin was
published still gets published once.

The chain: every published bulletin of a branch, both kinds, takes the next ``chain_position``
from the locked sequence ``bulletin-chain:<branch id>`` (which serialises the branch's
publications) and carries ``previous_hash`` = the ``content_hash`` of the one before it (64 zeros
for the first). ``content_hash`` = SHA-256 of the UTF-8 bytes of the canonical JSON of ``content``
(``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))``), and ``content`` holds
everything published: number, kind, branch code, period, title, published_at, errata,
previous_hash, rows and totals. Numbers (第N期) come from ``bulletin:<branch id>:<kind>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from donations.models import (
    GENESIS_HASH,
    Allocation,
    AllocationStatus,
    Bulletin,
    BulletinAllocation,
    BulletinDonation,
    BulletinKind,
    BulletinStatus,
    Campaign,
    CampaignStatus,
    DisclosureReminder,
    Donation,
    DonationKind,
    PdfStatus,
)
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.numbering import sequence_current, sequence_next
from redcross.scoping import ensure_branch_access

logger = logging.getLogger(__name__)

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


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.get_default_timezone())


def _iso_time(moment: datetime) -> str:
    return timezone.localtime(moment, timezone.get_default_timezone()).isoformat()


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_label(start: date, end: date) -> str:
    return _cn_date(start) if start == end else f"{_cn_date(start)}至{_cn_date(end)}"


def _lookback_days() -> int:
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
        Q(received_at__gte=_day_start(start), received_at__lt=_day_start(end + timedelta(days=1)))
        | (
            Q(received_at__gte=_day_start(start - timedelta(days=_lookback_days())), received_at__lt=_day_start(start))
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
        | (Q(allocated_on__gte=start - timedelta(days=_lookback_days()), allocated_on__lt=start) & ~Exists(listed))
    )


def _receipt_rows(donations: QuerySet[Donation], start: date) -> tuple[list[dict], dict, list[int]]:
    from donations.selectors.honor_roll import honor_roll_rows

    ids = list(donations.order_by("received_at", "id").values_list("pk", flat=True))
    first_day = _day_start(start)
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


def _compute_rows(bulletin: Bulletin) -> tuple[list[dict], dict, list[int]]:
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


def _content(bulletin: Bulletin, rows: list[dict], totals: dict) -> dict[str, Any]:
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
        "published_at": _iso_time(bulletin.published_at) if bulletin.published_at else None,
        "errata": bulletin.errata,
        "previous_hash": bulletin.previous_hash or None,
        "rows": rows,
        "totals": totals,
    }


# --- drafting, editing, publishing ----------------------------------------------------------------


def _default_title(branch: Branch, kind: str, campaign: Campaign | None, start: date, end: date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        kind_label = str(BulletinKind(kind).label)
    scope = campaign.name if campaign else branch.name
    return f"{scope}{kind_label}（{period_label(start, end)}）"[:200]


def _check_text(value: str, field_name: str, max_length: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field_name: [_("此项必填")]})
    if len(text) > max_length:
        raise ValidationError({field_name: [_("最多 %(n)d 个字") % {"n": max_length}]})
    return text


def _published_overlap(*, branch_id: int, kind: str, campaign_id: int | None, start: date, end: date, exclude=None):
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
    overlap = _published_overlap(
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
        title=_check_text(title, "title", 200) or _default_title(branch, kind, campaign, period_start, period_end),
        errata=_check_text(errata, "errata", 10000),
        drafted_by=by,
    )
    rows, totals, _ids = _compute_rows(bulletin)
    bulletin.content = _content(bulletin, rows, totals)
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
        bulletin.title = _check_text(title, "title", 200, required=True)
        changed.append("title")
    if errata is not None:
        bulletin.errata = _check_text(errata, "errata", 10000)
        changed.append("errata")
    if changed:
        bulletin.content = {**bulletin.content, "title": bulletin.title, "errata": bulletin.errata}
        with audit_context(user=by, reason="bulletin_edit_draft"):
            bulletin.save(update_fields=[*changed, "content"])
    return bulletin


@transaction.atomic
def bulletin_publish(*, bulletin: Bulletin, by) -> Bulletin:
    """Publish a draft: recompute its rows, take 第N期 and its place in the branch's chain, hash it.

    The chain sequence row stays locked until this transaction ends, so the branch's publications
    run one after another and each sees the one before it; a failure gives both numbers back.
    """
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    ensure_branch_access(by, bulletin.branch_id)
    if not by.has_perm("donations.publish_bulletin"):
        raise PermissionDenied(_("您没有发布公示的权限"))
    if bulletin.status != BulletinStatus.DRAFT:
        raise ValidationError({"status": [_("%(label)s 已经发布") % {"label": bulletin.number_label}]})
    branch = Branch.objects.get(pk=bulletin.branch_id)
    position = sequence_next(scope=f"bulletin-chain:{branch.pk}")  # serialises the branch's publications
    overlap = _published_overlap(
        branch_id=branch.pk,
        kind=bulletin.kind,
        campaign_id=bulletin.campaign_id,
        start=bulletin.period_start,
        end=bulletin.period_end,
        exclude=bulletin.pk,
    )
    if overlap is not None:
        raise ValidationError({"period_start": [_("期间与已发布的%(label)s重叠") % {"label": overlap.number_label}]})
    number = sequence_next(scope=f"bulletin:{branch.pk}:{bulletin.kind}")
    if position == 1:
        previous_hash = GENESIS_HASH
    else:
        previous_hash = (
            Bulletin.objects.filter(branch=branch, status=BulletinStatus.PUBLISHED, chain_position=position - 1)
            .values_list("content_hash", flat=True)
            .first()
        )
        if not previous_hash:
            raise ValidationError(
                {"status": [_("公示链缺少第 %(n)d 个环节，请先运行 verify_bulletins 核查") % {"n": position - 1}]}
            )
    bulletin.branch = branch
    bulletin.number = number
    bulletin.chain_position = position
    bulletin.previous_hash = previous_hash
    bulletin.published_at = timezone.now().replace(microsecond=0)
    bulletin.published_by = by
    bulletin.status = BulletinStatus.PUBLISHED
    bulletin.pdf_status = PdfStatus.PENDING
    rows, totals, ids = _compute_rows(bulletin)
    bulletin.content = _content(bulletin, rows, totals)
    bulletin.content_hash = content_sha256(bulletin.content)
    with audit_context(user=by, reason="bulletin_publish"):
        bulletin.save()
    if bulletin.kind == BulletinKind.RECEIPT:
        BulletinDonation.objects.bulk_create(
            (BulletinDonation(bulletin=bulletin, donation_id=pk) for pk in ids), batch_size=5000
        )
    else:
        BulletinAllocation.objects.bulk_create(
            (BulletinAllocation(bulletin=bulletin, allocation_id=pk) for pk in ids), batch_size=5000
        )
    from donations.tasks import bulletin_render_pdf_task

    bulletin_render_pdf_task.delay_on_commit(bulletin.pk)
    return bulletin


# --- verifying the chain --------------------------------------------------------------------------


@dataclass(frozen=True)
class BulletinCheck:
    """One link of a chain as checked: ``reason`` is empty when it holds."""

    pk: int | None
    kind: str
    number: int | None
    chain_position: int | None
    content_hash: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason

    @property
    def label(self) -> str:
        if self.number is None:
            return str(BulletinKind(self.kind).label) if self.kind else _("公示链")
        return _("%(kind)s第%(number)d期") % {"kind": BulletinKind(self.kind).label, "number": self.number}


@dataclass
class ChainResult:
    branch_code: str
    branch_name: str
    checks: list[BulletinCheck] = field(default_factory=list)

    @property
    def broken(self) -> BulletinCheck | None:
        return next((check for check in self.checks if not check.ok), None)

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def count(self) -> int:
        return sum(1 for check in self.checks if check.pk is not None)


@dataclass
class ChainVerification:
    chains: list[ChainResult]
    checked_at: datetime

    @property
    def ok(self) -> bool:
        return all(chain.ok for chain in self.chains)

    @property
    def broken(self) -> BulletinCheck | None:
        return next((chain.broken for chain in self.chains if not chain.ok), None)


def _row_matches_content(bulletin: Bulletin) -> str:
    """The published columns must say what the hashed content says; returns the differing field."""
    content = bulletin.content if isinstance(bulletin.content, dict) else {}
    expected = {
        "number": bulletin.number,
        "kind": bulletin.kind,
        "title": bulletin.title,
        "errata": bulletin.errata,
        "previous_hash": bulletin.previous_hash,
        "published_at": _iso_time(bulletin.published_at) if bulletin.published_at else None,
    }
    for key, value in expected.items():
        if content.get(key) != value:
            return key
    period = content.get("period") or {}
    if period.get("start") != bulletin.period_start.isoformat() or period.get("end") != bulletin.period_end.isoformat():
        return "period"
    return ""


def _check_chain(branch: Branch) -> ChainResult:
    result = ChainResult(branch_code=branch.code, branch_name=branch.name)
    expected_position = 1
    previous_hash = GENESIS_HASH
    last_number = dict.fromkeys(BulletinKind.values, 0)
    published = (
        Bulletin.objects.filter(branch=branch, status=BulletinStatus.PUBLISHED)
        .order_by("chain_position", "id")
        .only(
            "pk",
            "kind",
            "number",
            "chain_position",
            "title",
            "errata",
            "period_start",
            "period_end",
            "published_at",
            "content",
            "content_hash",
            "previous_hash",
        )
    )
    for bulletin in published.iterator(chunk_size=20):
        reason = ""
        recomputed = content_sha256(bulletin.content) if isinstance(bulletin.content, dict) else ""
        label = f"{BulletinKind(bulletin.kind).label}"
        if bulletin.chain_position != expected_position:
            reason = _("链上序号不连续：应为第 %(expected)d 个，实为第 %(found)s 个") % {
                "expected": expected_position,
                "found": bulletin.chain_position,
            }
        elif bulletin.number != last_number[bulletin.kind] + 1:
            reason = _("期号不连续：%(label)s第%(expected)d期之后是第%(found)s期") % {
                "label": label,
                "expected": last_number[bulletin.kind],
                "found": bulletin.number,
            }
        elif recomputed != bulletin.content_hash:
            reason = _("内容与本期哈希不符：重新计算的哈希为 %(hash)s，内容或哈希已被改动") % {"hash": recomputed}
        elif bulletin.previous_hash != previous_hash:
            reason = _("上一期哈希不符：应为 %(expected)s，实为 %(found)s") % {
                "expected": previous_hash,
                "found": bulletin.previous_hash or "—",
            }
        elif differing := _row_matches_content(bulletin):
            reason = _("记录与已发布内容不一致：%(field)s") % {"field": differing}
        result.checks.append(
            BulletinCheck(
                pk=bulletin.pk,
                kind=bulletin.kind,
                number=bulletin.number,
                chain_position=bulletin.chain_position,
                content_hash=bulletin.content_hash,
                reason=reason,
            )
        )
        expected_position = (bulletin.chain_position or expected_position) + 1
        last_number[bulletin.kind] = bulletin.number or last_number[bulletin.kind]
        previous_hash = bulletin.content_hash
    # a bulletin removed from the end of the chain leaves its numbers taken in the sequences
    missing = ""
    taken = sequence_current(scope=f"bulletin-chain:{branch.pk}")
    if taken >= expected_position:
        missing = _("公示链应有 %(taken)d 个环节，只找到 %(found)d 个") % {
            "taken": taken,
            "found": expected_position - 1,
        }
    for kind in BulletinKind.values:
        taken_numbers = sequence_current(scope=f"bulletin:{branch.pk}:{kind}")
        if not missing and taken_numbers > last_number[kind]:
            missing = _("%(label)s已发布到第%(taken)d期，只找到第%(found)d期") % {
                "label": BulletinKind(kind).label,
                "taken": taken_numbers,
                "found": last_number[kind],
            }
    if missing:
        result.checks.append(
            BulletinCheck(pk=None, kind="", number=None, chain_position=None, content_hash="", reason=missing)
        )
    return result


def bulletin_verify_chain(*, branch: Branch | None = None) -> ChainVerification:
    """Recompute every published bulletin's hash and every link; one chain per branch."""
    if branch is not None:
        branches = [branch]
    else:
        with_bulletins = Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).values("branch")
        branches = list(Branch.objects.filter(pk__in=with_bulletins).order_by("path"))
    return ChainVerification(chains=[_check_chain(b) for b in branches], checked_at=timezone.now())


# --- PDF ------------------------------------------------------------------------------------------


def bulletin_public_path(bulletin: Bulletin, name: str = "disclosure:bulletin") -> str:
    return reverse(name, kwargs={"code": bulletin.branch.code, "kind": bulletin.kind, "number": bulletin.number})


def bulletin_pdf_bytes(bulletin: Bulletin) -> bytes:
    """The bulletin's PDF from its published content; stores nothing."""
    from redcross.pdf import qr_code_data_uri, render_pdf

    detail_url = settings.PUBLIC_BASE_URL + bulletin_public_path(bulletin)
    verify_url = settings.PUBLIC_BASE_URL + reverse("disclosure:bulletin_verify")
    content = bulletin.content
    rows = content.get("rows", [])
    # a surge day of 100k gifts would be thousands of pages: beyond the limit the PDF carries the
    # totals and both hashes, and the rows are on the page and in content.json (which the hash covers)
    limit = int(getattr(settings, "BULLETIN_PDF_MAX_ROWS", 5000))
    with translation.override(settings.LANGUAGE_CODE):
        return render_pdf(
            "pdf/bulletin.html",
            {
                "bulletin": bulletin,
                "content": content,
                "rows": rows if len(rows) <= limit else [],
                "rows_omitted": len(rows) if len(rows) > limit else 0,
                "totals": content.get("totals", {}),
                "branch_name": content.get("branch", {}).get("name", ""),
                "detail_url": detail_url,
                "json_url": settings.PUBLIC_BASE_URL + bulletin_public_path(bulletin, "disclosure:bulletin_json"),
                "verify_url": verify_url,
                "qr": qr_code_data_uri(detail_url),
            },
        )


def bulletin_render_pdf(*, bulletin_id: int) -> Bulletin | None:
    """Render and store a published bulletin's PDF; idempotent (one that has its PDF is left alone)."""
    bulletin = Bulletin.objects.select_related("branch").filter(pk=bulletin_id).first()
    if bulletin is None or bulletin.status != BulletinStatus.PUBLISHED:
        return bulletin
    if bulletin.pdf_status == PdfStatus.READY and bulletin.pdf:
        return bulletin
    data = bulletin_pdf_bytes(bulletin)
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.pdf_status == PdfStatus.READY and locked.pdf:
            return locked
        name = f"{bulletin.branch.code}-{bulletin.kind}-{bulletin.number:04d}.pdf"
        locked.pdf.save(name, ContentFile(data), save=False)
        # update(): attaching the rendered file is not a change of the published bulletin
        Bulletin.objects.filter(pk=locked.pk).update(pdf=locked.pdf.name, pdf_status=PdfStatus.READY)
        locked.pdf_status = PdfStatus.READY
    return locked


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


def bulletins_draft_due(*, today: date | None = None) -> list[Bulletin]:
    """Drafts what is due ``today`` for every campaign still running (open or paused).

    Emergency campaigns: a receipt bulletin for yesterday every day, and a usage announcement for
    yesterday when allocations were confirmed. Other campaigns: weekly or monthly
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
        window = {"received_at__gte": _day_start(start), "received_at__lt": _day_start(end + timedelta(days=1))}
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
            if bulletin_allocations(**scope).exists():
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


__all__ = [
    "BulletinCheck",
    "ChainResult",
    "ChainVerification",
    "bulletin_allocations",
    "bulletin_donations",
    "bulletin_draft",
    "bulletin_edit_draft",
    "bulletin_pdf_bytes",
    "bulletin_public_path",
    "bulletin_publish",
    "bulletin_render_pdf",
    "bulletin_verify_chain",
    "bulletins_draft_due",
    "canonical_json",
    "content_sha256",
    "disclosure_reminders_send",
    "period_label",
    "regular_period",
]

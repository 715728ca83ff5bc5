"""Publishing bulletins (公示), verifying their hash chain, and rendering their PDF.

The chain: every published bulletin of a branch, both kinds, takes the next ``chain_position``
from the locked sequence ``bulletin-chain:<branch id>`` (which serialises the branch's
publications) and carries ``previous_hash`` = the ``content_hash`` of the one before it (64 zeros
for the first); the content and its hash are composed by ``donations.services.bulletins.compose``.
Numbers (第N期) come from ``bulletin:<branch id>:<kind>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from donations.models import (
    GENESIS_HASH,
    Bulletin,
    BulletinAllocation,
    BulletinDonation,
    BulletinKind,
    BulletinStatus,
)
from donations.services.bulletins.compose import (
    bulletin_content,
    bulletin_rows,
    content_sha256,
    local_iso_time,
    published_overlap,
    usage_lines,
    usage_lines_record,
)
from redcross.audit import audit_context
from redcross.documents import document_pdf_request, document_render_pdf
from redcross.models import Branch
from redcross.numbering import sequence_current, sequence_next
from redcross.scoping import ensure_branch_access

# --- publishing -----------------------------------------------------------------------------------


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
    overlap = published_overlap(
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
    rows, totals, ids = bulletin_rows(bulletin)
    extra = usage_lines(bulletin)  # what registered apps add (a relief project's disbursements)
    bulletin.content = bulletin_content(bulletin, rows, totals, extra)
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
    usage_lines_record(bulletin, extra)
    document_pdf_request(document=bulletin)
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
        "published_at": local_iso_time(bulletin.published_at) if bulletin.published_at else None,
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
    from donations.selectors.disclosure import usage_tables
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
                "usage_tables": usage_tables(content),
                "branch_name": content.get("branch", {}).get("name", ""),
                "detail_url": detail_url,
                "json_url": settings.PUBLIC_BASE_URL + bulletin_public_path(bulletin, "disclosure:bulletin_json"),
                "verify_url": verify_url,
                "qr": qr_code_data_uri(detail_url),
            },
        )


def bulletin_render_pdf(*, bulletin_id: int) -> Bulletin:
    """Render and store a published bulletin's PDF; idempotent (one that has its PDF is left alone)."""
    return document_render_pdf(model=Bulletin, pk=bulletin_id, render=bulletin_pdf_bytes, related=("branch",))

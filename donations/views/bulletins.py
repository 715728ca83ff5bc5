"""Public pages of the bulletins (公示), mounted under /disclosure/: the archive, each bulletin as
HTML, canonical JSON and PDF, the Atom feed, the chain check and the disclosure deadlines.

Everything shown comes from the published (hashed) content, which holds public fields only.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from donations.models import Bulletin, BulletinKind
from donations.selectors.disclosure import (
    archive_filters,
    bulletin_archive_page,
    campaign_deadlines,
    neighbour_bulletins,
    period_display,
    public_bulletin,
    published_bulletins,
    usage_tables,
)
from donations.selectors.honor_roll import filter_choices
from donations.services.bulletins.compose import canonical_json
from donations.services.bulletins.publish import bulletin_public_path, bulletin_verify_chain
from donations.views.public import bad_request
from redcross.models import Branch

ROWS_PER_PAGE = 500


BULLETIN_PAGE_CACHE_SECONDS = 24 * 3600


VERIFY_CACHE_SECONDS = 60


def _bulletin_or_404(code: str, kind: str, number: int, *, with_content: bool = True) -> Bulletin:
    bulletin = public_bulletin(code=code, kind=kind, number=number, with_content=with_content)
    if bulletin is None:
        raise Http404
    return bulletin


def _kinds() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in BulletinKind.choices]


@require_safe
def bulletin_archive(request: HttpRequest) -> HttpResponse:
    try:
        filters = archive_filters(request.GET)
        cursor = request.GET.get("cursor", "")
        page = bulletin_archive_page(filters, cursor=cursor)
    except ValidationError as error:
        return bad_request(request, error)
    campaigns = list(filter_choices()["campaigns"].values())[:50]
    listed = {choice.key for choice in campaigns}
    context = {
        "page": page,
        "filters": filters,
        "query": urlencode(filters.as_query()),
        "kinds": _kinds(),
        "campaigns": campaigns,
        "other_campaign": filters.campaign if filters.campaign and filters.campaign.slug not in listed else None,
        "is_first_page": not cursor,
    }
    return render(request, "disclosure/bulletins.html", context)


@require_safe
def bulletin_detail(request: HttpRequest, code: str, kind: str, number: int) -> HttpResponse:
    # A published bulletin never changes, so each page of it is rendered once per language and
    # kept: reading and parsing a surge day's content (tens of thousands of rows) happens on a
    # miss only. The key holds what can still change around it: the PDF and the next issue.
    bulletin = _bulletin_or_404(code, kind, number, with_content=False)
    previous, following = neighbour_bulletins(bulletin)
    pdf_ready = bulletin.pdf_ready
    key = (
        f"disclosure:bulletin:{bulletin.pk}:{bulletin.content_hash[:16]}:{get_language()}"
        f":{int(pdf_ready)}:{following.pk if following else 0}"
    )
    # only the page number varies the page (the language form carries the path back)
    cacheable = set(request.GET) <= {"page"}
    pages = cache.get(f"{key}:pages") if cacheable else None
    try:
        page = min(max(int(request.GET.get("page") or 1), 1), pages or 10**6)
    except (ValueError, OverflowError):
        page = 1
    body = cache.get(f"{key}:{page}") if pages else None
    if body is not None:
        return HttpResponse(body)
    content = Bulletin.objects.values_list("content", flat=True).get(pk=bulletin.pk)
    rows = content.get("rows", [])
    pages = max(1, (len(rows) + ROWS_PER_PAGE - 1) // ROWS_PER_PAGE)
    page = min(page, pages)
    context = {
        "bulletin": bulletin,
        "content": content,
        "rows": rows[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE],
        "first_row": (page - 1) * ROWS_PER_PAGE,
        "totals": content.get("totals", {}),
        "period": period_display(bulletin.period_start, bulletin.period_end),
        "page": page,
        "pages": pages,
        "previous": previous,
        "following": following,
        "pdf_ready": pdf_ready,
        "is_receipt": bulletin.kind == BulletinKind.RECEIPT,
        "usage_tables": usage_tables(content),
    }
    response = render(request, "disclosure/bulletin.html", context)
    if cacheable:
        cache.set_many({f"{key}:pages": pages, f"{key}:{page}": response.content}, BULLETIN_PAGE_CACHE_SECONDS)
    return response


@require_safe
def bulletin_content_json(request: HttpRequest, code: str, kind: str, number: int) -> HttpResponse:
    """The exact bytes whose SHA-256 is the bulletin's hash: ``sha256sum`` them to check."""
    bulletin = _bulletin_or_404(code, kind, number)
    response = HttpResponse(canonical_json(bulletin.content).encode("utf-8"), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{bulletin.branch.code}-{kind}-{number:04d}.json"'
    return response


@require_safe
def bulletin_pdf(request: HttpRequest, code: str, kind: str, number: int) -> FileResponse:
    bulletin = _bulletin_or_404(code, kind, number)
    if not bulletin.pdf_ready:
        raise Http404(_("PDF 正在生成，请稍后再试"))
    return FileResponse(
        bulletin.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{bulletin.branch.code}-{kind}-{number:04d}.pdf",
    )


class BulletinFeed(Feed):
    """Atom feed of the latest published bulletins (summary and hashes; the rows are on the page)."""

    feed_type = Atom1Feed
    title = gettext_lazy("信息公示")
    subtitle = gettext_lazy("接收公示和使用公告，每期附本期及上一期的 SHA-256 哈希")

    def link(self) -> str:
        return reverse("disclosure:bulletins")

    def items(self):
        return list(published_bulletins().order_by("-published_at", "-id")[:50])

    def item_title(self, item: Bulletin) -> str:
        return f"{item.branch.name}{item.number_label}：{item.title}"

    def item_description(self, item: Bulletin) -> str:
        parts = [
            _("期间：%(period)s") % {"period": period_display(item.period_start, item.period_end)},
            _("%(n)s 笔，合计 %(total)s 元") % {"n": item.row_count or 0, "total": item.total or "0.00"},
            _("本期哈希：%(hash)s") % {"hash": item.content_hash},
            _("上一期哈希：%(hash)s") % {"hash": item.previous_hash},
        ]
        return "；".join(parts)

    def item_link(self, item: Bulletin) -> str:
        return bulletin_public_path(item)

    def item_pubdate(self, item: Bulletin):
        return item.published_at

    def item_updateddate(self, item: Bulletin):
        return item.published_at

    def item_author_name(self, item: Bulletin) -> str:
        return item.branch.name


@require_safe
def bulletin_verify(request: HttpRequest) -> HttpResponse:
    """Recompute every chain (or one branch's): each hash from its content, each link to the one before."""
    code = (request.GET.get("branch") or "").strip()[:20]
    branch = None
    if "\x00" in code:
        return bad_request(request, ValidationError({"branch": [_("参数含有无效字符")]}))
    if code:
        branch = Branch.objects.filter(code=code).first()
        if branch is None:
            return bad_request(request, ValidationError({"branch": [_("没有这个组织")]}))
    key = f"disclosure:bulletins:verify:{branch.pk if branch else 'all'}"
    result = cache.get(key)
    if result is None:
        result = bulletin_verify_chain(branch=branch)
        cache.set(key, result, VERIFY_CACHE_SECONDS)
    context = {
        "result": result,
        "branch": branch,
        "cache_seconds": VERIFY_CACHE_SECONDS,
        "public_base_url": settings.PUBLIC_BASE_URL,
    }
    return render(request, "disclosure/bulletin_verify.html", context)


@require_safe
def disclosure_deadlines(request: HttpRequest) -> HttpResponse:
    """Each campaign's last publication and next due date under the Charity Law."""
    key = "disclosure:deadlines"
    deadlines = cache.get(key)
    if deadlines is None:
        deadlines = campaign_deadlines()[:300]
        cache.set(key, deadlines, 60)
    return render(request, "disclosure/deadlines.html", {"deadlines": deadlines})

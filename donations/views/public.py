"""Public disclosure pages (信息公开, mounted at /disclosure/): the honor roll, a donation's public
page with its trace, campaign pages. No login; nothing personal; every list is keyset-paginated.

The first page of the honor roll without filters is what a surge sends everyone to: its
table is a cached template fragment for ``HONOR_ROLL_CACHE_SECONDS`` (default 30; the cache
degrades to a miss when Redis is down), so a confirmed gift shows within half a minute.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from html import escape  # the stdlib one: Django's wraps it in a lazy-string check per call
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from donations.exports import safe_cell
from donations.models import Campaign, Donation
from donations.selectors import donation_public_facts
from donations.selectors.campaigns import (
    ReceivedTotals,
    campaign_allocations,
    campaign_summary,
    campaign_totals,
    public_campaigns,
)
from donations.selectors.disclosure import campaign_bulletins
from donations.selectors.honor_roll import (
    HonorRollRow,
    filter_choices,
    honor_roll_export,
    honor_roll_filters,
    honor_roll_page,
)
from donations.selectors.trace import donation_trace
from redcross.cache import cached_or_refreshed
from redcross.money import format_yuan

CSV_HEADER = [
    "流水号",
    "日期",
    "捐赠人",
    "类型",
    "金额（元）",
    "物资",
    "物资价值（元）",
    "募捐活动",
    "渠道",
    "定向受赠单位",
]


def _cache_seconds() -> int:
    return getattr(settings, "HONOR_ROLL_CACHE_SECONDS", 30)


def bad_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    messages = "; ".join(str(m) for m in error.messages)
    response = render(request, "disclosure/bad_request.html", {"message": messages}, status=400)
    return response


@require_safe
def honor_roll(request: HttpRequest) -> HttpResponse:
    # the unfiltered first page is what a surge sends everyone to: it is served whole from the
    # cache (the page carries nothing personal, not even a CSRF token), so a hit costs no query
    # and no template rendering; a confirmed gift shows within HONOR_ROLL_CACHE_SECONDS
    cacheable = not request.GET and _cache_seconds() > 0
    key = f"disclosure:honor-roll:first:{get_language()}"
    if cacheable:
        body = cache.get(key)
        if body is not None:
            return _public(HttpResponse(body))
    try:
        filters = honor_roll_filters(request.GET)
        cursor = request.GET.get("cursor", "")
        page = honor_roll_page(filters, cursor=cursor)
    except ValidationError as error:
        return bad_request(request, error)
    context = {
        "page": page,
        "filters": filters,
        "query": urlencode(filters.as_query()),
        # called by the template only when the filter form's fragment is not cached
        "campaigns": lambda: list(filter_choices()["campaigns"].values())[:50],
        "branches": lambda: list(filter_choices()["branches"].values()),
        "kinds": [("cash", _("捐款")), ("in_kind", _("捐物"))],
        "is_first_page": not cursor,
        "return_path": request.get_full_path(),
        # one reverse() per page instead of two per row
        "rows_html": honor_roll_rows_html(
            page.rows,
            donation_base=reverse("disclosure:donation", args=["-"])[:-2],
            campaign_base=reverse("disclosure:campaigns"),
        ),
    }
    response = render(request, "disclosure/honor_roll.html", context)
    if cacheable:
        cache.set(key, response.content, _cache_seconds())
        _public(response)
    return response


# the roll's columns, as the table head (disclosure/_roll.html) names them
_ROLL_COLUMNS = (
    ("date", gettext_noop("日期")),
    ("donor", gettext_noop("捐赠人")),
    ("content", gettext_noop("捐赠内容")),
    ("campaign", gettext_noop("募捐活动")),
    ("channel", gettext_noop("渠道")),
    ("serial", gettext_noop("流水号")),
)


def honor_roll_rows_html(rows: list[HonorRollRow], *, donation_base: str, campaign_base: str) -> SafeString:
    """The roll's table rows, built in Python: the template engine spent 10-15 ms on 50 rows,
    most of a surge page's time. Every value is escaped here (the tests feed it markup)."""
    tz = timezone.get_current_timezone()
    yuan_unit = escape(_("%(amount)s 元"))  # escaped once: the amount put into it is digits
    worth = escape(_("价值"))
    directed = _("定向：%(name)s")
    retroactive = f'<br><span class="muted">{escape(_("补办手续"))}</span>'
    # each cell names its column for the stacked cards a phone shows (data-label), as the table head does
    label = {key: escape(_(text)) for key, text in _ROLL_COLUMNS}
    # a page shows few campaigns and channels: each cell is built once
    campaign_cells: dict[tuple[str, str], str] = {}
    channel_cells: dict[str, str] = {}
    parts = []
    for row in rows:
        if row.amount is not None:
            content = f'<span class="amount">{yuan_unit % {"amount": format_yuan(row.amount)}}</span>'
        else:
            content = escape(row.goods_summary)
            if row.goods_value is not None:
                value = yuan_unit % {"amount": format_yuan(row.goods_value)}
                content += f'<br><span class="muted">{worth} {value}</span>'
        if row.designated_recipient:
            content += f'<br><span class="muted">{escape(directed % {"name": row.designated_recipient})}</span>'
        if row.is_retroactive:
            content += retroactive
        campaign = campaign_cells.get((row.campaign_slug, row.campaign))
        if campaign is None:
            campaign = (
                f'<td class="c-campaign" data-label="{label["campaign"]}">'
                f'<a href="{campaign_base}{escape(row.campaign_slug)}/">{escape(row.campaign)}</a></td>'
            )
            campaign_cells[row.campaign_slug, row.campaign] = campaign
        channel = channel_cells.get(row.channel_category)
        if channel is None:
            channel = channel_cells[row.channel_category] = (
                f'<td class="c-channel" data-label="{label["channel"]}">{escape(row.channel_category)}</td>'
            )
        serial = escape(row.serial)
        parts.append(
            f'<tr><td class="c-date" data-label="{label["date"]}">{row.received_at.astimezone(tz):%Y-%m-%d}</td>'
            f'<td class="c-donor" data-label="{label["donor"]}">{escape(row.donor_name)}</td>'
            f'<td class="c-content" data-label="{label["content"]}">{content}</td>{campaign}{channel}'
            f'<td class="c-serial" data-label="{label["serial"]}">'
            f'<a href="{donation_base}{serial}/">{serial}</a></td></tr>'
        )
    return mark_safe("\n".join(parts))  # noqa: S308 - every value above is escaped


def _public(response: HttpResponse) -> HttpResponse:
    # shared caches (nginx in front) may keep the unfiltered first page as long as we do
    patch_cache_control(response, public=True, max_age=_cache_seconds())
    return response


def _csv_lines(rows: Iterator[HonorRollRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    row.serial,
                    timezone.localtime(row.received_at).strftime("%Y-%m-%d"),
                    row.donor_name,
                    row.kind_label,
                    row.amount if row.amount is not None else "",
                    row.goods_summary,
                    row.goods_value if row.goods_value is not None else "",
                    row.campaign,
                    row.channel_category,
                    row.designated_recipient,
                )
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@require_safe
def honor_roll_csv(request: HttpRequest) -> HttpResponse:
    """The public view as CSV (the same rows and names as the page, formula-safe, at most 100k rows)."""
    try:
        filters = honor_roll_filters(request.GET)
    except ValidationError as error:
        return HttpResponseBadRequest("; ".join(str(m) for m in error.messages), content_type="text/plain")
    response = StreamingHttpResponse(_csv_lines(honor_roll_export(filters)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="honor-roll.csv"'
    return response


@require_safe
def donation_page(request: HttpRequest, serial: str) -> HttpResponse:
    """A confirmed donation's public facts and where it went, by its serial (as on the honor roll)."""
    if len(serial) > 30:
        raise Http404
    donation = get_object_or_404(
        Donation.objects.public().select_related("donor", "campaign", "branch", "designated_recipient"),
        serial=serial,
    )
    certificate = getattr(donation, "certificate", None)
    context = {
        "facts": donation_public_facts(donation),
        "trace": donation_trace(donation),
        "certificate": certificate,
    }
    return render(request, "disclosure/donation.html", context)


@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = list(public_campaigns()[:100])
    totals = campaign_totals(campaigns)
    rows = [(campaign, totals.get(campaign.pk, ReceivedTotals())) for campaign in campaigns]
    return render(request, "disclosure/campaigns.html", {"rows": rows})


@require_safe
def campaign_page(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("branch"), slug=slug[:80])
    # kept figures: cheap to read at any number of gifts; cached a little for a surge, refreshed by one
    # request while the others serve the previous value
    key = f"disclosure:campaign:{campaign.pk}:{get_language()}:kept"  # the kinds of recipient are translated
    summary = cached_or_refreshed(key, lambda: campaign_summary(campaign), 30)
    chart_data = {
        "days": [day.isoformat() for day, _cash, _n in summary.daily],
        "cash": [float(cash) for _day, cash, _n in summary.daily],  # chart scale only; figures are shown as text
        "counts": [n for _day, _cash, n in summary.daily],
        "recipientKinds": [name for name, _value in summary.by_recipient_kind],
        "recipientValues": [float(value) for _name, value in summary.by_recipient_kind],
        "labels": {
            "cash": _("每日捐款（元）"),
            "count": _("每日笔数"),
            "byKind": _("按受赠单位类型拨付（元）"),
            # the axis shows large sums as Chinese readers count them, in 万, and English ones in k
            "bigUnit": "万" if get_language().startswith("zh") else "k",
            "bigDivisor": 10000 if get_language().startswith("zh") else 1000,
        },
    }
    context = {
        "campaign": campaign,
        "summary": summary,
        "allocations": campaign_allocations(campaign),
        "chart_data": chart_data,
        "bulletins": campaign_bulletins(campaign),
    }
    return render(request, "disclosure/campaign.html", context)

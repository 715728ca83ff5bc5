"""The honor roll (爱心榜单): every confirmed donation, newest first, as the public may see it.

Reads only what is public: the donor's display name (organisations in full, persons masked
unless they consented, anonymous donors as 爱心人士), never a phone, ID number or address.

Speed at a million donations: keyset pagination on (received_at, id) over partial indexes of
confirmed donations (no OFFSET, no COUNT(*)); one query for the page's rows with their donor,
campaign and recipient, one for the goods lines of the in-kind rows on the page. Rows are read
as plain tuples (``values_list``, no model instances). The unfiltered roll (what a surge sends
everyone to) joins only the donor: campaign and recipient names come from each process's memory
(``public_names``, a third query only for names not seen within the minute), since planning the
four-table join cost PostgreSQL more than running it.

Name search matches only what the page displays in full (``shows_full_name``: organisations
not anonymous, persons who consented to full publication), so typing a masked person's full
name finds nothing. Three or more characters match the donor's full public name as each gift
carries it (``Donation.public_name``, kept by triggers generated from that rule); on PostgreSQL
a common word walks the newest named gifts in one index, a rare or unknown one goes through a
trigram index (pg_trgm). One or two characters match the start of the donor's name through its
b-tree index, which stays fast because a prefix is an index range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from donations.models import (
    Campaign,
    Channel,
    Donation,
    DonationItem,
    DonationKind,
    Recipient,
    donor_public_name,
    full_name_shown,
)
from donations.valuation import lot_value
from redcross import pagination
from redcross.models import Branch
from redcross.pagination import keyset_before

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 60
_CURSOR_SALT = "donations.honor_roll.cursor"

# what the public sees of the channel: online payment or transfer, not the merchant details
# lazy: the labels are read in the language of each request, not of the process that imported this
CHANNEL_CATEGORY = {
    Channel.WECHAT: gettext_lazy("网络捐赠"),
    Channel.ALIPAY: gettext_lazy("网络捐赠"),
    Channel.BANK: gettext_lazy("银行汇款"),
    Channel.ON_SITE: gettext_lazy("现场捐赠"),
    Channel.OTHER: gettext_lazy("其他"),
}


@dataclass(frozen=True)
class Choice:
    """A campaign or branch as the filters know it (from the cached option lists, no query)."""

    pk: int
    key: str  # campaign slug or branch code
    name: str
    path: str = ""  # branches: the materialised path, for the subtree


def filter_choices() -> dict[str, dict[str, Choice]]:
    """The campaigns and branches the public can filter by, kept for a minute (FRAGMENT_CACHE_SECONDS)."""

    def load() -> dict[str, dict[str, Choice]]:
        campaigns = {
            slug: Choice(pk, slug, name)
            for pk, slug, name in Campaign.objects.order_by("-starts_on", "-id").values_list("pk", "slug", "name")[:200]
        }
        branches = {
            code: Choice(pk, code, name, path)
            for pk, code, name, path in Branch.objects.filter(is_active=True)
            .order_by("path")
            .values_list("pk", "code", "name", "path")
        }
        return {"campaigns": campaigns, "branches": branches}

    # read by filtered lists and the filter forms: kept in each process's memory (the fragments
    # cache) rather than fetched from Redis each time; a new campaign shows within a minute
    return caches["fragments"].get_or_set("disclosure:honor-roll:choices", load, settings.FRAGMENT_SECONDS)


@dataclass(frozen=True)
class HonorRollFilters:
    campaign: Choice | None = None
    kind: str = ""
    branch: Choice | None = None
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""  # donor name (organisations, consenting persons) or a serial

    def as_query(self) -> dict[str, str]:
        """The filters as GET parameters, for links and the CSV download."""
        params = {
            "campaign": self.campaign.key if self.campaign else "",
            "kind": self.kind,
            "branch": self.branch.key if self.branch else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.query,
        }
        return {key: value for key, value in params.items() if value}


class HonorRollRow(NamedTuple):
    """One public row (a named tuple: a page builds fifty, a frozen dataclass took 3x as long)."""

    pk: int  # the keyset cursor's tie-breaker; not shown
    serial: str
    received_at: datetime
    donor_name: str
    kind: str
    kind_label: str
    amount: Decimal | None
    goods_summary: str
    goods_value: Decimal | None
    campaign: str
    campaign_slug: str
    channel_category: str
    designated_recipient: str
    is_retroactive: bool


@dataclass
class HonorRollPage:
    rows: list[HonorRollRow] = field(default_factory=list)
    next_cursor: str = ""


# the dates a filter may name: a day at either end of the calendar overflows once the time zone
# or the day after is applied (9999-12-31 + 1 day, 0001-01-01 00:00 +08:00 in UTC)
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def _parse_date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise ValidationError({name: [_("日期格式应为 YYYY-MM-DD")]}) from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError({name: [_("日期应在 1900-01-01 至 2999-12-31 之间")]})
    return day


def honor_roll_filters(params) -> HonorRollFilters:
    """Read filters from GET parameters; unknown values are a ValidationError naming the field."""
    for name in ("q", "campaign", "kind", "branch", "from", "to", "cursor"):
        if "\x00" in (params.get(name) or ""):
            raise ValidationError({name: [_("含有无效字符")]})  # PostgreSQL refuses NUL in text
    campaign = None
    slug = (params.get("campaign") or "").strip()
    if slug:
        campaign = filter_choices()["campaigns"].get(slug) or _campaign_choice(slug[:80])
        if campaign is None:
            raise ValidationError({"campaign": [_("没有这个募捐活动")]})
    kind = (params.get("kind") or "").strip()
    if kind and kind not in DonationKind.values:
        raise ValidationError({"kind": [_("类型只能是捐款或捐物")]})
    branch = None
    code = (params.get("branch") or "").strip()
    if code:
        branch = filter_choices()["branches"].get(code)
        if branch is None:
            raise ValidationError({"branch": [_("没有这个组织")]})
    date_from = _parse_date((params.get("from") or "").strip(), "from")
    date_to = _parse_date((params.get("to") or "").strip(), "to")
    query = " ".join((params.get("q") or "").split())
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError({"q": [_("搜索内容过长（最多 %(n)d 个字符）") % {"n": MAX_QUERY_LENGTH}]})
    return HonorRollFilters(
        campaign=campaign, kind=kind, branch=branch, date_from=date_from, date_to=date_to, query=query
    )


def _campaign_choice(slug: str) -> Choice | None:
    # an old campaign beyond the cached list: one query
    found = Campaign.objects.filter(slug=slug).values_list("pk", "slug", "name").first()
    return Choice(*found) if found else None


def searchable_donors() -> Q:
    """Donors whose full name is public (``shows_full_name``), from a donation."""
    return full_name_shown("donor__")


def _filtered(filters: HonorRollFilters) -> QuerySet[Donation]:
    donations = Donation.objects.public()
    if filters.campaign is not None:
        donations = donations.filter(campaign_id=filters.campaign.pk)
    if filters.kind:
        donations = donations.filter(kind=filters.kind)
    if filters.branch is not None:
        donations = donations.filter(
            branch__in=Branch.objects.filter(
                # the filter's branch comes from the cached choices: its path, without a query
                Branch.within_q(Branch(pk=filters.branch.pk, path=filters.branch.path))
            ).values("pk")
        )
    tz = timezone.get_current_timezone()
    if filters.date_from:
        donations = donations.filter(received_at__gte=datetime.combine(filters.date_from, time.min, tz))
    if filters.date_to:
        donations = donations.filter(
            received_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tz)
        )
    query = filters.query
    if query:
        serial = query.upper()
        if len(serial) >= 8 and serial[:2].isalpha() and "-" in serial and serial.isascii():
            donations = donations.filter(serial=serial)
        elif len(query) >= 3:
            # the donor's public name as the gift carries it: no join for PostgreSQL to guess at
            donations = donations.filter(public_name__isnull=False, public_name__icontains=query)
        else:
            donations = donations.filter(searchable_donors(), donor__name__startswith=query)
    return donations


def before(received_at: datetime, pk: int, *, field: str = "received_at") -> Q:
    """Rows after the cursor, newest first (see ``redcross.pagination.keyset_before``)."""
    return keyset_before(received_at, pk, field=field)


def encode_cursor(received_at: datetime, pk: int) -> str:
    return pagination.encode_cursor(received_at, pk, salt=_CURSOR_SALT)


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    return pagination.decode_cursor(cursor, salt=_CURSOR_SALT)


def _goods(items: list[tuple]) -> tuple[str, Decimal | None]:
    """The goods lines (name, quantity, unit, unit value, value basis) as the roll shows them."""
    summary = "、".join(f"{name}{quantity.normalize():f}{unit}" for name, quantity, unit, _v, _b in items[:3])
    if len(items) > 3:
        summary += _("等")
    values = [lot_value(quantity, unit_value, basis) for _n, quantity, _u, unit_value, basis in items]
    if not items or any(v is None for v in values):
        return summary, None
    return summary, sum(values, Decimal("0.00"))


_ROW_COLUMNS = (
    "id", "serial", "received_at", "kind", "amount", "channel", "is_retroactive",
    "donor__kind", "donor__name", "donor__public_display", "donor__full_name_consent_at",
    "campaign__name", "campaign__slug", "designated_recipient__name",
)  # fmt: skip


# the surge page reads the campaign and recipient as ids, their names from each process's memory
# (``public_names``): PostgreSQL planned the four-table join in 0.8 ms, twice what it spent
# running it; with the donor alone it plans in 0.3 ms
_SURGE_COLUMNS = (*_ROW_COLUMNS[:-3], "campaign_id", "designated_recipient_id")

_GOODS_COLUMNS = ("donation_id", "name", "quantity", "unit", "unit_value", "value_basis")


def _unfiltered_roll(cursor: tuple[datetime, int] | None, size: int) -> list[HonorRollRow]:
    """The roll without filters (the first page and "earlier gifts" after it), the one a surge
    sends everyone to: the same rows as ``honor_roll_rows``, with only the donor joined."""
    donations = Donation.objects.public()
    if cursor:
        donations = donations.filter(before(*cursor))
    found = list(donations.order_by("-received_at", "-id")[: size + 1].values_list(*_SURGE_COLUMNS))
    return _rows(_with_names(found))


@dataclass(frozen=True)
class PublicNames:
    campaigns: dict[int, tuple[str, str]]  # pk: (name, slug)
    recipients: dict[int, str]  # pk: name


def public_names(campaign_ids: set[int], recipient_ids: set[int]) -> PublicNames:
    """Campaigns' names and slugs and recipients' names, from each process's memory (the
    fragments cache, FRAGMENT_CACHE_SECONDS: a rename shows within a minute, as in the filter
    form); what is not there is read in one query."""
    fragments = caches["fragments"]
    keys = {f"name:campaign:{pk}": ("campaign", pk) for pk in campaign_ids}
    keys.update({f"name:recipient:{pk}": ("recipient", pk) for pk in recipient_ids})
    known = fragments.get_many(keys)
    names: PublicNames = PublicNames({}, {})
    for key, value in known.items():
        kind, pk = keys[key]
        if kind == "campaign":
            names.campaigns[pk] = value
        else:
            names.recipients[pk] = value
    missing_campaigns = campaign_ids - names.campaigns.keys()
    missing_recipients = recipient_ids - names.recipients.keys()
    if missing_campaigns or missing_recipients:
        # one query for both: the page stays within its three
        campaigns = (
            Campaign.objects.filter(pk__in=missing_campaigns)
            .order_by()
            .values_list(Value("campaign"), "pk", "name", "slug")
        )
        recipients = (
            Recipient.objects.filter(pk__in=missing_recipients)
            .order_by()
            .values_list(Value("recipient"), "pk", "name", Value(""))
        )
        fresh = {}
        for kind, pk, name, slug in campaigns.union(recipients, all=True):
            if kind == "campaign":
                names.campaigns[pk] = fresh[f"name:campaign:{pk}"] = (name, slug)
            else:
                names.recipients[pk] = fresh[f"name:recipient:{pk}"] = name
        fragments.set_many(fresh)
    return names


def _with_names(found: list[tuple]) -> list[tuple]:
    """Surge rows (campaign and recipient as ids) as ``_ROW_COLUMNS`` rows (as names)."""
    names = public_names({row[-2] for row in found}, {row[-1] for row in found if row[-1] is not None})
    campaigns, recipients = names.campaigns, names.recipients
    return [(*row[:-2], *campaigns[row[-2]], recipients.get(row[-1])) for row in found]


def honor_roll_rows(donations: QuerySet[Donation]) -> list[HonorRollRow]:
    """The public rows of these donations (1 query, 2 when the rows include goods)."""
    # plain tuples of only the public columns: no model instances (a third of a surge page's
    # time went to building them) and no encrypted ID number read for a public row
    return _rows(list(donations.values_list(*_ROW_COLUMNS)))


def _rows(found: list[tuple]) -> list[HonorRollRow]:
    in_kind = [columns[0] for columns in found if columns[3] == DonationKind.IN_KIND]
    goods: dict[int, list[tuple]] = {}
    lines = DonationItem.objects.filter(donation_id__in=in_kind).order_by("id").values_list(*_GOODS_COLUMNS)
    for donation_id, *line in lines if in_kind else ():
        goods.setdefault(donation_id, []).append(tuple(line))
    kind_labels = {value: str(label) for value, label in DonationKind.choices}
    channel_categories = {value: str(label) for value, label in CHANNEL_CATEGORY.items()}
    other_channel = _("其他")
    rows = []
    for (
        pk, serial, received_at, kind, amount, channel, is_retroactive,
        donor_kind, donor_name, public_display, consent_at, campaign, campaign_slug, recipient,
    ) in found:  # fmt: skip
        summary, value = _goods(goods.get(pk, [])) if kind == DonationKind.IN_KIND else ("", None)
        rows.append(
            HonorRollRow(
                pk=pk,
                serial=serial,
                received_at=received_at,
                donor_name=donor_public_name(donor_kind, donor_name, public_display, consent_at),
                kind=kind,
                kind_label=kind_labels[kind],
                amount=amount if kind == DonationKind.CASH else None,
                goods_summary=summary,
                goods_value=value,
                campaign=campaign,
                campaign_slug=campaign_slug,
                channel_category=channel_categories.get(channel, other_channel),
                designated_recipient=recipient or "",
                is_retroactive=is_retroactive,
            )
        )
    return rows


def honor_roll_page(filters: HonorRollFilters, *, cursor: str = "", size: int = PAGE_SIZE) -> HonorRollPage:
    """One page, newest first; ``next_cursor`` is empty on the last page."""
    position = decode_cursor(cursor) if cursor else None
    # one row more than shown tells whether there is a next page, without counting
    if filters == HonorRollFilters():
        page = _unfiltered_roll(position, size)
    else:
        donations = _filtered(filters)
        if position:
            donations = donations.filter(before(*position))
        donations = donations.order_by("-received_at", "-id")[: size + 1]
        if filters.query and connection.vendor == "postgresql":
            # a search finds its gifts through the trigram index, in no order: PostgreSQL joined the
            # donor, campaign and recipient of every match before sorting (1,089 rows for
            # "市医疗器", 7 ms); sorting the ids alone first leaves 51 rows to join
            donations = Donation.objects.filter(pk__in=list(donations.values_list("pk", flat=True)))
            donations = donations.order_by("-received_at", "-id")
        page = honor_roll_rows(donations)
    more = len(page) > size
    page = page[:size]
    next_cursor = ""
    if more:
        next_cursor = encode_cursor(page[-1].received_at, page[-1].pk)
    return HonorRollPage(rows=page, next_cursor=next_cursor)


def honor_roll_export(filters: HonorRollFilters, *, limit: int = 100_000):
    """Rows for the CSV of the public view, newest first, in chunks (at most ``limit`` rows)."""
    donations = _filtered(filters).order_by("-received_at", "-id")
    last: tuple[datetime, int] | None = None
    sent = 0
    while sent < limit:
        chunk = donations
        if last is not None:
            chunk = chunk.filter(before(*last))
        ids = list(chunk.values_list("received_at", "pk")[: min(2000, limit - sent)])
        if not ids:
            return
        yield from honor_roll_rows(
            Donation.objects.filter(pk__in=[pk for _r, pk in ids]).order_by("-received_at", "-id")
        )
        sent += len(ids)
        last = ids[-1]


__all__ = [
    "CHANNEL_CATEGORY",
    "Choice",
    "HonorRollFilters",
    "HonorRollPage",
    "HonorRollRow",
    "before",
    "decode_cursor",
    "encode_cursor",
    "filter_choices",
    "honor_roll_export",
    "honor_roll_filters",
    "honor_roll_page",
    "honor_roll_rows",
]

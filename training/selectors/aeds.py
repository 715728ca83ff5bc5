"""Reads of the AED registry: the public list (nearest first, or by district), the GeoJSON export,
and what needs staff attention (checks overdue, battery or pads expired or expiring).

Distances are great-circle distances on WGS-84 coordinates by the haversine formula, computed in
the database (``haversine_km_expression``) so the nearest are sorted and cut there; a box around
the visitor narrows the rows first (an indexed latitude range) and is given up when it holds fewer
than the list needs. ``haversine_km`` is the same formula in Python, for tests and checks.
"""

from __future__ import annotations

import binascii
import datetime
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import ExpressionWrapper, FloatField, Q, QuerySet, Value
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redcross.models import Branch, BranchLevel
from redcross.scoping import within_branch_ids
from training.conf import aed_check_days, aed_expiry_warning_days
from training.models import Aed, AedAccess, AedStatus

EARTH_RADIUS_KM = 6371.0088  # the mean Earth radius (IUGG)
NEAREST_LIMIT = 20  # the nearest list is bounded: what a person in a hurry can read
NEAREST_BOX_KM = 5.0  # first look this far around the visitor
PAGE_SIZE = 30  # the district list, keyset-paginated
CURSOR_SALT = "training.aeds.list"
COORDINATE_PLACES = Decimal("0.000001")
MAX_INPUT = 32  # a coordinate longer than this is not a coordinate

BranchIds = frozenset[int] | set[int] | list[int] | None


def parse_coordinate(value, *, field: str, limit: int) -> Decimal:
    """A WGS-84 latitude (``limit`` 90) or longitude (``limit`` 180) in decimal degrees, or a
    ValidationError naming ``field``: refuses text, NaN, infinity, out-of-range and huge values."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError({field: [_("请输入坐标（十进制度数）")]})
    text = str(value).strip()
    if len(text) > MAX_INPUT:
        raise ValidationError({field: [_("坐标格式不正确")]})
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError({field: [_("坐标格式不正确")]}) from None
    if not number.is_finite():
        raise ValidationError({field: [_("坐标格式不正确")]})
    if not -limit <= number <= limit:
        raise ValidationError({field: [_("坐标应在 -%(limit)d 到 %(limit)d 之间") % {"limit": limit}]})
    return number.quantize(COORDINATE_PLACES)


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in kilometres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lng2 - lng1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def haversine_km_expression(lat: float, lng: float) -> ExpressionWrapper:
    """``haversine_km`` from (lat, lng) to each row's coordinates, as a database expression."""
    phi1 = math.radians(lat)
    phi2 = Radians(Cast("latitude", FloatField()))
    half_dphi = (phi2 - Value(phi1)) / Value(2.0)
    half_dlambda = (Radians(Cast("longitude", FloatField())) - Value(math.radians(lng))) / Value(2.0)
    a = Power(Sin(half_dphi), 2) + Value(math.cos(phi1)) * Cos(phi2) * Power(Sin(half_dlambda), 2)
    return ExpressionWrapper(Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(Least(a, Value(1.0)))), output_field=FloatField())


def public_aeds() -> QuerySet[Aed]:
    """The AEDs a passer-by may look for: in service and not private. Only device facts are read."""
    return Aed.objects.filter(status=AedStatus.IN_SERVICE).exclude(access=AedAccess.PRIVATE)


PUBLIC_FIELDS = (
    "id", "place", "address", "location_detail", "level", "latitude", "longitude", "indoor", "access",
    "opening_hours", "operator", "last_checked_on", "branch__name", "branch__short_name",
)  # fmt: skip


@dataclass(frozen=True)
class PublicAed:
    """What a public page shows of an AED: the device and its place, never who looks after it."""

    id: int
    place: str
    address: str
    location_detail: str
    level: str
    latitude: Decimal
    longitude: Decimal
    indoor: bool
    access: str
    opening_hours: str
    operator: str
    last_checked_on: datetime.date | None
    district: str
    distance_km: float | None = None

    @property
    def access_label(self) -> str:
        return str(AedAccess(self.access).label)

    @property
    def always_open(self) -> bool:
        return self.opening_hours == "24/7"

    @property
    def distance_m(self) -> int | None:
        return None if self.distance_km is None else round(self.distance_km * 1000)


def _public_row(row: dict, distance: float | None = None) -> PublicAed:
    district = row.pop("branch__short_name") or row.pop("branch__name")
    row.pop("branch__name", None)
    return PublicAed(**row, district=district, distance_km=distance)


def district_choices() -> list[Branch]:
    """The districts and counties a visitor can choose (the city's direct children, and the city)."""
    return list(
        Branch.objects.filter(is_active=True, level__in=(BranchLevel.CITY, BranchLevel.COUNTY)).order_by(
            "path", "sort_order"
        )
    )


def district_by_code(code: str) -> Branch:
    """The district a visitor chose, or a ValidationError on ``district``."""
    code = (code or "").strip()
    branch = None
    if len(code) <= 20 and code.isascii() and code.isalnum():
        branch = Branch.objects.filter(code=code, is_active=True).first()
    if branch is None:
        raise ValidationError({"district": [_("没有这个区县")]})
    return branch


def nearest_aeds(
    lat: Decimal | float, lng: Decimal | float, *, district: Branch | None = None, limit: int = NEAREST_LIMIT
) -> list[PublicAed]:
    """The ``limit`` public AEDs nearest to (lat, lng), nearest first, with their distance.

    First within a box of ``NEAREST_BOX_KM`` (an indexed latitude range), keeping only rows whose
    distance is within that radius, so no AED outside the box can be nearer than one kept; when
    the box holds fewer than ``limit``, the whole list is sorted instead."""
    lat, lng = float(lat), float(lng)
    rows = public_aeds()
    if district is not None:
        rows = rows.filter(Branch.within_q(district, "branch"))
    distance = haversine_km_expression(lat, lng)
    dlat = NEAREST_BOX_KM / 111.0
    cos_lat = math.cos(math.radians(lat))
    dlng = NEAREST_BOX_KM / (111.0 * cos_lat) if cos_lat > 0.01 else 360.0
    result: list[dict] = []
    if abs(lat) + dlat < 90 and abs(lng) + dlng < 180:
        boxed = rows.filter(
            latitude__range=(Decimal(str(lat - dlat)), Decimal(str(lat + dlat))),
            longitude__range=(Decimal(str(lng - dlng)), Decimal(str(lng + dlng))),
        )
        boxed = boxed.annotate(distance_km=distance).filter(distance_km__lte=NEAREST_BOX_KM)
        result = list(boxed.order_by("distance_km", "id").values(*PUBLIC_FIELDS, "distance_km")[:limit])
    if len(result) < limit:
        everywhere = rows.annotate(distance_km=distance).order_by("distance_km", "id")
        result = list(everywhere.values(*PUBLIC_FIELDS, "distance_km")[:limit])
    return [_public_row(row, row.pop("distance_km")) for row in result]


@dataclass(frozen=True)
class AedPage:
    aeds: list[PublicAed]
    next_cursor: str


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        place, pk = signing.loads(cursor[:400], salt=CURSOR_SALT)
        return str(place), int(pk)
    except (signing.BadSignature, ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationError({"cursor": [_("翻页参数无效")]}) from None


def aeds_by_place(*, district: Branch | None = None, cursor: str = "", size: int = PAGE_SIZE) -> AedPage:
    """Public AEDs of a district (or everywhere) in order of place name, ``size`` at a time:
    keyset pagination on (place, id), no COUNT."""
    rows = public_aeds()
    if district is not None:
        rows = rows.filter(Branch.within_q(district, "branch"))
    if cursor:
        place, pk = _decode_cursor(cursor)
        rows = rows.filter(Q(place__gt=place) | Q(place=place, id__gt=pk))
    found = [_public_row(row) for row in rows.order_by("place", "id").values(*PUBLIC_FIELDS)[: size + 1]]
    next_cursor = ""
    if len(found) > size:
        found = found[:size]
        next_cursor = signing.dumps([found[-1].place, found[-1].id], salt=CURSOR_SALT, compress=False)
    return AedPage(aeds=found, next_cursor=next_cursor)


# --- GeoJSON, with OpenStreetMap's tags ---------------------------------------------------------


def _osm_tags(row: dict) -> dict[str, str]:
    """OpenStreetMap's ``emergency=defibrillator`` tags for one AED (wiki: Tag:emergency=defibrillator)."""
    tags = {
        "emergency": "defibrillator",
        "description": row["place"],
        "defibrillator:location": row["location_detail"] or row["place"],
        "indoor": "yes" if row["indoor"] else "no",
        "access": row["access"],
        "opening_hours": row["opening_hours"],
        "operator": row["operator"] or row["branch__name"],
        "emergency:phone": "120",
        "addr:full": row["address"],
    }
    if row["level"]:
        tags["level"] = row["level"]
    if row["last_checked_on"]:
        tags["check_date"] = row["last_checked_on"].isoformat()
    return tags


def aed_geojson_features(*, district: Branch | None = None) -> Iterator[dict]:
    """One GeoJSON Feature per public AED: a Point in [longitude, latitude] order (RFC 7946) with
    the OpenStreetMap tags as properties."""
    rows = public_aeds()
    if district is not None:
        rows = rows.filter(Branch.within_q(district, "branch"))
    for row in rows.order_by("id").values(*PUBLIC_FIELDS).iterator(chunk_size=2000):
        yield {
            "type": "Feature",
            "id": f"aed-{row['id']}",
            "geometry": {"type": "Point", "coordinates": [float(row["longitude"]), float(row["latitude"])]},
            "properties": _osm_tags(row),
        }


def aed_geojson(*, district: Branch | None = None) -> dict:
    return {"type": "FeatureCollection", "features": list(aed_geojson_features(district=district))}


# --- what needs staff attention -------------------------------------------------------------------

REASONS = {
    "never_checked": gettext_lazy("从未检查"),
    "check_overdue": gettext_lazy("检查逾期"),
    "out_of_service": gettext_lazy("停用待修"),
    "battery_expired": gettext_lazy("电池已过期"),
    "battery_expiring": gettext_lazy("电池即将过期"),
    "pads_expired": gettext_lazy("电极片已过期"),
    "pads_expiring": gettext_lazy("电极片即将过期"),
}


@dataclass(frozen=True)
class AttentionDates:
    today: datetime.date
    check_due_before: datetime.date  # last checked before this day: overdue
    expiry_horizon: datetime.date  # battery or pads expiring on or before this day: flagged


def attention_dates(today: datetime.date | None = None) -> AttentionDates:
    today = today or timezone.localdate()
    return AttentionDates(
        today=today,
        check_due_before=today - datetime.timedelta(days=aed_check_days()),
        expiry_horizon=today + datetime.timedelta(days=aed_expiry_warning_days()),
    )


def aeds_needing_attention(*, branch_ids: BranchIds, today: datetime.date | None = None) -> QuerySet[Aed]:
    """AEDs not removed whose check is overdue (``TRAINING_AED_CHECK_DAYS``) or never done, whose
    battery or pads expire within ``TRAINING_AED_EXPIRY_WARNING_DAYS`` (or have expired), or that
    a check found faulty. The workbench line counts these and the admin filter shows them."""
    dates = attention_dates(today)
    due = (
        Q(last_checked_on__isnull=True)
        | Q(last_checked_on__lt=dates.check_due_before)
        | Q(battery_expires_on__lte=dates.expiry_horizon)
        | Q(pads_expires_on__lte=dates.expiry_horizon)
        | Q(status=AedStatus.OUT_OF_SERVICE)
    )
    return within_branch_ids(Aed.objects.exclude(status=AedStatus.REMOVED).filter(due), branch_ids)


def attention_reasons(aed: Aed, dates: AttentionDates | None = None) -> list[str]:
    """Why ``aed`` needs attention (keys of ``REASONS``); empty when it does not."""
    dates = dates or attention_dates()
    if aed.status == AedStatus.REMOVED:
        return []
    reasons = []
    if aed.last_checked_on is None:
        reasons.append("never_checked")
    elif aed.last_checked_on < dates.check_due_before:
        reasons.append("check_overdue")
    if aed.status == AedStatus.OUT_OF_SERVICE:
        reasons.append("out_of_service")
    for part in ("battery", "pads"):
        expires = getattr(aed, f"{part}_expires_on")
        if expires is not None and expires < dates.today:
            reasons.append(f"{part}_expired")
        elif expires is not None and expires <= dates.expiry_horizon:
            reasons.append(f"{part}_expiring")
    return reasons


@dataclass(frozen=True)
class AedReminder:
    aed_id: int
    branch_id: int
    place: str
    reasons: tuple[str, ...]
    last_checked_on: datetime.date | None
    battery_expires_on: datetime.date | None
    pads_expires_on: datetime.date | None

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASONS[reason]) for reason in self.reasons]


def aed_check_reminders(today: datetime.date | None = None) -> list[AedReminder]:
    """Every AED that needs attention today, in every branch, with its reasons: what the reminder
    job sends to each branch's staff. A read; running it twice changes nothing."""
    dates = attention_dates(today)
    reminders = []
    for aed in aeds_needing_attention(branch_ids=None, today=dates.today).order_by("branch_id", "place", "id"):
        reminders.append(
            AedReminder(
                aed_id=aed.pk,
                branch_id=aed.branch_id,
                place=str(aed),
                reasons=tuple(attention_reasons(aed, dates)),
                last_checked_on=aed.last_checked_on,
                battery_expires_on=aed.battery_expires_on,
                pads_expires_on=aed.pads_expires_on,
            )
        )
    return reminders

"""The AED registry: registering and changing an AED, recording its checks, taking it out of service.

``aed_check_record`` is the one way an AED's last check date and checker change: it writes an
``AedCheck`` and updates the AED in the same transaction (a fault takes it out of service, a
ready check of a device out of service puts it back).
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.models import Branch
from redcross.scoping import ensure_branch_access
from redcross.validators import clean_text
from training.models import Aed, AedAccess, AedCheck, AedCheckResult, AedStatus, EquipmentBatch, EquipmentKind
from training.selectors.aeds import parse_coordinate

# OpenStreetMap's opening_hours syntax uses these characters ("24/7", "Mo-Fr 08:00-18:00; Sa 09:00-12:00")
OPENING_HOURS = re.compile(r"[A-Za-z0-9 ,:;/+\-]{1,120}", flags=re.ASCII)

# the fields staff set on a registered AED (the check fields change only through aed_check_record)
AED_FIELDS = (
    "branch", "place", "address", "location_detail", "level", "latitude", "longitude", "indoor", "access",
    "opening_hours", "operator", "model_name", "serial_number", "batch", "installed_on",
    "battery_expires_on", "pads_expires_on", "note",
)  # fmt: skip


def _optional_date(value, *, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        raise ValidationError({field: [_("请输入日期")]})
    return value


def _clean(values: dict, *, by) -> dict:
    branch = values.get("branch")
    if not isinstance(branch, Branch):
        raise ValidationError({"branch": [_("请选择所在区县组织")]})
    ensure_branch_access(by, branch)
    clean = {
        "branch": branch,
        "place": clean_text(values.get("place", ""), field="place", max_length=120, required=True, allow_markup=False),
        "address": clean_text(
            values.get("address", ""), field="address", max_length=200, required=True, allow_markup=False
        ),
        "location_detail": clean_text(
            values.get("location_detail", ""), field="location_detail", max_length=200, allow_markup=False
        ),
        "level": clean_text(values.get("level", ""), field="level", max_length=10, allow_markup=False),
        "latitude": parse_coordinate(values.get("latitude"), field="latitude", limit=90),
        "longitude": parse_coordinate(values.get("longitude"), field="longitude", limit=180),
        "indoor": bool(values.get("indoor", True)),
        "operator": clean_text(values.get("operator", ""), field="operator", max_length=120, allow_markup=False),
        "model_name": clean_text(values.get("model_name", ""), field="model_name", max_length=120, allow_markup=False),
        "serial_number": clean_text(
            values.get("serial_number", ""), field="serial_number", max_length=60, allow_markup=False
        ),
        "note": clean_text(values.get("note", ""), field="note", max_length=2000, allow_markup=False),
    }
    access = values.get("access") or AedAccess.YES
    if access not in AedAccess.values:
        raise ValidationError({"access": [_("请选择可用范围")]})
    clean["access"] = access
    hours = (values.get("opening_hours") or "24/7").strip()
    if not OPENING_HOURS.fullmatch(hours):
        raise ValidationError({"opening_hours": [_("请按 OpenStreetMap 格式填写，如 24/7 或 Mo-Fr 08:00-18:00")]})
    clean["opening_hours"] = hours
    batch = values.get("batch")
    if batch is not None:
        if not isinstance(batch, EquipmentBatch) or batch.kind != EquipmentKind.AED:
            raise ValidationError({"batch": [_("只能选择 AED 的采购批次")]})
        ensure_branch_access(by, batch.branch_id)
    clean["batch"] = batch
    for field in ("installed_on", "battery_expires_on", "pads_expires_on"):
        clean[field] = _optional_date(values.get(field), field=field)
    if clean["installed_on"] and clean["installed_on"] > timezone.localdate():
        raise ValidationError({"installed_on": [_("日期不能晚于今天")]})
    return clean


@transaction.atomic
def aed_register(*, by, **values) -> Aed:
    """A new AED in the registry, in service. ``values``: the ``AED_FIELDS``."""
    unknown = set(values) - set(AED_FIELDS)
    if unknown:
        raise TypeError(f"unknown AED fields: {sorted(unknown)}")
    aed = Aed(**_clean(values, by=by), created_by=by)
    with audit_context(user=by, reason="aed_register"):
        aed.save()
    return aed


@transaction.atomic
def aed_update(*, aed: Aed, by, **values) -> Aed:
    """Change an AED's place, access, hours or consumables (not its check record)."""
    unknown = set(values) - set(AED_FIELDS)
    if unknown:
        raise TypeError(f"unknown AED fields: {sorted(unknown)}")
    aed = Aed.objects.select_for_update().get(pk=aed.pk)
    ensure_branch_access(by, aed.branch_id)
    current = {field: getattr(aed, field) for field in AED_FIELDS}
    for field, value in _clean({**current, **values}, by=by).items():
        setattr(aed, field, value)
    with audit_context(user=by, reason="aed_update"):
        aed.save()
    return aed


@transaction.atomic
def aed_check_record(
    *,
    aed: Aed,
    checked_on: datetime.date,
    result: str,
    battery_expires_on: datetime.date | None = None,
    pads_expires_on: datetime.date | None = None,
    note: str = "",
    by,
) -> AedCheck:
    """Record a check of ``aed`` by ``by``: its last check date and checker, new battery or pad
    expiry when they were replaced, and its status (a fault takes it out of service)."""
    aed = Aed.objects.select_for_update().get(pk=aed.pk)
    ensure_branch_access(by, aed.branch_id)
    if aed.status == AedStatus.REMOVED:
        raise ValidationError({"aed": [_("该 AED 已撤除，不能登记检查")]})
    if result not in AedCheckResult.values:
        raise ValidationError({"result": [_("请选择检查结果")]})
    day = _optional_date(checked_on, field="checked_on")
    if day is None:
        raise ValidationError({"checked_on": [_("请输入检查日期")]})
    if day > timezone.localdate():
        raise ValidationError({"checked_on": [_("检查日期不能晚于今天")]})
    if aed.last_checked_on and day < aed.last_checked_on:
        raise ValidationError(
            {"checked_on": [_("已有 %(day)s 的检查记录，不能补登更早的检查") % {"day": aed.last_checked_on}]}
        )
    battery = _optional_date(battery_expires_on, field="battery_expires_on")
    pads = _optional_date(pads_expires_on, field="pads_expires_on")
    check = AedCheck(
        aed=aed,
        checked_on=day,
        checked_by=by,
        result=result,
        battery_expires_on=battery,
        pads_expires_on=pads,
        note=clean_text(note, field="note", max_length=2000, allow_markup=False),
    )
    aed.last_checked_on, aed.last_checked_by = day, by
    if battery:
        aed.battery_expires_on = battery
    if pads:
        aed.pads_expires_on = pads
    if result == AedCheckResult.FAULT:
        aed.status = AedStatus.OUT_OF_SERVICE
    elif aed.status == AedStatus.OUT_OF_SERVICE:
        aed.status = AedStatus.IN_SERVICE
    with audit_context(user=by, reason="aed_check_record"):
        check.save()
        aed.save(
            update_fields=["last_checked_on", "last_checked_by", "battery_expires_on", "pads_expires_on", "status"]
        )
    return check


@transaction.atomic
def aed_remove(*, aed: Aed, by, note: str = "") -> Aed:
    """The AED is taken away (moved elsewhere is a new registration): it leaves the public list."""
    aed = Aed.objects.select_for_update().get(pk=aed.pk)
    ensure_branch_access(by, aed.branch_id)
    aed.status = AedStatus.REMOVED
    if note:
        aed.note = (aed.note + "\n" if aed.note else "") + clean_text(
            note, field="note", max_length=500, allow_markup=False
        )
    with audit_context(user=by, reason="aed_remove"):
        aed.save(update_fields=["status", "note"])
    return aed

"""Equipment: batches bought under a funding line, the schools and venues that receive them, and
distributions with their signed receipts.

The one stock rule lives in ``equipment_distribute``: the batch row is locked, the quantity checked
against what is left, and ``distributed`` raised in the same transaction; the database refuses a
batch whose ``distributed`` would pass its ``quantity`` (``training_batch_stock_not_negative``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.models import Branch
from redcross.money import to_yuan
from redcross.scoping import ensure_branch_access
from redcross.uploads import validate_evidence_file
from redcross.validators import clean_text
from training.models import (
    EquipmentBatch,
    EquipmentDistribution,
    EquipmentKind,
    EquipmentSite,
    FundingLine,
    PlanFunding,
    SiteKind,
)

MAX_QUANTITY = 1_000_000


def _quantity(value, *, field: str) -> int:
    """A whole number of items, 1 to MAX_QUANTITY, or a ValidationError naming ``field``."""
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if value is not None and len(str(value)) <= 12 else None
    except ValueError:
        number = None
    if number is None:
        raise ValidationError({field: [_("请输入整数数量")]})
    if not 1 <= number <= MAX_QUANTITY:
        raise ValidationError({field: [_("数量应在 1 到 %(max)s 之间") % {"max": f"{MAX_QUANTITY:,}"}]})
    return number


def _date(value, *, field: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        raise ValidationError({field: [_("请输入日期")]})
    if value > timezone.localdate():
        raise ValidationError({field: [_("日期不能晚于今天")]})
    return value


def _check_file(file, *, field: str) -> None:
    try:
        validate_evidence_file(file)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


@transaction.atomic
def equipment_batch_register(
    *,
    branch: Branch,
    kind: str,
    quantity: int | str,
    purchased_on: datetime.date,
    funding_line: str = "",
    funding: PlanFunding | None = None,
    model_name: str = "",
    unit_price: Decimal | str | None = None,
    supplier: str = "",
    note: str = "",
    by,
) -> EquipmentBatch:
    """A purchase of one kind of equipment under a funding line (taken from ``funding``, a plan's
    funding line, when given)."""
    ensure_branch_access(by, branch)
    if kind not in EquipmentKind.values:
        raise ValidationError({"kind": [_("请选择设备类别")]})
    if funding is not None:
        if not branch.is_within(funding.plan.branch):
            raise ValidationError({"funding": [_("只能使用本组织或上级组织培训计划中的资金渠道")]})
        if funding_line and funding_line != funding.line:
            raise ValidationError({"funding_line": [_("资金渠道与所选计划资金不一致")]})
        funding_line = funding.line
    if funding_line not in FundingLine.values:
        raise ValidationError({"funding_line": [_("请选择资金渠道")]})
    price = None
    if unit_price not in (None, ""):
        try:
            price = to_yuan(unit_price)
        except (TypeError, ValueError):
            raise ValidationError({"unit_price": [_("请输入金额，最多两位小数")]}) from None
        if price < 0 or price >= Decimal("100000000"):
            raise ValidationError({"unit_price": [_("单价应在 0 到 1 亿元之间")]})
    batch = EquipmentBatch(
        branch=branch,
        kind=kind,
        quantity=_quantity(quantity, field="quantity"),
        purchased_on=_date(purchased_on, field="purchased_on"),
        funding_line=funding_line,
        funding=funding,
        model_name=clean_text(model_name, field="model_name", max_length=120, allow_markup=False),
        unit_price=price,
        supplier=clean_text(supplier, field="supplier", max_length=120, allow_markup=False),
        note=clean_text(note, field="note", max_length=2000, allow_markup=False),
        recorded_by=by,
    )
    with audit_context(user=by, reason="equipment_batch_register"):
        batch.save()
    return batch


@transaction.atomic
def equipment_site_save(
    *,
    branch: Branch,
    name: str,
    kind: str = SiteKind.SCHOOL,
    address: str = "",
    demonstration_since: int | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    note: str = "",
    site: EquipmentSite | None = None,
    by,
) -> EquipmentSite:
    """Register a school or venue (``site`` None) or change one. A demonstration school (示范校) is
    a school with the year it was named."""
    if site is not None:
        site = EquipmentSite.objects.select_for_update().get(pk=site.pk)
        ensure_branch_access(by, site.branch_id)
    ensure_branch_access(by, branch)
    if kind not in SiteKind.values:
        raise ValidationError({"kind": [_("请选择类别")]})
    if demonstration_since in ("", None):
        demonstration_since = None
    else:
        try:
            demonstration_since = int(demonstration_since)
        except (TypeError, ValueError):
            raise ValidationError({"demonstration_since": [_("请输入年份")]}) from None
        if kind != SiteKind.SCHOOL:
            raise ValidationError({"demonstration_since": [_("只有学校可以命名为红十字示范校")]})
        if not 1990 <= demonstration_since <= timezone.localdate().year:
            raise ValidationError({"demonstration_since": [_("年份应在 1990 年到今年之间")]})
    name = clean_text(name, field="name", max_length=120, required=True, allow_markup=False)
    duplicate = EquipmentSite.objects.filter(branch=branch, name=name)
    if site is not None:
        duplicate = duplicate.exclude(pk=site.pk)
    if duplicate.exists():
        raise ValidationError({"name": [_("本组织已登记同名单位“%(name)s”") % {"name": name}]})
    site = site or EquipmentSite()
    site.branch, site.name, site.kind = branch, name, kind
    site.address = clean_text(address, field="address", max_length=200, allow_markup=False)
    site.demonstration_since = demonstration_since
    site.contact_name = clean_text(contact_name, field="contact_name", max_length=50, allow_markup=False)
    site.contact_phone = clean_text(contact_phone, field="contact_phone", max_length=40, allow_markup=False)
    site.note = clean_text(note, field="note", max_length=2000, allow_markup=False)
    with audit_context(user=by, reason="equipment_site_save"):
        site.save()
    return site


@transaction.atomic
def equipment_distribute(
    *,
    batch: EquipmentBatch,
    site: EquipmentSite,
    quantity: int | str,
    distributed_on: datetime.date,
    received_by_name: str,
    receipt_scan=None,
    note: str = "",
    by,
) -> EquipmentDistribution:
    """Give ``quantity`` items of ``batch`` to ``site``: never more than the batch has left."""
    ensure_branch_access(by, batch.branch_id)
    ensure_branch_access(by, site.branch_id)
    count = _quantity(quantity, field="quantity")
    day = _date(distributed_on, field="distributed_on")
    received_by = clean_text(
        received_by_name, field="received_by_name", max_length=50, required=True, allow_markup=False
    )
    note = clean_text(note, field="note", max_length=2000, allow_markup=False)
    if receipt_scan:
        _check_file(receipt_scan, field="receipt_scan")
    locked = EquipmentBatch.objects.select_for_update().get(pk=batch.pk)
    if day < locked.purchased_on:
        raise ValidationError({"distributed_on": [_("发放日期不能早于采购日期")]})
    if count > locked.in_stock:
        raise ValidationError(
            {"quantity": [_("库存不足：本批次%(kind)s尚余 %(left)d，不能发放 %(count)d") % {
                "kind": locked.get_kind_display(), "left": locked.in_stock, "count": count}]}
        )  # fmt: skip
    distribution = EquipmentDistribution(
        batch=locked,
        site=site,
        quantity=count,
        distributed_on=day,
        received_by_name=received_by,
        note=note,
        recorded_by=by,
    )
    if receipt_scan:
        distribution.receipt_scan = receipt_scan
    with audit_context(user=by, reason="equipment_distribute"):
        EquipmentBatch.objects.filter(pk=locked.pk).update(distributed=F("distributed") + count)
        locked.refresh_from_db(fields=["distributed"])
        # the history row of the batch records the new figure too
        locked.save(update_fields=["distributed"])
        distribution.save()
    return distribution


@transaction.atomic
def distribution_receipt_attach(*, distribution: EquipmentDistribution, file, by) -> EquipmentDistribution:
    """The signed receipt's scan, when it arrives after the distribution; set once, never replaced."""
    ensure_branch_access(by, distribution.site.branch_id)
    if not by.has_perm("training.change_equipmentdistribution"):
        raise PermissionDenied(_("您没有上传该文件的权限"))
    _check_file(file, field="receipt_scan")
    locked = EquipmentDistribution.objects.select_for_update().get(pk=distribution.pk)
    if locked.receipt_scan:
        raise ValidationError({"receipt_scan": [_("已有签收单，作为记录的一部分不能替换")]})
    locked.receipt_scan.save(file.name, file, save=False)
    with audit_context(user=by, reason="distribution_receipt_attach"):
        locked.save(update_fields=["receipt_scan"])
    return locked

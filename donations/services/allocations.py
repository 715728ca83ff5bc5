"""Allocations (拨付 / 物资调拨令): where donated money and goods go, and which donations they draw from.

Rules (DESIGN.md section 4; written on the public pages too):
- An allocation counts once a second person, not its registrar, confirms it (双人双签). For goods
  the registrar and the confirmer are both warehouse keepers: their signatures are the two
  signatures on each stock-out.
- A directed donation (定向) goes only to its designated recipient.
- Undirected cash is drawn first in, first out by received time within the campaign and branch;
  goods are drawn from the lots (donation item lines) they came in, named on the transfer order.
- An allocation never takes more from a donation than remains of it: the draw is reserved when
  the allocation is registered (the cash pool's queue ``OpenCash``, pending stock-outs), released
  if it is cancelled.
Allocations of one campaign are serialised by locking the campaign row, so two clerks drawing
from the same pool at once cannot both take the same yuan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import (
    Allocation,
    AllocationBasis,
    AllocationPlan,
    AllocationPlanLine,
    AllocationSource,
    AllocationStatus,
    Campaign,
    Donation,
    DonationItem,
    DonationKind,
    DonationStatus,
    MovementKind,
    MovementStatus,
    OpenCash,
    Recipient,
    RecipientConfirmation,
    StockMovement,
)
from donations.services.figures import keep_figures
from donations.services.inputs import money_input, quantity_input, require_permission, text_input
from donations.services.stock import active_warehouse, lot_stock, movement_serial
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.numbering import format_serial, sequence_next
from redcross.scoping import ensure_branch_access
from redcross.signoff import second_signature_sign

# rows locked and read per query while drawing first in, first out from a cash pool
_POOL_CHUNK = 5000


def _date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, date):
        raise ValidationError({field: [_("日期格式不正确")]})
    if value > timezone.localdate():
        raise ValidationError({field: [_("日期不能晚于今天")]})
    if value.year < 2000:
        raise ValidationError({field: [_("日期过早，请核对")]})
    return value


def _locked_campaign(campaign: Campaign | int) -> Campaign:
    campaign_id = campaign.pk if isinstance(campaign, Campaign) else campaign
    try:
        return Campaign.objects.select_for_update().select_related("branch").get(pk=campaign_id)
    except (Campaign.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"campaign": [_("募捐活动不存在")]}) from None


def active_recipient(recipient: Recipient | int, by, field: str = "recipient") -> Recipient:
    recipient_id = recipient.pk if isinstance(recipient, Recipient) else recipient
    try:
        found = Recipient.objects.get(pk=recipient_id, is_active=True)
    except (Recipient.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field: [_("受赠单位不存在或已停用")]}) from None
    return found


def allocation_serial(branch: Branch, kind: str, on: date) -> str:
    prefix = f"{branch.code}{'BF' if kind == DonationKind.CASH else 'DB'}"
    number = sequence_next(scope=f"allocation:{prefix}:{on.year}")
    return format_serial(prefix=prefix, year=on.year, number=number)


@transaction.atomic
def allocation_plan_register(
    *,
    by,
    branch: Branch,
    document_number: str,
    title: str,
    issuing_body: str,
    issued_on: date,
    lines: Iterable[Mapping[str, Any]],
    attachment=None,
    note: str = "",
) -> AllocationPlan:
    """Record a plan (分配方案) with its document number and the lines it decides."""
    ensure_branch_access(by, branch)
    require_permission(by, "donations.add_allocationplan", _("您没有登记分配方案的权限"))
    document_number = text_input(document_number, "document_number", 80, required=True)
    if AllocationPlan.objects.filter(branch=branch, document_number=document_number).exists():
        raise ValidationError({"document_number": [_("该文号的分配方案已登记")]})
    plan = AllocationPlan(
        branch=branch,
        document_number=document_number,
        title=text_input(title, "title", 200, required=True),
        issuing_body=text_input(issuing_body, "issuing_body", 120, required=True),
        issued_on=_date(issued_on, "issued_on"),
        note=text_input(note, "note", 2000),
        created_by=by,
    )
    if attachment is not None:
        plan.attachment = attachment
    rows: list[AllocationPlanLine] = []
    for index, raw in enumerate(lines):
        prefix = f"lines[{index}]"
        kind = raw.get("kind")
        if kind not in DonationKind.values:
            raise ValidationError({f"{prefix}.kind": [_("请选择资金或物资")]})
        campaign = raw.get("campaign")
        if not isinstance(campaign, Campaign) or not branch.is_within(campaign.branch):
            raise ValidationError({f"{prefix}.campaign": [_("募捐活动不存在或不属于本组织")]})
        line = AllocationPlanLine(
            campaign=campaign,
            recipient=active_recipient(raw.get("recipient"), by, f"{prefix}.recipient"),
            kind=kind,
            note=text_input(raw.get("note"), f"{prefix}.note", 200),
        )
        if kind == DonationKind.CASH:
            line.amount = money_input(raw.get("amount"), f"{prefix}.amount")
        else:
            line.item_name = text_input(raw.get("item_name"), f"{prefix}.item_name", 120, required=True)
            line.quantity = quantity_input(raw.get("quantity"), f"{prefix}.quantity")
            line.unit = text_input(raw.get("unit"), f"{prefix}.unit", 20, required=True)
        rows.append(line)
    if not rows:
        raise ValidationError({"lines": [_("分配方案至少有一条明细")]})
    with audit_context(user=by, reason="allocation_plan_register"):
        plan.save()
        for line in rows:
            line.plan = plan
            line.save()
    return plan


def _check_plan_line(plan_line: AllocationPlanLine | None, *, campaign: Campaign, recipient: Recipient, kind: str):
    if plan_line is None:
        raise ValidationError({"plan_line": [_("按分配方案拨付须选择方案明细")]})
    if (plan_line.campaign_id, plan_line.recipient_id, plan_line.kind) != (campaign.pk, recipient.pk, kind):
        raise ValidationError({"plan_line": [_("拨付的募捐活动、受赠单位或类型与分配方案明细不一致")]})


def _pool_entry_for(donation: Donation) -> OpenCash | None:
    """What the pool should hold for a donation: its undrawn cash if confirmed, cash, undirected."""
    if (
        donation.kind != DonationKind.CASH
        or donation.status != DonationStatus.CONFIRMED
        or donation.designated_recipient_id is not None
    ):
        return None
    remaining = donation.cash_remaining
    if remaining <= 0:
        return None
    return OpenCash(
        donation=donation,
        campaign_id=donation.campaign_id,
        branch_id=donation.branch_id,
        received_at=donation.received_at,
        remaining=remaining,
    )


def cash_pool_sync(*, donation_ids: Iterable[int]) -> None:
    """Recompute the pool rows of these donations from the donations and their sources.

    Called inside the transaction of every write that changes what a donation has left to
    allocate: confirmation, refund, correction, cancelled allocation.
    """
    ids = sorted(set(donation_ids))
    if not ids:
        return
    OpenCash.objects.filter(donation_id__in=ids).delete()
    entries = [entry for d in Donation.objects.filter(pk__in=ids) if (entry := _pool_entry_for(d)) is not None]
    OpenCash.objects.bulk_create(entries)


@transaction.atomic
def cash_pool_rebuild(*, campaign: Campaign | None = None) -> int:
    """Rebuild the pool from the donations and their sources (after a bulk load such as
    ``seed_donations``); one INSERT ... SELECT, returns the number of rows."""
    drawn = (
        AllocationSource.objects.filter(donation=OuterRef("pk"), item__isnull=True)
        .exclude(allocation__status=AllocationStatus.CANCELLED)
        .values("donation")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    donations = (
        Donation.objects.filter(
            kind=DonationKind.CASH, status=DonationStatus.CONFIRMED, designated_recipient__isnull=True
        )
        .annotate(
            left=F("amount") - F("refunded_amount") - Coalesce(Subquery(drawn), Value(Decimal("0")), output_field=money)
        )
        .filter(left__gte=Decimal("0.005"))
    )
    pool = OpenCash.objects.all()
    if campaign is not None:
        donations = donations.filter(campaign=campaign)
        pool = pool.filter(campaign=campaign)
    pool.delete()
    select_sql, params = donations.values_list(
        "pk", "campaign_id", "branch_id", "received_at", "left"
    ).query.sql_with_params()
    table = connection.ops.quote_name(OpenCash._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (donation_id, campaign_id, branch_id, received_at, remaining) "  # noqa: S608
            f"SELECT * FROM ({select_sql}) gifts",
            params,
        )
        return cursor.rowcount


@dataclass(frozen=True)
class _CashDraw:
    """What a payment takes from the pool's queue: its front up to ``whole_until`` whole, then
    ``partial`` (donation id, amount) from the next gift, if any."""

    whole_until: tuple[datetime, int] | None
    partial: tuple[int, Decimal] | None


def _plan_cash_draw(*, campaign: Campaign, branch: Branch, amount: Decimal) -> _CashDraw:
    """Find, oldest first, the gifts a payment takes; locks the pool's rows it reads."""
    pool = OpenCash.objects.filter(campaign=campaign, branch=branch)
    needed = amount
    last: tuple[datetime, int] | None = None
    partial: tuple[int, Decimal] | None = None
    while needed > 0 and partial is None:
        page = pool
        if last is not None:
            page = page.filter(Q(received_at__gt=last[0]) | Q(received_at=last[0], donation_id__gt=last[1]))
        rows = list(
            page.order_by("received_at", "donation_id")
            .select_for_update()
            .values_list("donation_id", "received_at", "remaining")[:_POOL_CHUNK]
        )
        if not rows:
            break
        for donation_id, received_at, remaining in rows:
            if remaining > needed:
                partial = (donation_id, needed)
                needed = Decimal("0.00")
                break
            needed -= remaining
            last = (received_at, donation_id)
            if needed == 0:
                break  # this gift's remainder covered exactly what was left: take nothing more
    if needed > 0:
        raise ValidationError(
            {"amount": [_("该募捐活动非定向捐款可拨付余额为 %(available)s 元，不足 %(amount)s 元") % {
                "available": amount - needed, "amount": amount}]}
        )  # fmt: skip
    return _CashDraw(whole_until=last, partial=partial)


def _write_cash_draw(*, allocation: Allocation, draw: _CashDraw) -> None:
    """One source per gift taken; the gifts taken whole leave the queue.

    The whole-taken front of the queue becomes sources in one INSERT ... SELECT and is then
    deleted in one statement: no Python object per gift, which is what keeps a payment over
    100k small gifts within seconds.
    """
    pool = OpenCash.objects.filter(campaign_id=allocation.campaign_id, branch_id=allocation.branch_id)
    if draw.whole_until is not None:
        received_at, donation_id = draw.whole_until
        front = pool.filter(Q(received_at__lt=received_at) | Q(received_at=received_at, donation_id__lte=donation_id))
        select_sql, params = front.values_list("donation_id", "remaining").query.sql_with_params()
        sources = connection.ops.quote_name(AllocationSource._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {sources} (allocation_id, donation_id, amount) "  # noqa: S608 - names from _meta
                f"SELECT %s, front.donation_id, front.remaining FROM ({select_sql}) front",
                [allocation.pk, *params],
            )
        front.delete()
    if draw.partial is not None:
        donation_id, part = draw.partial
        AllocationSource.objects.create(allocation=allocation, donation_id=donation_id, amount=part)
        pool.filter(donation_id=donation_id).update(remaining=F("remaining") - part)


@transaction.atomic
def allocation_register_cash(
    *,
    by,
    campaign: Campaign | int,
    recipient: Recipient | int,
    amount: Any,
    allocated_on: date,
    branch: Branch | None = None,
    plan_line: AllocationPlanLine | None = None,
    directed_donation: Donation | int | None = None,
    voucher_number: str = "",
    voucher=None,
    note: str = "",
) -> Allocation:
    """Register a cash payment to a recipient and reserve the donations it draws from.

    With ``directed_donation`` the money comes from that donation, on the donor's wish, and
    only to its designated recipient; otherwise from the campaign's undirected pool at
    ``branch`` (default: the campaign's branch) by a plan line, first in first out.
    """
    campaign = _locked_campaign(campaign)
    branch = branch or campaign.branch
    ensure_branch_access(by, branch)
    require_permission(by, "donations.add_allocation", _("您没有登记拨付的权限"))
    recipient = active_recipient(recipient, by)
    amount = money_input(amount, "amount")
    allocated_on = _date(allocated_on, "allocated_on")
    allocation = Allocation(
        branch=branch,
        campaign=campaign,
        recipient=recipient,
        kind=DonationKind.CASH,
        amount=amount,
        allocated_on=allocated_on,
        voucher_number=text_input(voucher_number, "voucher_number", 60),
        note=text_input(note, "note", 2000),
        registered_by=by,
    )
    if voucher is not None:
        allocation.voucher = voucher
    if directed_donation is not None:
        donation_id = directed_donation.pk if isinstance(directed_donation, Donation) else directed_donation
        try:
            donation = Donation.objects.select_for_update().get(pk=donation_id)
        except (Donation.DoesNotExist, TypeError, ValueError):
            raise ValidationError({"directed_donation": [_("捐赠不存在")]}) from None
        if donation.designated_recipient_id is None:
            raise ValidationError({"directed_donation": [_("该捐赠不是定向捐赠，请按分配方案拨付")]})
        if donation.designated_recipient_id != recipient.pk:
            raise ValidationError(
                {"recipient": [_("定向捐赠 %(serial)s 只能拨付给捐赠人指定的“%(name)s”") % {
                    "serial": donation.serial, "name": donation.designated_recipient}]}
            )  # fmt: skip
        if (donation.campaign_id, donation.branch_id) != (campaign.pk, branch.pk):
            raise ValidationError({"directed_donation": [_("该捐赠不属于本募捐活动或本组织")]})
        if donation.kind != DonationKind.CASH or donation.status != DonationStatus.CONFIRMED:
            raise ValidationError({"directed_donation": [_("只有已复核的捐款可以拨付")]})
        remaining = donation.cash_remaining
        if amount > remaining:
            raise ValidationError(
                {"amount": [_("捐赠 %(serial)s 尚可拨付 %(remaining)s 元，不足 %(amount)s 元") % {
                    "serial": donation.serial, "remaining": remaining, "amount": amount}]}
            )  # fmt: skip
        allocation.basis = AllocationBasis.DONOR_WISH
        draw = None
    else:
        _check_plan_line(plan_line, campaign=campaign, recipient=recipient, kind=DonationKind.CASH)
        already = (
            plan_line.allocations.exclude(status=AllocationStatus.CANCELLED).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        already = Decimal(already).quantize(Decimal("0.01"))  # SQLite's sum drops the trailing zeros
        if already + amount > plan_line.amount:
            raise ValidationError(
                {"amount": [_("超出分配方案明细的金额：方案 %(planned)s 元，已拨付 %(already)s 元") % {
                    "planned": plan_line.amount, "already": already}]}
            )  # fmt: skip
        allocation.basis = AllocationBasis.PLAN
        allocation.plan_line = plan_line
        draw = _plan_cash_draw(campaign=campaign, branch=branch, amount=amount)
    allocation.serial = allocation_serial(branch, DonationKind.CASH, allocated_on)
    with keep_figures() as kept:  # what it reserves counts as 待复核 in the books
        with audit_context(user=by, reason="allocation_register"):
            allocation.save()
        kept.track_new(allocations=[allocation.pk])
        if draw is None:
            AllocationSource.objects.create(allocation=allocation, donation=donation, amount=amount)
        else:
            _write_cash_draw(allocation=allocation, draw=draw)
    return allocation


@transaction.atomic
def allocation_register_goods(
    *,
    by,
    campaign: Campaign | int,
    recipient: Recipient | int,
    allocated_on: date,
    lines: Iterable[Mapping[str, Any]],
    branch: Branch | None = None,
    plan_line: AllocationPlanLine | None = None,
    note: str = "",
) -> Allocation:
    """A transfer order (物资调拨令): goods from named lots and warehouses to a recipient.

    The first keeper registers it; the stock-outs count once a second keeper confirms
    (``allocation_confirm``). Lots of a directed donation go only to its designated recipient;
    a line without ``plan_line`` must be all directed goods for this recipient.
    """
    campaign = _locked_campaign(campaign)
    branch = branch or campaign.branch
    ensure_branch_access(by, branch)
    require_permission(by, "donations.sign_stockmovement", _("物资出库须由仓库管理员登记"))
    recipient = active_recipient(recipient, by)
    allocated_on = _date(allocated_on, "allocated_on")
    moved_at = timezone.now() if allocated_on == timezone.localdate() else _noon(allocated_on)
    sources: list[AllocationSource] = []
    movements: list[StockMovement] = []
    all_directed = True
    for index, raw in enumerate(lines):
        prefix = f"lines[{index}]"
        item_id = raw.get("item").pk if isinstance(raw.get("item"), DonationItem) else raw.get("item")
        try:
            item = DonationItem.objects.select_for_update().select_related("donation").get(pk=item_id)
        except (DonationItem.DoesNotExist, TypeError, ValueError):
            raise ValidationError({f"{prefix}.item": [_("物资批次不存在")]}) from None
        warehouse = active_warehouse(raw.get("warehouse"), f"{prefix}.warehouse", branch)
        quantity = quantity_input(raw.get("quantity"), f"{prefix}.quantity")
        donation = item.donation
        if (donation.campaign_id, donation.branch_id) != (campaign.pk, branch.pk):
            raise ValidationError({f"{prefix}.item": [_("该批物资不属于本募捐活动或本组织")]})
        if donation.status != DonationStatus.CONFIRMED:
            raise ValidationError({f"{prefix}.item": [_("捐赠 %(serial)s 尚未复核") % {"serial": donation.serial}]})
        if donation.designated_recipient_id is not None:
            if donation.designated_recipient_id != recipient.pk:
                raise ValidationError(
                    {"recipient": [_("定向捐赠 %(serial)s 的物资只能调拨给捐赠人指定的单位") % {
                        "serial": donation.serial}]}
                )  # fmt: skip
        else:
            all_directed = False
        available = lot_stock(item.pk, warehouse.pk, include_pending_out=True)
        already_here = sum(
            (m.quantity for m in movements if m.item_id == item.pk and m.warehouse_id == warehouse.pk), 0
        )
        if available + already_here < quantity:
            raise ValidationError(
                {f"{prefix}.quantity": [_("库存不足：%(name)s 在%(warehouse)s可出库 %(available)s%(unit)s") % {
                    "name": item.name, "warehouse": warehouse.name,
                    "available": f"{available + already_here:g}", "unit": item.unit}]}
            )  # fmt: skip
        sources.append(AllocationSource(donation=donation, item=item, warehouse=warehouse, quantity=quantity))
        movements.append(
            StockMovement(
                warehouse=warehouse,
                item=item,
                kind=MovementKind.STOCK_OUT,
                quantity=-quantity,
                moved_at=moved_at,
                recorded_by=by,
            )
        )
    if not sources:
        raise ValidationError({"lines": [_("物资调拨令至少有一条明细")]})
    if all_directed:
        basis = AllocationBasis.DONOR_WISH
    else:
        _check_plan_line(plan_line, campaign=campaign, recipient=recipient, kind=DonationKind.IN_KIND)
        already = Decimal(
            AllocationSource.objects.filter(allocation__plan_line=plan_line)
            .exclude(allocation__status=AllocationStatus.CANCELLED)
            .aggregate(total=Sum("quantity"))["total"]
            or 0
        )
        ordered = sum((source.quantity for source in sources), Decimal("0"))
        if already + ordered > plan_line.quantity:
            raise ValidationError(
                {"lines": [_("超出分配方案明细的数量：方案 %(planned)s%(unit)s，已调拨 %(already)s%(unit)s") % {
                    "planned": f"{plan_line.quantity:g}", "already": f"{already:g}", "unit": plan_line.unit}]}
            )  # fmt: skip
        basis = AllocationBasis.PLAN
    allocation = Allocation(
        branch=branch,
        campaign=campaign,
        recipient=recipient,
        kind=DonationKind.IN_KIND,
        basis=basis,
        plan_line=plan_line if basis == AllocationBasis.PLAN else None,
        allocated_on=allocated_on,
        note=text_input(note, "note", 2000),
        registered_by=by,
        serial=allocation_serial(branch, DonationKind.IN_KIND, allocated_on),
    )
    with audit_context(user=by, reason="allocation_register"):
        allocation.save()
        for source in sources:
            source.allocation = allocation
        AllocationSource.objects.bulk_create(sources)
        for movement in movements:
            movement.allocation = allocation
            movement.serial = movement_serial(warehouse=movement.warehouse, on=allocated_on)
            movement.save()
    return allocation


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=12))


@transaction.atomic
def allocation_confirm(*, allocation: Allocation, by) -> Allocation:
    """The second signature. For goods: the second keeper signs every stock-out of the order."""
    from donations.services.warehouse import confirm_movement_locked

    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    ensure_branch_access(by, allocation.branch_id)
    if allocation.kind == DonationKind.CASH:
        require_permission(by, "donations.confirm_allocation", _("您没有复核拨付的权限"))
    else:
        require_permission(by, "donations.sign_stockmovement", _("物资出库须由第二名仓库管理员签字"))
    if allocation.status != AllocationStatus.REGISTERED:
        raise ValidationError({"status": [_("拨付 %(serial)s 不是待复核状态") % {"serial": allocation.serial}]})
    signed = second_signature_sign(allocation, by=by)
    with keep_figures(allocations=[allocation.pk]), audit_context(user=by, reason="allocation_confirm"):
        for movement in allocation.movements.select_related("item").order_by("item_id", "id"):
            confirm_movement_locked(movement=movement, by=by)
        allocation.status = AllocationStatus.CONFIRMED
        allocation.save(update_fields=["status", *signed])
    return allocation


@transaction.atomic
def allocation_cancel(*, allocation: Allocation, by, reason: str) -> Allocation:
    """Withdraw an allocation that is not confirmed yet; its reserved money and goods return."""
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    _locked_campaign(allocation.campaign_id)
    ensure_branch_access(by, allocation.branch_id)
    require_permission(by, "donations.change_allocation", _("您没有撤销拨付的权限"))
    reason = text_input(reason, "reason", 500, required=True)
    if allocation.status != AllocationStatus.REGISTERED:
        raise ValidationError({"status": [_("已复核的拨付不能撤销；请登记更正")]})
    if allocation.is_retroactive:
        raise ValidationError({"status": [_("补办手续的拨付随捐赠一起复核，不能单独撤销")]})
    with keep_figures(allocations=[allocation.pk]), audit_context(user=by, reason=f"allocation_cancel: {reason[:80]}"):
        for movement in allocation.movements.all():
            movement.status = MovementStatus.CANCELLED
            movement.reason = reason
            movement.save(update_fields=["status", "reason"])
        allocation.status = AllocationStatus.CANCELLED
        allocation.note = (allocation.note + "\n" if allocation.note else "") + _("撤销：%(reason)s") % {
            "reason": reason
        }
        allocation.save(update_fields=["status", "note"])
    # the cash it had drawn returns to the pool
    cash_pool_sync(donation_ids=allocation.sources.filter(item__isnull=True).values_list("donation_id", flat=True))
    return allocation


@transaction.atomic
def recipient_confirmation_record(
    *,
    allocation: Allocation,
    by,
    signed_by_name: str,
    signed_at: datetime,
    quantities_received: Mapping[int | str, Any] | None = None,
    amount_received: Any = None,
    scan=None,
    note: str = "",
) -> RecipientConfirmation:
    """The recipient counted, checked and took in the allocation (清点、查验、入库)."""
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    ensure_branch_access(by, allocation.branch_id)
    require_permission(by, "donations.add_recipientconfirmation", _("您没有登记签收的权限"))
    if allocation.status != AllocationStatus.CONFIRMED and not allocation.is_retroactive:
        raise ValidationError({"allocation": [_("拨付复核后才能登记受赠单位签收")]})
    if hasattr(allocation, "recipient_confirmation"):
        raise ValidationError({"allocation": [_("该拨付已登记签收")]})
    if not isinstance(signed_at, datetime):
        raise ValidationError({"signed_at": [_("签收时间格式不正确")]})
    if timezone.is_naive(signed_at):
        signed_at = timezone.make_aware(signed_at)
    if signed_at > timezone.now():
        raise ValidationError({"signed_at": [_("签收时间不能晚于现在")]})
    confirmation = RecipientConfirmation(
        allocation=allocation,
        signed_by_name=text_input(signed_by_name, "signed_by_name", 60, required=True),
        signed_at=signed_at,
        note=text_input(note, "note", 2000),
        recorded_by=by,
    )
    if allocation.kind == DonationKind.CASH:
        received = (
            allocation.amount if amount_received in (None, "") else money_input(amount_received, "amount_received")
        )
        if received > allocation.amount:
            raise ValidationError({"amount_received": [_("实收金额不能多于拨付金额")]})
        confirmation.amount_received = received
    else:
        sources = {str(source.pk): source for source in allocation.sources.all()}
        given = {str(key): value for key, value in (quantities_received or {}).items()}
        unknown = set(given) - set(sources)
        if unknown:
            raise ValidationError({"quantities_received": [_("签收明细与调拨令不符")]})
        counted = {}
        for key, source in sources.items():
            quantity = (
                source.quantity if given.get(key) in (None, "") else quantity_input(given[key], "quantities_received")
            )
            if quantity > source.quantity:
                raise ValidationError({"quantities_received": [_("实收数量不能多于调拨数量")]})
            counted[key] = str(quantity)
        confirmation.quantities_received = counted
    if scan is not None:
        confirmation.scan = scan
    with audit_context(user=by, reason="recipient_confirmation_record"):
        confirmation.save()
    return confirmation


__all__ = [
    "allocation_cancel",
    "allocation_confirm",
    "allocation_plan_register",
    "allocation_register_cash",
    "allocation_register_goods",
    "cash_pool_rebuild",
    "cash_pool_sync",
    "recipient_confirmation_record",
]


def allocation_confirm_retroactive(*, donation: Donation, by) -> None:
    """Called by ``donation_confirm`` inside its transaction: the same second signature."""
    # by id, not by a join over the sources: the join repeats an allocation once per lot (and
    # PostgreSQL refuses DISTINCT with FOR UPDATE), which confirmed and audited it once per lot
    drawing = AllocationSource.objects.filter(donation=donation).values("allocation_id")
    for allocation in Allocation.objects.select_for_update().filter(
        pk__in=drawing, is_retroactive=True, status=AllocationStatus.REGISTERED
    ):
        # registered with the donation by its registrar: the donation's second signature is this one's
        signed = second_signature_sign(allocation, by=by)
        allocation.status = AllocationStatus.CONFIRMED
        with keep_figures(allocations=[allocation.pk]), audit_context(user=by, reason="allocation_confirm"):
            allocation.save(update_fields=["status", *signed])

"""Disbursements (救助发放), their second signature, cancellation, batches, and 博爱家园 shares
and dividends.

Every disbursement locks the project's row first, then the beneficiary's, so disbursements of one
project queue: the checks below read figures nobody else can change until the transaction ends.
- at most one live disbursement per beneficiary, project and period (database constraint too);
- the approved amount, the project's cap per person or household, and the yearly cap (what the
  beneficiary received this calendar year in every relief project, plus this);
- the project's funds: cash never beyond the cash its allocations brought in less what is already
  paid or waiting for its second signature; goods never beyond what each lot brought in.
Cash handed over in cash counts once a second person signs (双人双签, ``aid_confirm``); a bank
transfer carries its voucher number. Goods come out of what the project's transfer orders
(物资调拨令) brought in: the warehouse stock-out was signed by two keepers in the donations app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import AllocationSource, AllocationStatus
from donations.services.inputs import quantity_input
from donations.valuation import lot_value
from redcross.audit import audit_context
from redcross.numbering import sequence_next_block
from redcross.scoping import ensure_branch_access
from redcross.signoff import second_signature_sign
from redcross.uploads import validate_evidence_file
from relief.models import (
    Aid,
    AidGoodsLine,
    AidMethod,
    AidPurpose,
    AidStatus,
    Application,
    ApplicationStatus,
    Beneficiary,
    LivelihoodShare,
    Project,
    ProjectKind,
    ProjectStatus,
)
from relief.services.inputs import date_input, money_input, require_permission, text_input
from relief.services.projects import locked_project

ZERO = Decimal("0.00")


def _number(project: Project, on: date, count: int = 1) -> list[str]:
    prefix = f"{project.branch.code}FF"
    first = sequence_next_block(scope=f"relief-aid:{prefix}:{on.year}", count=count)
    return [f"{prefix}{on.year}-{n:06d}" for n in range(first, first + count)]


def _file(value, field: str):
    if value is None:
        return None
    try:
        validate_evidence_file(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return value


def _year_total(beneficiary_id: int, year: int) -> Decimal:
    total = (
        Aid.objects.filter(beneficiary_id=beneficiary_id, year=year)
        .exclude(status=AidStatus.CANCELLED)
        .aggregate(cash=Sum("amount"), goods=Sum("goods_value"))
    )
    return Decimal(total["cash"] or 0) + Decimal(total["goods"] or 0)


def _goods_lines(project: Project, goods: Iterable[Mapping[str, Any]]) -> list[AidGoodsLine]:
    lines = []
    for index, raw in enumerate(goods):
        prefix = f"goods[{index}]"
        source_id = raw.get("source").pk if isinstance(raw.get("source"), AllocationSource) else raw.get("source")
        try:
            source = AllocationSource.objects.select_related("item", "allocation").get(
                pk=source_id, allocation__relief_funding__project=project,
                allocation__status=AllocationStatus.CONFIRMED, item__isnull=False,
            )  # fmt: skip
        except (AllocationSource.DoesNotExist, TypeError, ValueError):
            raise ValidationError({f"{prefix}.source": [_("该批物资不是本项目调入的物资")]}) from None
        quantity = quantity_input(raw.get("quantity"), f"{prefix}.quantity")
        given = AidGoodsLine.objects.filter(source=source).exclude(aid__status=AidStatus.CANCELLED)
        taken = (given.aggregate(q=Sum("quantity"))["q"] or 0) + sum(
            (line.quantity for line in lines if line.source_id == source.pk), Decimal(0)
        )
        if taken + quantity > source.quantity:
            left = f"{source.quantity - taken:g}"
            message = _("%(name)s 本项目可发放 %(left)s%(unit)s") % {
                "name": source.item.name, "left": left, "unit": source.item.unit}  # fmt: skip
            raise ValidationError({f"{prefix}.quantity": [message]})
        value = lot_value(quantity, source.item.unit_value, source.item.value_basis) or ZERO
        lines.append(AidGoodsLine(source=source, quantity=quantity, value=value))
    if not lines:
        raise ValidationError({"goods": [_("请填写发放的物资")]})
    return lines


@dataclass(frozen=True)
class _Checked:
    amount: Decimal
    goods_value: Decimal
    lines: list[AidGoodsLine]


def _check_limits(
    *, project: Project, beneficiary_id: int, year: int, amount: Decimal, goods_value: Decimal, limit: Decimal | None,
    period: str, check_caps: bool = True,
) -> None:  # fmt: skip
    value = amount + goods_value
    if (
        Aid.objects.filter(project=project, beneficiary_id=beneficiary_id, period=period)
        .exclude(status=AidStatus.CANCELLED)
        .exists()
    ):
        raise ValidationError({"beneficiary": [_("该受助人在本项目本期已获救助，不能重复发放")]})
    if limit is not None and value > limit:
        raise ValidationError({"amount": [_("超过批准金额 %(limit)s 元") % {"limit": limit}]})
    if check_caps and project.cap_per_project is not None and value > project.cap_per_project:
        raise ValidationError({"amount": [_("超过本项目每人（户）限额 %(cap)s 元") % {"cap": project.cap_per_project}]})
    if check_caps and project.cap_per_year is not None:
        already = _year_total(beneficiary_id, year)
        if already + value > project.cap_per_year:
            raise ValidationError({"amount": [_("超过年度限额 %(cap)s 元：该受助人 %(year)d 年已获 %(already)s 元") % {
                "cap": project.cap_per_year, "year": year, "already": already}]})  # fmt: skip
    if amount > project.cash_balance:
        raise ValidationError({"amount": [_("项目资金不足：尚可发放 %(left)s 元") % {"left": project.cash_balance}]})
    if goods_value > project.goods_balance:
        raise ValidationError({"goods": [_("项目物资价值不足：尚余 %(left)s 元") % {"left": project.goods_balance}]})


def _write(project: Project, aids: Sequence[Aid], lines: dict[int, list[AidGoodsLine]], by, reason: str) -> None:
    cash = sum((aid.amount for aid in aids), ZERO)
    goods = sum((aid.goods_value for aid in aids), ZERO)
    with audit_context(user=by, reason=reason):
        for index, aid in enumerate(aids):
            try:
                with transaction.atomic():
                    aid.save()
            except IntegrityError:
                raise ValidationError({"beneficiary": [_("该受助人在本项目本期已获救助，不能重复发放")]}) from None
            for line in lines.get(index, []):
                line.aid = aid
            AidGoodsLine.objects.bulk_create(lines.get(index, []))
        Project.objects.filter(pk=project.pk).update(paid_out=F("paid_out") + cash, goods_out=F("goods_out") + goods)
        project.refresh_from_db(fields=["paid_out", "goods_out"])
        project.save(update_fields=["paid_out", "goods_out"])  # a history row with the new totals


@transaction.atomic
def aid_disburse(
    *,
    by,
    application: Application | int,
    method: str,
    disbursed_on: date | None = None,
    amount: Any = None,
    goods: Iterable[Mapping[str, Any]] = (),
    voucher_number: str = "",
    voucher=None,
    receipt_scan=None,
) -> Aid:
    """Disburse the aid an approved application was granted: cash (bank transfer with its voucher,
    or cash awaiting the second signature) or goods from what the project's transfer orders
    brought in; the recipient's signature or thumbprint scan."""
    application_id = application.pk if isinstance(application, Application) else application
    try:
        project_id = Application.objects.values_list("project_id", flat=True).get(pk=application_id)
    except (Application.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"application": [_("救助申请不存在")]}) from None
    project = locked_project(project_id)  # the project first, then the beneficiary: one order everywhere
    application = Application.objects.select_for_update().get(pk=application_id)
    beneficiary = Beneficiary.objects.select_for_update().get(pk=application.beneficiary_id)
    ensure_branch_access(by, application.branch_id)
    require_permission(by, "relief.add_aid", _("您没有登记救助发放的权限"))
    if project.is_referral:
        raise ValidationError({"application": [_("转介项目不经本会发放")]})
    if project.status != ProjectStatus.OPEN:
        raise ValidationError({"project": [_("项目不在实施中，不能发放")]})
    if application.status != ApplicationStatus.APPROVED:
        raise ValidationError(
            {"application": [_("申请 %(number)s 未获批准，不能发放") % {"number": application.number}]}
        )
    if method not in AidMethod.values:
        raise ValidationError({"method": [_("请选择发放方式")]})
    on = date_input(disbursed_on or timezone.localdate(), "disbursed_on", not_future=True)
    if method == AidMethod.GOODS:
        lines = _goods_lines(project, goods)
        cash, goods_value = ZERO, sum((line.value for line in lines), ZERO)
    else:
        lines = []
        cash = money_input(application.approved_amount if amount in (None, "") else amount, "amount")
        goods_value = ZERO
    voucher_number = text_input(voucher_number, "voucher_number", 60, required=method == AidMethod.BANK)
    _check_limits(
        project=project, beneficiary_id=beneficiary.pk, year=on.year, amount=cash, goods_value=goods_value,
        limit=application.approved_amount, period="",
    )  # fmt: skip
    aid = Aid(
        number=_number(project, on)[0],
        project=project,
        application=application,
        beneficiary=beneficiary,
        branch=application.branch,
        method=method,
        amount=cash,
        goods_value=goods_value,
        disbursed_on=on,
        year=on.year,
        voucher_number=voucher_number,
        status=AidStatus.REGISTERED if method == AidMethod.CASH else AidStatus.PAID,
        registered_by=by,
    )
    if voucher is not None:
        aid.voucher = _file(voucher, "voucher")
    if receipt_scan is not None:
        aid.receipt_scan = _file(receipt_scan, "receipt_scan")
    _write(project, [aid], {0: lines}, by, "relief_aid_disburse")
    return aid


@transaction.atomic
def aid_confirm(*, by, aid: Aid) -> Aid:
    """The second signature on cash handed over in cash (双人双签)."""
    aid = Aid.objects.select_for_update().get(pk=aid.pk)
    ensure_branch_access(by, aid.branch_id)
    require_permission(by, "relief.confirm_aid", _("您没有现金发放签字的权限"))
    if aid.status != AidStatus.REGISTERED:
        raise ValidationError({"status": [_("发放 %(number)s 不是待签字状态") % {"number": aid.number}]})
    signed = second_signature_sign(aid, by=by)
    aid.status = AidStatus.PAID
    with audit_context(user=by, reason="relief_aid_confirm"):
        aid.save(update_fields=["status", *signed])
    return aid


@transaction.atomic
def aid_receipt_record(*, by, aid: Aid, receipt_scan) -> Aid:
    """The recipient's signature or thumbprint scan, when it comes after the disbursement."""
    aid = Aid.objects.select_for_update().get(pk=aid.pk)
    ensure_branch_access(by, aid.branch_id)
    require_permission(by, "relief.change_aid", _("您没有登记签收的权限"))
    if aid.status == AidStatus.CANCELLED:
        raise ValidationError({"status": [_("已撤销的发放不能登记签收")]})
    aid.receipt_scan = _file(receipt_scan, "receipt_scan")
    with audit_context(user=by, reason="relief_aid_receipt"):
        aid.save(update_fields=["receipt_scan"])
    return aid


@transaction.atomic
def aid_cancel(*, by, aid: Aid, reason: str) -> Aid:
    """Withdraw cash not yet signed for by the second person; the money returns to the project."""
    project = locked_project(aid.project_id)
    aid = Aid.objects.select_for_update().get(pk=aid.pk)
    ensure_branch_access(by, aid.branch_id)
    require_permission(by, "relief.change_aid", _("您没有撤销发放的权限"))
    reason = text_input(reason, "reason", 500, required=True)
    if aid.status != AidStatus.REGISTERED:
        raise ValidationError({"status": [_("已发放的救助不能撤销")]})
    aid.status, aid.cancel_reason = AidStatus.CANCELLED, reason
    with audit_context(user=by, reason=f"relief_aid_cancel: {reason[:80]}"):
        aid.save(update_fields=["status", "cancel_reason"])
        Project.objects.filter(pk=project.pk).update(paid_out=F("paid_out") - aid.amount)
        project.refresh_from_db(fields=["paid_out"])
        project.save(update_fields=["paid_out"])
    return aid


# --- batches (a surge: 2,000 winter-warmth households in one action) --------------------------


@dataclass(frozen=True)
class BatchResult:
    done: int
    refused: dict[str, str]  # application number -> why


@transaction.atomic
def aid_disburse_batch(
    *, by, project: Project, applications: Sequence[Application], voucher_number: str, disbursed_on: date | None = None
) -> BatchResult:
    """Approved applications of one project paid by one bank transfer batch (its voucher number):
    the same checks as ``aid_disburse``, the project locked once, rows written in bulk. Refused
    applications are listed; the others are paid."""
    project = locked_project(project)  # each application is checked against the user's branches below
    require_permission(by, "relief.add_aid", _("您没有登记救助发放的权限"))
    if project.is_referral or project.status != ProjectStatus.OPEN:
        raise ValidationError({"project": [_("项目不在实施中，不能发放")]})
    voucher_number = text_input(voucher_number, "voucher_number", 60, required=True)
    on = date_input(disbursed_on or timezone.localdate(), "disbursed_on", not_future=True)
    ids = [a.pk for a in applications]
    rows = list(Application.objects.select_for_update().filter(pk__in=ids, project=project).order_by("pk"))
    beneficiary_ids = [a.beneficiary_id for a in rows]
    list(Beneficiary.objects.select_for_update().filter(pk__in=beneficiary_ids).order_by("pk").values_list("pk"))
    already = set(
        Aid.objects.filter(project=project, beneficiary_id__in=beneficiary_ids, period="")
        .exclude(status=AidStatus.CANCELLED)
        .values_list("beneficiary_id", flat=True)
    )
    year_totals = dict(
        Aid.objects.filter(beneficiary_id__in=beneficiary_ids, year=on.year)
        .exclude(status=AidStatus.CANCELLED)
        .values("beneficiary_id")
        .annotate(t=Sum(F("amount") + F("goods_value")))
        .values_list("beneficiary_id", "t")
    )
    refused: dict[str, str] = {}
    aids: list[Aid] = []
    left = project.cash_balance
    for application in rows:
        if not _in_scope(by, application):
            refused[application.number] = _("无权操作其他组织的数据")
            continue
        amount = application.approved_amount
        why = ""
        if application.status != ApplicationStatus.APPROVED or amount is None:
            why = _("未获批准")
        elif application.beneficiary_id in already:
            why = _("本期已获救助")
        elif project.cap_per_project is not None and amount > project.cap_per_project:
            why = _("超过本项目限额")
        elif project.cap_per_year is not None and (year_totals.get(application.beneficiary_id) or 0) + amount > (
            project.cap_per_year
        ):
            why = _("超过年度限额")
        elif amount > left:
            why = _("项目资金不足")
        if why:
            refused[application.number] = why
            continue
        left -= amount
        already.add(application.beneficiary_id)
        year_totals[application.beneficiary_id] = (year_totals.get(application.beneficiary_id) or 0) + amount
        aids.append(
            Aid(
                project=project, application=application, beneficiary_id=application.beneficiary_id,
                branch_id=application.branch_id, method=AidMethod.BANK, amount=amount, goods_value=ZERO,
                disbursed_on=on, year=on.year, voucher_number=voucher_number, status=AidStatus.PAID,
                registered_by=by,
            )
        )  # fmt: skip
    if aids:
        for aid, number in zip(aids, _number(project, on, len(aids)), strict=True):
            aid.number = number
        with audit_context(user=by, reason="relief_aid_batch"):
            Aid.objects.bulk_create(aids)
            _history_bulk(aids, by)
            cash = sum((aid.amount for aid in aids), ZERO)
            Project.objects.filter(pk=project.pk).update(paid_out=F("paid_out") + cash)
            project.refresh_from_db(fields=["paid_out"])
            project.save(update_fields=["paid_out"])
    return BatchResult(done=len(aids), refused=refused)


def _in_scope(by, application: Application) -> bool:
    from redcross.scoping import can_access_branch

    return can_access_branch(by, application.branch_id)


def _history_bulk(aids: list[Aid], by) -> None:
    """bulk_create skips the history signal: write the rows' history in bulk too (who and why)."""
    Aid.history.bulk_history_create(aids, default_user=by, default_change_reason="relief_aid_batch")


# --- 博爱家园: shares and dividends ------------------------------------------------------------


@transaction.atomic
def livelihood_share_record(
    *, by, project: Project, beneficiary: Beneficiary, year: int, shares: Any
) -> LivelihoodShare:
    """A household's shares in a livelihood project for one year (set again to correct it)."""
    project = locked_project(project)
    ensure_branch_access(by, beneficiary.branch_id)
    require_permission(by, "relief.add_livelihoodshare", _("您没有登记博爱家园股份的权限"))
    if project.kind != ProjectKind.LIVELIHOOD:
        raise ValidationError({"project": [_("只有生计（博爱家园）项目登记股份")]})
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationError({"year": [_("年度不正确")]})
    if not Application.objects.filter(
        project=project, beneficiary=beneficiary, status=ApplicationStatus.APPROVED
    ).exists():
        raise ValidationError({"beneficiary": [_("该户没有获批的本项目申请")]})
    count = quantity_input(shares, "shares")
    share = (
        LivelihoodShare.objects.select_for_update().filter(project=project, beneficiary=beneficiary, year=year).first()
    )
    share = share or LivelihoodShare(project=project, beneficiary=beneficiary, year=year, recorded_by=by)
    share.shares = count.quantize(Decimal("0.01"))
    with audit_context(user=by, reason="relief_share_record"):
        share.save()
    return share


@transaction.atomic
def livelihood_dividends_pay(
    *, by, project: Project, year: int, total: Any, voucher_number: str, disbursed_on: date | None = None
) -> list[Aid]:
    """Pay the year's dividends: ``total`` yuan shared by the households in proportion to their
    shares, each to the fen (rounded down; the fen left over go one by one to the largest
    holdings), one disbursement per household and year, within the project's cash."""
    project = locked_project(project)
    ensure_branch_access(by, project.branch_id)
    require_permission(by, "relief.add_aid", _("您没有登记救助发放的权限"))
    if project.kind != ProjectKind.LIVELIHOOD or project.status != ProjectStatus.OPEN:
        raise ValidationError({"project": [_("只有实施中的生计（博爱家园）项目可以分红")]})
    total = money_input(total, "total")
    voucher_number = text_input(voucher_number, "voucher_number", 60, required=True)
    on = date_input(disbursed_on or timezone.localdate(), "disbursed_on", not_future=True)
    shares = list(LivelihoodShare.objects.filter(project=project, year=year).order_by("-shares", "pk"))
    if not shares:
        raise ValidationError({"year": [_("%(year)s 年没有登记股份") % {"year": year}]})
    if total > project.cash_balance:
        raise ValidationError({"total": [_("项目资金不足：尚可发放 %(left)s 元") % {"left": project.cash_balance}]})
    if Aid.objects.filter(project=project, period=str(year)).exclude(status=AidStatus.CANCELLED).exists():
        raise ValidationError({"year": [_("%(year)s 年的分红已发放") % {"year": year}]})
    all_shares = sum((share.shares for share in shares), Decimal(0))
    parts = [(total * share.shares / all_shares).quantize(Decimal("0.01"), rounding=ROUND_DOWN) for share in shares]
    for index in range(int((total - sum(parts)) * 100)):
        parts[index % len(parts)] += Decimal("0.01")
    approved = dict(
        Application.objects.filter(project=project, status=ApplicationStatus.APPROVED).values_list(
            "beneficiary_id", "pk"
        )
    )
    numbers = _number(project, on, len(shares))
    aids = []
    for share, part, number in zip(shares, parts, numbers, strict=True):
        if part <= 0:
            continue
        aids.append(
            Aid(
                number=number, project=project, application_id=approved[share.beneficiary_id],
                beneficiary_id=share.beneficiary_id, branch_id=share.beneficiary.branch_id, purpose=AidPurpose.DIVIDEND,
                period=str(year), method=AidMethod.BANK, amount=part, disbursed_on=on, year=on.year,
                voucher_number=voucher_number, status=AidStatus.PAID, registered_by=by,
            )
        )  # fmt: skip
    _write(project, aids, {}, by, "relief_dividends_pay")
    return aids

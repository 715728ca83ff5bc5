"""Relief projects: registration, the status life cycle (planned → open → closed with a final
account), and the allocations that fund a project."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from donations.models import Allocation, AllocationStatus, DonationKind, Recipient
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.numbering import sequence_next
from redcross.scoping import ensure_branch_access
from relief.models import VISIT_REQUIRED_KINDS, AidUnit, Project, ProjectFunding, ProjectKind, ProjectStatus
from relief.services.inputs import date_input, optional_money, require_permission, text_input

# which status may follow which
_NEXT = {ProjectStatus.PLANNED: {ProjectStatus.OPEN}, ProjectStatus.OPEN: {ProjectStatus.CLOSED}}


def locked_project(project: Project | int) -> Project:
    """The project row, locked until the transaction ends: every write that moves the project's
    money (funding, disbursement, cancellation) takes it first, so they queue."""
    project_id = project.pk if isinstance(project, Project) else project
    try:
        return Project.objects.select_for_update().select_related("branch").get(pk=project_id)
    except (Project.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"project": [_("救助项目不存在")]}) from None


def _project_code(branch: Branch, year: int) -> str:
    number = sequence_next(scope=f"relief-project:{branch.code}:{year}")
    return f"{branch.code}JZ{year}-{number:03d}"


def _check_fields(
    *, kind: str, unit: str, starts_on: Any, ends_on: Any, budget: Any, cap_per_project: Any, cap_per_year: Any
) -> dict[str, Any]:
    if kind not in ProjectKind.values:
        raise ValidationError({"kind": [_("请选择项目类型")]})
    if unit not in AidUnit.values:
        raise ValidationError({"unit": [_("请选择按人或按户救助")]})
    starts = date_input(starts_on, "starts_on")
    ends = date_input(ends_on, "ends_on")
    if ends < starts:
        raise ValidationError({"ends_on": [_("结束日期不能早于开始日期")]})
    caps = {"cap_per_project": optional_money(cap_per_project, "cap_per_project")}
    caps["cap_per_year"] = optional_money(cap_per_year, "cap_per_year")
    return {"starts_on": starts, "ends_on": ends, "budget": optional_money(budget, "budget"), **caps}


def project_fields_check(
    *,
    kind: str,
    unit: str,
    starts_on: Any,
    ends_on: Any,
    budget: Any = None,
    cap_per_project: Any = None,
    cap_per_year: Any = None,
    is_referral: bool = False,
    referral_body: str = "",
) -> dict[str, Any]:
    """The checks of a project's period, money and referral fields (forms call it to show a refusal
    on its field; the services always do)."""
    fields = _check_fields(
        kind=kind, unit=unit, starts_on=starts_on, ends_on=ends_on, budget=budget,
        cap_per_project=cap_per_project, cap_per_year=cap_per_year,
    )  # fmt: skip
    if is_referral:
        text_input(referral_body, "referral_body", 120, required=True)
        if fields["budget"] or fields["cap_per_project"] or fields["cap_per_year"]:
            raise ValidationError({"is_referral": [_("转介项目不经本会拨款，不能设预算或限额")]})
    return fields


@transaction.atomic
def project_create(
    *,
    by,
    branch: Branch,
    name: str,
    kind: str,
    purpose: str,
    starts_on: date,
    ends_on: date,
    eligibility: str = "",
    budget: Any = None,
    unit: str = AidUnit.HOUSEHOLD,
    cap_per_project: Any = None,
    cap_per_year: Any = None,
    visit_required: bool | None = None,
    is_referral: bool = False,
    referral_body: str = "",
) -> Project:
    """Register a project, planned. A project that handles money gets its own recipient unit
    (受赠单位, kind 困难群众) for allocations and directed gifts; a referral project gets none."""
    ensure_branch_access(by, branch)
    require_permission(by, "relief.add_project", _("您没有登记救助项目的权限"))
    fields = project_fields_check(
        kind=kind, unit=unit, starts_on=starts_on, ends_on=ends_on, budget=budget,
        cap_per_project=cap_per_project, cap_per_year=cap_per_year, is_referral=is_referral,
        referral_body=referral_body,
    )  # fmt: skip
    referral_body = text_input(referral_body, "referral_body", 120)
    project = Project(
        branch=branch,
        name=text_input(name, "name", 120, required=True),
        kind=kind,
        purpose=text_input(purpose, "purpose", 4000, required=True),
        eligibility=text_input(eligibility, "eligibility", 4000),
        unit=unit,
        visit_required=kind in VISIT_REQUIRED_KINDS if visit_required is None else bool(visit_required),
        is_referral=bool(is_referral),
        referral_body=referral_body if is_referral else "",
        created_by=by,
        **fields,
    )
    project.code = _project_code(branch, project.starts_on.year)
    with audit_context(user=by, reason="relief_project_create"):
        if not project.is_referral:
            project.recipient = Recipient.objects.create(
                branch=branch, name=f"救助项目 {project.code} {project.name}"[:200], kind=Recipient.Kind.HOUSEHOLD_GROUP
            )
        project.save()
    return project


@transaction.atomic
def project_update(
    *,
    by,
    project: Project,
    name: str,
    purpose: str,
    starts_on: date,
    ends_on: date,
    eligibility: str = "",
    budget: Any = None,
    cap_per_project: Any = None,
    cap_per_year: Any = None,
    visit_required: bool | None = None,
    referral_body: str = "",
) -> Project:
    """Correct a project that is not closed. Kind, unit and referral are fixed at registration."""
    project = locked_project(project)
    ensure_branch_access(by, project.branch_id)
    require_permission(by, "relief.change_project", _("您没有修改救助项目的权限"))
    if project.status == ProjectStatus.CLOSED:
        raise ValidationError({"status": [_("已结项的项目不能修改")]})
    fields = _check_fields(
        kind=project.kind, unit=project.unit, starts_on=starts_on, ends_on=ends_on, budget=budget,
        cap_per_project=cap_per_project, cap_per_year=cap_per_year,
    )  # fmt: skip
    if project.is_referral and (fields["budget"] or fields["cap_per_project"] or fields["cap_per_year"]):
        raise ValidationError({"budget": [_("转介项目不经本会拨款，不能设预算或限额")]})
    for key, value in fields.items():
        setattr(project, key, value)
    project.name = text_input(name, "name", 120, required=True)
    project.purpose = text_input(purpose, "purpose", 4000, required=True)
    project.eligibility = text_input(eligibility, "eligibility", 4000)
    if visit_required is not None:
        project.visit_required = bool(visit_required)
    if project.is_referral:
        project.referral_body = text_input(referral_body, "referral_body", 120, required=True)
    with audit_context(user=by, reason="relief_project_update"):
        project.save()
    return project


@transaction.atomic
def project_open(*, by, project: Project) -> Project:
    """planned → open: applications are taken and aid is disbursed."""
    project = locked_project(project)
    ensure_branch_access(by, project.branch_id)
    require_permission(by, "relief.change_project", _("您没有修改救助项目的权限"))
    if ProjectStatus.OPEN not in _NEXT.get(project.status, set()):
        raise ValidationError({"status": [_("项目%(status)s，不能启动") % {"status": project.get_status_display()}]})
    project.status, project.opened_at = ProjectStatus.OPEN, timezone.now()
    with audit_context(user=by, reason="relief_project_open"):
        project.save(update_fields=["status", "opened_at"])
    return project


@transaction.atomic
def project_close(*, by, project: Project, note: str = "") -> Project:
    """open → closed with a final account (决算): funds in, paid out, goods out, balance, people
    helped, frozen on the project. Refused while applications or disbursements are pending; a
    balance left over must be explained (returned to the allocation plan, carried to a new project)."""
    from relief.selectors.books import project_books

    project = locked_project(project)
    ensure_branch_access(by, project.branch_id)
    require_permission(by, "relief.change_project", _("您没有修改救助项目的权限"))
    if ProjectStatus.CLOSED not in _NEXT.get(project.status, set()):
        raise ValidationError({"status": [_("项目%(status)s，不能结项") % {"status": project.get_status_display()}]})
    from relief.models import Aid, AidStatus, Application, ApplicationStatus

    pending = Application.objects.filter(
        project=project, status__in=[ApplicationStatus.SUBMITTED, ApplicationStatus.REVIEWED]
    ).count()
    if pending:
        raise ValidationError({"status": [_("还有 %(n)d 份申请未审批，不能结项") % {"n": pending}]})
    unsigned = Aid.objects.filter(project=project, status=AidStatus.REGISTERED).count()
    if unsigned:
        raise ValidationError({"status": [_("还有 %(n)d 笔发放未完成双人签字，不能结项") % {"n": unsigned}]})
    note = text_input(note, "note", 4000)
    books = project_books(project)
    if not books.is_balanced:
        raise ValidationError({"status": [_("项目账目不平，请先核对：%(d)s") % {"d": "；".join(books.discrepancies)}]})
    if books.balance > 0 and not note:
        raise ValidationError({"note": [_("项目尚有结余 %(b)s 元，请说明结余去向") % {"b": books.balance}]})
    project.status, project.closed_at, project.closed_by = ProjectStatus.CLOSED, timezone.now(), by
    project.final_account = books.figures()
    project.final_account_note = note
    with audit_context(user=by, reason="relief_project_close"):
        project.save(update_fields=["status", "closed_at", "closed_by", "final_account", "final_account_note"])
    return project


def _allocation_value(allocation: Allocation) -> Decimal:
    if allocation.kind == DonationKind.CASH:
        return allocation.amount
    total = Decimal("0.00")
    for source in allocation.sources.select_related("item"):
        total += source.value or Decimal("0.00")  # goods without evidence of value: quantities only
    return total


@transaction.atomic
def project_funding_add(*, by, project: Project, allocation: Allocation | int) -> ProjectFunding:
    """Count a confirmed allocation to the project's recipient unit as the project's funds."""
    project = locked_project(project)
    ensure_branch_access(by, project.branch_id)
    require_permission(by, "relief.add_projectfunding", _("您没有登记项目资金来源的权限"))
    if project.is_referral:
        raise ValidationError({"allocation": [_("转介项目不经本会拨款，不能登记资金来源")]})
    if project.status == ProjectStatus.CLOSED:
        raise ValidationError({"allocation": [_("已结项的项目不能再登记资金来源")]})
    allocation_id = allocation.pk if isinstance(allocation, Allocation) else allocation
    try:
        allocation = Allocation.objects.select_for_update().get(pk=allocation_id)
    except (Allocation.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"allocation": [_("拨付不存在")]}) from None
    if allocation.recipient_id != project.recipient_id:
        raise ValidationError(
            {"allocation": [_("拨付 %(serial)s 的受赠单位不是本项目（%(name)s），不能计入本项目") % {
                "serial": allocation.serial, "name": project.recipient}]}
        )  # fmt: skip
    if allocation.status != AllocationStatus.CONFIRMED:
        raise ValidationError({"allocation": [_("拨付 %(serial)s 尚未复核") % {"serial": allocation.serial}]})
    if ProjectFunding.objects.filter(allocation=allocation).exists():
        raise ValidationError({"allocation": [_("拨付 %(serial)s 已计入项目") % {"serial": allocation.serial}]})
    value = _allocation_value(allocation)
    funding = ProjectFunding(project=project, allocation=allocation, kind=allocation.kind, value=value, linked_by=by)
    with audit_context(user=by, reason="relief_project_funding_add"):
        funding.save()
        column = "funds_in_cash" if allocation.kind == DonationKind.CASH else "funds_in_goods"
        Project.objects.filter(pk=project.pk).update(**{column: F(column) + value})
        project.refresh_from_db()
        project.save(update_fields=[column])  # a history row with the new total
    return funding


@transaction.atomic
def project_fundings_collect(*, by, project: Project) -> list[ProjectFunding]:
    """Count every confirmed allocation to the project's recipient not counted yet."""
    project = Project.objects.get(pk=project.pk)
    if project.recipient_id is None:
        return []
    waiting = (
        Allocation.objects.filter(recipient_id=project.recipient_id, status=AllocationStatus.CONFIRMED)
        .exclude(relief_funding__isnull=False)
        .order_by("allocated_on", "pk")
        .values_list("pk", flat=True)
    )
    return [project_funding_add(by=by, project=project, allocation=pk) for pk in list(waiting)]

"""Applications: registration (district staff or the public form), documents, visits, and the
workflow submitted → district reviewed (初审) → city approved or rejected (审批), each step by a
different person with a reason. Referral projects forward the application instead of approving it
and record the national body's outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.forms import service_error_message
from redcross.numbering import sequence_next
from redcross.scoping import ensure_branch_access
from redcross.uploads import validate_evidence_file
from relief.models import (
    Application,
    ApplicationChannel,
    ApplicationDocument,
    ApplicationStatus,
    Beneficiary,
    DocumentKind,
    Project,
    ProjectStatus,
    ReferralOutcome,
    Visit,
    VisitKind,
)
from relief.services.beneficiaries import open_duplicates, open_duplicates_of
from relief.services.inputs import date_input, money_input, optional_money, require_permission, text_input

LIVE = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.REVIEWED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.FORWARDED,
)


def application_number(project: Project, on: date) -> str:
    prefix = f"{project.branch.code}SQ"
    number = sequence_next(scope=f"relief-application:{prefix}:{on.year}")
    return f"{prefix}{on.year}-{number:06d}"


def _documents_clean(documents: Iterable[tuple[str, Any]]) -> list[ApplicationDocument]:
    rows = []
    for index, (kind, file) in enumerate(documents):
        if kind not in DocumentKind.values:
            raise ValidationError({f"documents[{index}].kind": [_("请选择材料类型")]})
        try:
            validate_evidence_file(file)
        except ValidationError as exc:
            raise ValidationError({f"documents[{index}].file": exc.messages}) from None
        rows.append(ApplicationDocument(kind=kind, file=file))
    return rows


def _open_project(project: Project | int) -> Project:
    project_id = project.pk if isinstance(project, Project) else project
    try:
        project = Project.objects.select_related("branch").get(pk=project_id)
    except (Project.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"project": [_("救助项目不存在")]}) from None
    if project.status != ProjectStatus.OPEN:
        raise ValidationError({"project": [_("项目“%(name)s”%(status)s，不接受申请") % {
            "name": project.name, "status": project.get_status_display()}]})  # fmt: skip
    return project


@transaction.atomic
def application_register(
    *,
    by,
    project: Project | int,
    beneficiary: Beneficiary,
    situation: str,
    requested_amount: Any = None,
    documents: Iterable[tuple[str, Any]] = (),
    channel: str = ApplicationChannel.STAFF,
) -> Application:
    """Register an application (district staff: ``by``; the public form: ``by=None``, online).

    One live application per beneficiary and project; documents go through the evidence-file
    checks (PDF, JPEG or PNG by content, size limit)."""
    project = _open_project(project)
    if by is not None:
        ensure_branch_access(by, beneficiary.branch_id)
        require_permission(by, "relief.add_application", _("您没有登记救助申请的权限"))
    elif channel != ApplicationChannel.ONLINE:
        raise PermissionDenied(_("只有网上申请可以不经工作人员登记"))
    if beneficiary.merged_into_id:
        raise ValidationError({"beneficiary": [_("该受助人记录已合并，请使用合并后的记录")]})
    situation = text_input(situation, "situation", 4000, required=True)
    requested = optional_money(requested_amount, "requested_amount")
    if requested is not None and project.cap_per_project is not None and requested > project.cap_per_project:
        raise ValidationError({"requested_amount": [_("超过本项目每人（户）限额 %(cap)s 元") % {
            "cap": project.cap_per_project}]})  # fmt: skip
    if Application.objects.filter(project=project, beneficiary=beneficiary, status__in=LIVE).exists():
        raise ValidationError({"beneficiary": [_("该受助人已申请过本项目")]})
    rows = _documents_clean(documents)
    application = Application(
        number=application_number(project, timezone.localdate()),
        project=project,
        beneficiary=beneficiary,
        branch=beneficiary.branch,
        channel=channel,
        situation=situation,
        requested_amount=requested,
        registered_by=by,
    )
    with audit_context(user=by, reason="relief_application_register"):
        try:
            with transaction.atomic():
                application.save()
        except IntegrityError:
            raise ValidationError({"beneficiary": [_("该受助人已申请过本项目")]}) from None
        for row in rows:
            row.application, row.uploaded_by = application, by
            row.save()
    return application


@transaction.atomic
def application_document_add(*, by, application: Application, kind: str, file) -> ApplicationDocument:
    application = Application.objects.select_for_update().get(pk=application.pk)
    ensure_branch_access(by, application.branch_id)
    require_permission(by, "relief.add_applicationdocument", _("您没有上传申请材料的权限"))
    if application.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.REVIEWED):
        raise ValidationError({"file": [_("申请已审批，不能再补充材料")]})
    (row,) = [_documents_clean([(kind, file)])[0]]
    row.application, row.uploaded_by = application, by
    with audit_context(user=by, reason="relief_document_add"):
        row.save()
    return row


@transaction.atomic
def visit_record(*, by, application: Application, kind: str, visited_on: date, findings: str) -> Visit:
    """A home visit: 走访 before the review, 回访 after the aid (the latter only once aid was given)."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    ensure_branch_access(by, application.branch_id)
    require_permission(by, "relief.add_visit", _("您没有登记走访的权限"))
    if kind not in VisitKind.values:
        raise ValidationError({"kind": [_("请选择走访类型")]})
    if kind == VisitKind.FOLLOW_UP and not application.aids.exclude(status="cancelled").exists():
        raise ValidationError({"kind": [_("发放救助后才能登记回访")]})
    visit = Visit(
        application=application,
        kind=kind,
        visited_on=date_input(visited_on, "visited_on", not_future=True),
        findings=text_input(findings, "findings", 4000, required=True),
        visited_by=by,
    )
    with audit_context(user=by, reason="relief_visit_record"):
        visit.save()
    return visit


def _locked(application: Application | int) -> Application:
    application_id = application.pk if isinstance(application, Application) else application
    try:
        return Application.objects.select_for_update().select_related("project").get(pk=application_id)
    except (Application.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"application": [_("救助申请不存在")]}) from None


def _refuse_same_person(application: Application, by, *, step: str) -> None:
    """Each step by a different person: the reviewer is not the registrar; the decider neither."""
    people = {application.registered_by_id}
    if step == "decide":
        people.add(application.reviewed_by_id)
    if by.pk in people:
        raise PermissionDenied(
            _("申请 %(number)s：登记、初审、审批须由不同的工作人员办理") % {"number": application.number}
        )


@transaction.atomic
def application_review(*, by, application: Application | int, passed: bool, reason: str) -> Application:
    """District review (初审): passed → reviewed, or rejected; by someone other than the registrar,
    after a home visit when the project requires one."""
    application = _locked(application)
    ensure_branch_access(by, application.branch_id)
    require_permission(by, "relief.review_application", _("您没有初审救助申请的权限"))
    reason = text_input(reason, "reason", 500, required=True)
    if application.status != ApplicationStatus.SUBMITTED:
        raise ValidationError({"status": [_("申请 %(number)s %(status)s，不能初审") % {
            "number": application.number, "status": application.get_status_display()}]})  # fmt: skip
    _refuse_same_person(application, by, step="review")
    visited = application.visits.filter(kind=VisitKind.ASSESSMENT).exists
    if passed and application.project.visit_required and not visited():
        raise ValidationError({"visits": [_("本项目须入户走访，请先登记走访记录")]})
    application.status = ApplicationStatus.REVIEWED if passed else ApplicationStatus.REJECTED
    application.reviewed_by, application.reviewed_at, application.review_reason = by, timezone.now(), reason
    with audit_context(user=by, reason="relief_application_review"):
        application.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])
    return application


def _approvable(application: Application, approved_amount: Any, *, duplicated: Callable[[int], bool]):
    project = application.project
    if project.status != ProjectStatus.OPEN:
        raise ValidationError({"project": [_("项目不在实施中，不能审批")]})
    if duplicated(application.beneficiary_id):
        raise ValidationError({"beneficiary": [_("受助人有待复核的疑似重复记录，须由救助复核员处理后才能批准")]})
    if project.is_referral:
        return None
    amount = money_input(approved_amount, "approved_amount", allow_none=True)
    if amount is None:
        amount = application.requested_amount or project.cap_per_project
    if amount is None:
        raise ValidationError({"approved_amount": [_("请填写批准金额")]})
    if project.cap_per_project is not None and amount > project.cap_per_project:
        raise ValidationError({"approved_amount": [_("超过本项目每人（户）限额 %(cap)s 元") % {
            "cap": project.cap_per_project}]})  # fmt: skip
    return amount


def _decide(
    application: Application, by, *, approve: bool, reason: str, approved_amount: Any,
    duplicated: Callable[[int], bool], now: datetime,
) -> list[str]:  # fmt: skip
    """The city decision's rules on one locked application (its branch already checked): sets the
    decision on the row and returns the fields it changed. ``duplicated(beneficiary_id)`` says
    whether the beneficiary has an open duplicate suspicion."""
    if application.status != ApplicationStatus.REVIEWED:
        raise ValidationError({"status": [_("申请 %(number)s %(status)s，不能审批") % {
            "number": application.number, "status": application.get_status_display()}]})  # fmt: skip
    _refuse_same_person(application, by, step="decide")
    fields = ["status", "decided_by", "decided_at", "decision_reason"]
    if approve:
        amount = _approvable(application, approved_amount, duplicated=duplicated)
        if application.project.is_referral:
            application.status, application.referral_outcome = ApplicationStatus.FORWARDED, ReferralOutcome.PENDING
            fields.append("referral_outcome")
        else:
            application.status, application.approved_amount = ApplicationStatus.APPROVED, amount
            fields.append("approved_amount")
    else:
        application.status = ApplicationStatus.REJECTED
    application.decided_by, application.decided_at, application.decision_reason = by, now, reason
    return fields


def _has_open_duplicate(beneficiary_id: int) -> bool:
    return open_duplicates(beneficiary_id).exists()


@transaction.atomic
def application_decide(
    *, by, application: Application | int, approve: bool, reason: str, approved_amount: Any = None
) -> Application:
    """City decision (审批) on a reviewed application: approved (with the amount, within the
    project's cap) or rejected, by someone who neither registered nor reviewed it. A referral
    project's application is forwarded to the national body instead."""
    application = _locked(application)
    ensure_branch_access(by, application.branch_id)
    require_permission(by, "relief.decide_application", _("您没有审批救助申请的权限"))
    reason = text_input(reason, "reason", 500, required=True)
    fields = _decide(
        application, by, approve=approve, reason=reason, approved_amount=approved_amount,
        duplicated=_has_open_duplicate, now=timezone.now(),
    )  # fmt: skip
    with audit_context(user=by, reason="relief_application_decide"):
        application.save(update_fields=fields)
    return application


@dataclass(frozen=True)
class DecisionBatchResult:
    done: int
    refused: dict[str, str]  # application number -> why


@transaction.atomic
def application_decide_batch(
    *, by, applications: Iterable[Application | int], approve: bool, reason: str
) -> DecisionBatchResult:
    """The city's decision on many reviewed applications at once (a surge: 2,000 winter-warmth
    households), each approved at its requested amount or the project's cap, or rejected: the
    same rules as ``application_decide`` on each, in one transaction, the rows locked, checked and
    written (with their history) in bulk. Refused applications are listed with the reason; the
    others are decided."""
    require_permission(by, "relief.decide_application", _("您没有审批救助申请的权限"))
    reason = text_input(reason, "reason", 500, required=True)
    ids = [a.pk if isinstance(a, Application) else a for a in applications]
    rows = list(Application.objects.select_for_update().select_related("project").filter(pk__in=ids).order_by("pk"))
    flagged: set[int] = set()
    if approve:
        pairs = open_duplicates_of([row.beneficiary_id for row in rows]).values_list("beneficiary_id", "candidate_id")
        flagged.update(pk for pair in pairs for pk in pair)
    refused: dict[str, str] = {}
    decided: dict[tuple, list[Application]] = {}
    now = timezone.now()
    for application in rows:
        try:
            ensure_branch_access(by, application.branch_id)
            fields = _decide(
                application, by, approve=approve, reason=reason, approved_amount=None,
                duplicated=flagged.__contains__, now=now,
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as exc:
            refused[application.number] = service_error_message(exc)
            continue
        changed = tuple(
            (name, getattr(application, name)) for name in fields if name not in ("decided_by", "decided_at")
        )
        decided.setdefault(changed, []).append(application)
    with audit_context(user=by, reason="relief_application_decide"):
        for changed, group in decided.items():  # the same decision and amount: one UPDATE each
            Application.objects.filter(pk__in=[a.pk for a in group]).update(
                decided_by=by, decided_at=now, **dict(changed)
            )
        done = [a for group in decided.values() for a in group]
        # an UPDATE skips the history signal: the rows' history in bulk too (who and why)
        Application.history.bulk_history_create(
            done, default_user=by, default_change_reason="relief_application_decide", default_date=now, update=True
        )
    return DecisionBatchResult(done=len(done), refused=refused)


@transaction.atomic
def application_referral_outcome(
    *, by, application: Application | int, outcome: str, amount: Any = None, note: str = ""
) -> Application:
    """The national body's answer on a forwarded application (no money through the branch)."""
    application = _locked(application)
    ensure_branch_access(by, application.branch_id)
    require_permission(by, "relief.change_application", _("您没有登记转介结果的权限"))
    if application.status != ApplicationStatus.FORWARDED:
        raise ValidationError({"status": [_("只有已转报的申请可以登记转介结果")]})
    if outcome not in (ReferralOutcome.GRANTED, ReferralOutcome.DECLINED):
        raise ValidationError({"outcome": [_("请选择获得资助或未获资助")]})
    application.referral_outcome = outcome
    application.referral_amount = (
        money_input(amount, "amount", allow_none=True) if outcome == ReferralOutcome.GRANTED else None
    )
    application.referral_note = text_input(note, "note", 500)
    application.referral_outcome_at = timezone.now()  # the reports count outcomes by when they were recorded
    with audit_context(user=by, reason="relief_referral_outcome"):
        application.save(update_fields=["referral_outcome", "referral_amount", "referral_note", "referral_outcome_at"])
    return application

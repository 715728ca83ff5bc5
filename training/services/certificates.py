"""Training certificates: the portal's own, issued after a session's exam (救护员证, 师资证, and
the renewals a refresher course gives), their PDFs, photos and revocation; and instructor
certificates issued elsewhere, recorded so that the portal can check who may teach.

Numbers are gapless per issuing branch and year (``redcross.numbering``, scope
``training-cert:<branch code>:<year>``, one sequence for both kinds): ``LZJH2026-000001``.
A renewal is a new certificate with a new number, pointing at the one it renews (``renews``);
the old one keeps its number, dates and status, so both papers stay checkable and every number
is accounted for.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.documents import document_pdf_request, document_render_pdf
from redcross.models import Branch, Person
from redcross.numbering import format_serial, sequence_current, sequence_next
from redcross.scoping import ensure_branch_access
from redcross.uploads import validate_photo_file
from redcross.verification import document_revoke, verification_url
from training.conf import certificate_years, course_hours
from training.models import (
    Attendance,
    Certificate,
    CertificateKind,
    CourseKind,
    ExamPart,
    ExamResult,
    ReminderStatus,
    Session,
    SessionStatus,
)
from training.services.exams import EXAMINED_KINDS

# the certificate a course gives; a refresher course renews the one its trainee holds
_COURSE_CERTIFICATE = {
    CourseKind.FIRST_AIDER: CertificateKind.FIRST_AIDER,
    CourseKind.INSTRUCTOR: CertificateKind.INSTRUCTOR,
}
# what the paper and the verification page print as level (frozen on the certificate, like its number)
LEVELS = {CertificateKind.FIRST_AIDER: "红十字救护员", CertificateKind.INSTRUCTOR: "红十字应急救护培训师资"}


def certificate_number_scope(branch: Branch, year: int) -> str:
    return f"training-cert:{branch.code}:{year}"


def certificate_number(branch: Branch, year: int, number: int) -> str:
    """``LZJH2026-000001``: the branch's code, JH (救护), the year, the number in that year."""
    return format_serial(prefix=f"{branch.code}JH", year=year, number=number)


def required_hours(session: Session) -> Decimal:
    """The hours a trainee must have attended: the whole session, and at least the course's hours
    (``TRAINING_COURSE_HOURS``): a session planned shorter than the course certifies no one."""
    return max(session.hours, course_hours(session.kind))


def certificate_expiry(issued_on: datetime.date) -> datetime.date:
    """The last day of validity: ``TRAINING_CERTIFICATE_YEARS`` years after issue, less a day."""
    years = certificate_years()
    try:
        anniversary = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29 February, in a year that has none
        anniversary = issued_on.replace(year=issued_on.year + years, day=28) + datetime.timedelta(days=1)
    return anniversary - datetime.timedelta(days=1)


def renewable_certificate(person: Person) -> Certificate | None:
    """The certificate a refresher course renews: the holder's last-expiring one, not revoked and
    not renewed already (a 师资证 before a 救护员证 when they expire on the same day)."""
    return (
        Certificate.objects.filter(person=person, revoked_at__isnull=True, renewal__isnull=True)
        .order_by("-expires_on", "-kind", "-pk")
        .first()
    )


def _refusals(session: Session, person: Person) -> dict[str, list[str]]:
    """Why ``person`` may not be certified from ``session`` (empty when they may)."""
    errors: dict[str, list[str]] = {}
    attendance = Attendance.objects.filter(session=session, person=person).first()
    needed = required_hours(session)
    if attendance is None:
        errors["attendance"] = [_("没有本班的出勤记录")]
    elif attendance.hours_attended < needed:
        errors["attendance"] = [
            _("出勤 %(attended)s 学时，不足规定的 %(needed)s 学时") % {
                "attended": attendance.hours_attended, "needed": needed}
        ]  # fmt: skip
    results = {r.part: r for r in ExamResult.objects.filter(session=session, person=person)}
    for part in ExamPart:
        result = results.get(part.value)
        if result is None:
            errors[part.value] = [_("尚未登记%(part)s成绩") % {"part": part.label}]
        elif not result.passed:
            errors[part.value] = [_("%(part)s不合格") % {"part": part.label}]
    return errors


def _photo(photo: UploadedFile | None, *, field: str = "photo") -> UploadedFile | None:
    if photo is None:
        return None
    try:
        validate_photo_file(photo)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return photo


@transaction.atomic
def certificate_issue(
    *,
    session: Session,
    person: Person,
    by,
    issued_on: datetime.date | None = None,
    renews: Certificate | None = None,
    photo: UploadedFile | None = None,
) -> Certificate:
    """Issue ``person``'s certificate from ``session``: both parts of the exam passed, the required
    hours attended (``required_hours``), not yet certified from this session. A first-aider course
    gives a 救护员证, an instructor course a 师资证; a refresher course renews ``renews`` (by default
    ``renewable_certificate(person)``) with a new certificate of its kind. Numbered gaplessly per
    branch and year, valid ``TRAINING_CERTIFICATE_YEARS``; its PDF is rendered after commit."""
    ensure_branch_access(by, session.branch)
    # one issuer per session at a time: the "already certified" check cannot race
    session = Session.objects.select_for_update().select_related("branch").get(pk=session.pk)
    if session.kind not in EXAMINED_KINDS or session.is_outdoor:
        raise ValidationError({"session": [_("普及培训和户外普及活动不颁发证书")]})
    if session.status not in (SessionStatus.HELD, SessionStatus.CLOSED):
        raise ValidationError({"session": [_("培训班举办后才能颁发证书")]})
    existing = Certificate.objects.filter(session=session, person=person).first()
    if existing is not None:
        raise ValidationError(
            {"person": [_("%(name)s 已凭本班取得证书 %(number)s") % {"name": person.name, "number": existing.number}]}
        )
    errors = _refusals(session, person)
    if errors:
        raise ValidationError(errors)

    today = timezone.localdate()
    ended = timezone.localtime(session.ends_at).date()
    issued_on = issued_on or today
    if not isinstance(issued_on, datetime.date) or not ended <= issued_on <= today:
        raise ValidationError({"issued_on": [_("颁发日期应在结班日期（%(ended)s）与今天之间") % {"ended": ended}]})

    if session.kind == CourseKind.REFRESHER:
        renews = renews or renewable_certificate(person)
        if renews is None:
            raise ValidationError({"renews": [_("%(name)s 没有可复训换证的证书") % {"name": person.name}]})
        renews = Certificate.objects.select_for_update().get(pk=renews.pk)
        if renews.person_id != person.pk:
            raise ValidationError({"renews": [_("只能换发本人的证书")]})
        if renews.revoked_at is not None:
            raise ValidationError({"renews": [_("证书 %(number)s 已撤销，不能换发") % {"number": renews.number}]})
        if Certificate.objects.filter(renews=renews).exists():
            raise ValidationError({"renews": [_("证书 %(number)s 已换发过") % {"number": renews.number}]})
        kind = renews.kind
    elif renews is not None:
        raise ValidationError({"renews": [_("只有复训班换发证书")]})
    else:
        kind = _COURSE_CERTIFICATE[session.kind]
    photo = _photo(photo)

    branch = session.branch
    sequence = sequence_next(scope=certificate_number_scope(branch, issued_on.year))
    certificate = Certificate(
        branch=branch,
        person=person,
        kind=kind,
        session=session,
        renews=renews,
        number=certificate_number(branch, issued_on.year, sequence),
        sequence_number=sequence,
        level=LEVELS[kind],
        issued_on=issued_on,
        expires_on=certificate_expiry(issued_on),
        issued_by=by,
    )
    certificate.set_holder(person.name)
    if photo is not None:
        certificate.photo = photo
    try:
        with audit_context(user=by, reason="certificate_issue"), transaction.atomic():
            certificate.save()
    except IntegrityError:  # the unique (session, person) guard, should the lock ever be bypassed
        raise ValidationError({"person": [_("%(name)s 已凭本班取得证书") % {"name": person.name}]}) from None
    document_pdf_request(document=certificate)
    return certificate


@dataclass
class SessionIssueReport:
    """What a bulk issue did: the certificates issued, who was already certified, who was refused and why."""

    issued: list[Certificate] = field(default_factory=list)
    already: list[Person] = field(default_factory=list)
    refused: list[tuple[Person, str]] = field(default_factory=list)


def certificates_issue_for_session(
    *, session: Session, by, people: Iterable[Person] | None = None
) -> SessionIssueReport:
    """Issue a certificate to every trainee of ``session`` (or to ``people``) whose exam results
    and hours allow it; each in a transaction of its own, so one refusal stops no one else."""
    ensure_branch_access(by, session.branch)
    report = SessionIssueReport()
    if people is None:
        people = [a.person for a in Attendance.objects.filter(session=session).select_related("person")]
    certified = set(Certificate.objects.filter(session=session).values_list("person_id", flat=True))
    for person in sorted(people, key=lambda p: (p.name, p.pk)):
        if person.pk in certified:
            report.already.append(person)
            continue
        try:
            report.issued.append(certificate_issue(session=session, person=person, by=by))
        except ValidationError as exc:
            report.refused.append((person, "；".join(exc.messages)))
    return report


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, reason: str, by) -> Certificate:
    """Revoke a certificate (branch-checked), at once on the verification page; its pending
    expiry reminders are cancelled."""
    ensure_branch_access(by, certificate.branch)
    if not by.has_perm("training.change_certificate"):
        raise PermissionDenied(_("您没有撤销证书的权限"))
    certificate = document_revoke(document=certificate, by=by, reason=reason)
    with audit_context(user=by, reason="certificate_revoke"):
        for reminder in certificate.reminders.filter(status=ReminderStatus.PENDING):
            reminder.status, reminder.handled_by = ReminderStatus.CANCELLED, by
            reminder.save(update_fields=["status", "handled_by"])
    return certificate


@transaction.atomic
def certificate_photo_set(*, certificate: Certificate, photo: UploadedFile | None, by) -> Certificate:
    """Put the holder's photo on a certificate (or take it off) and render its PDF again."""
    ensure_branch_access(by, certificate.branch)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if not certificate.pdf_renderable():
        raise ValidationError({"photo": [_("外单位颁发的证书不在本系统打印")]})
    photo = _photo(photo)
    certificate.photo = photo if photo is not None else ""
    with audit_context(user=by, reason="certificate_photo_set"):
        certificate.save(update_fields=["photo"])
    document_pdf_request(document=certificate)
    return certificate


@dataclass(frozen=True)
class NumberUse:
    number: int
    certificate: Certificate | None


def certificate_number_report(*, branch: Branch, year: int) -> list[NumberUse]:
    """Every number taken for ``branch`` and ``year``: the certificate that carries it, or none
    (never expected: a rolled-back issue gives its number back)."""
    issued = {
        c.sequence_number: c
        for c in Certificate.objects.filter(branch=branch, issued_on__year=year, sequence_number__isnull=False)
    }
    last = max(sequence_current(scope=certificate_number_scope(branch, year)), max(issued, default=0))
    return [NumberUse(number=n, certificate=issued.get(n)) for n in range(1, last + 1)]


# --- PDF ------------------------------------------------------------------------------------


def _image_data_uri(stored) -> str:
    with stored.open("rb") as file:
        content = file.read()
    mime = "image/png" if content.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(content).decode("ascii")


def certificate_pdf_bytes(certificate: Certificate) -> bytes:
    """The certificate's PDF (holder's full name, optional photo, QR code to its verification
    page); stores nothing."""
    from redcross.pdf import qr_code_data_uri, render_pdf

    url = verification_url(certificate)
    session = certificate.session
    return render_pdf(
        "pdf/training_certificate.html",
        {
            "certificate": certificate,
            "holder_name": certificate.person.name,
            "kind_label": CertificateKind(certificate.kind).label,
            "session": session,
            "hours": required_hours(session) if session else None,
            "branch_name": certificate.branch.name,
            "photo": _image_data_uri(certificate.photo) if certificate.photo else None,
            "qr": qr_code_data_uri(url),
            "verify_url": url,
        },
    )


def certificate_render_pdf(*, certificate_id: int) -> Certificate:
    """Render and store the PDF; idempotent (a certificate that has its PDF is left alone)."""
    return document_render_pdf(
        model=Certificate,
        pk=certificate_id,
        render=certificate_pdf_bytes,
        related=("person", "branch", "session", "renews"),
    )


# --- recorded from another body -------------------------------------------------------------


@transaction.atomic
def instructor_certificate_record(
    *,
    branch: Branch,
    person: Person,
    number: str,
    issued_on: datetime.date,
    expires_on: datetime.date,
    by,
) -> Certificate:
    """Record an instructor certificate issued by another body, under its own number."""
    ensure_branch_access(by, branch)
    number = number.strip()
    if Certificate.objects.filter(number=number).exists():
        raise ValidationError({"number": [_("证书编号 %(number)s 已登记") % {"number": number}]})
    if expires_on < issued_on:
        raise ValidationError({"expires_on": [_("有效期不能早于颁发日期")]})
    certificate = Certificate(
        branch=branch,
        person=person,
        kind=CertificateKind.INSTRUCTOR,
        number=number,
        level=str(CertificateKind.INSTRUCTOR.label),
        issued_on=issued_on,
        expires_on=expires_on,
        issued_by=by,
    )
    certificate.set_holder(person.name)
    certificate.full_clean()
    with audit_context(user=by):
        certificate.save()
    return certificate

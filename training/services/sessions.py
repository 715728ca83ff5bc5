"""Sessions: creation, qualified instructors, the status life cycle, attendance."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.models import Branch, Person
from redcross.scoping import ensure_branch_access
from training.conf import course_hours
from training.models import Attendance, Certificate, CertificateKind, Session, SessionInstructor, SessionStatus

# which status may follow which: planned → open for registration → held → closed
_NEXT = {
    SessionStatus.PLANNED: {SessionStatus.OPEN, SessionStatus.HELD},
    SessionStatus.OPEN: {SessionStatus.HELD, SessionStatus.PLANNED},
    SessionStatus.HELD: {SessionStatus.CLOSED},
    SessionStatus.CLOSED: set(),
}


def _unqualified(instructors: Iterable[Person], *, on: datetime.date) -> list[Person]:
    """The instructors without an instructor certificate valid on ``on``."""
    people = list(instructors)
    qualified = set(
        Certificate.objects.valid_on(on)
        .filter(kind=CertificateKind.INSTRUCTOR, person__in=people)
        .values_list("person_id", flat=True)
    )
    return [person for person in people if person.pk not in qualified]


def session_instructors_check(*, instructors: Iterable[Person], ends_at: datetime.datetime) -> list[Person]:
    """The one place where instructor qualification is decided: a 师资证, not revoked, valid on
    the session's last day. Forms call it to show the refusal on the field; the services always do."""
    people = list(instructors)
    missing = _unqualified(people, on=timezone.localtime(ends_at).date())
    if missing:
        raise ValidationError(
            {"instructors": [_("%(names)s 没有在培训日期内有效的师资证，不能授课") % {
                "names": "、".join(person.name for person in missing)}]}
        )  # fmt: skip
    return people


def _hours(value: Decimal | str | int | None, *, field: str, default: Decimal) -> Decimal:
    if value is None or value == "":
        return default
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: [_("请输入学时数")]}) from None
    if hours < 0 or hours > 999:
        raise ValidationError({field: [_("学时数应在 0 到 999 之间")]})
    return hours


@transaction.atomic
def session_create(
    *,
    branch: Branch,
    title: str,
    kind: str,
    audience: str,
    venue: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    capacity: int = 0,
    hours: Decimal | str | None = None,
    is_outdoor: bool = False,
    latitude: Decimal | str | None = None,
    longitude: Decimal | str | None = None,
    funding_line: str = "",
    instructors: Iterable[Person] = (),
    by,
) -> Session:
    """A new session, planned; its hours default to the course's (``TRAINING_COURSE_HOURS``)."""
    ensure_branch_access(by, branch)
    session = Session(
        branch=branch,
        title=title,
        kind=kind,
        audience=audience,
        venue=venue,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=0 if is_outdoor else capacity,
        hours=_hours(hours, field="hours", default=course_hours(kind) if kind else Decimal(0)),
        is_outdoor=is_outdoor,
        latitude=latitude,
        longitude=longitude,
        funding_line=funding_line,
        created_by=by,
    )
    session.full_clean()
    people = session_instructors_check(instructors=instructors, ends_at=session.ends_at)
    with audit_context(user=by):
        session.save()
        for person in people:
            SessionInstructor.objects.create(session=session, person=person)
    return session


@transaction.atomic
def session_instructors_set(*, session: Session, instructors: Iterable[Person], by) -> Session:
    """Replace the session's instructors; every one must be qualified."""
    ensure_branch_access(by, session.branch)
    session = Session.objects.select_for_update().get(pk=session.pk)
    people = session_instructors_check(instructors=instructors, ends_at=session.ends_at)
    wanted = {person.pk for person in people}
    with audit_context(user=by):
        for teaching in SessionInstructor.objects.filter(session=session).exclude(person_id__in=wanted):
            teaching.delete()
        have = set(SessionInstructor.objects.filter(session=session).values_list("person_id", flat=True))
        for person in people:
            if person.pk not in have:
                SessionInstructor.objects.create(session=session, person=person)
    return session


@transaction.atomic
def session_set_status(*, session: Session, status: str, by, people_reached: int | None = None) -> Session:
    """Move a session along planned → open → held → closed. An outdoor event is never open for
    registration, and says how many people it reached when it is held."""
    ensure_branch_access(by, session.branch)
    session = Session.objects.select_for_update().get(pk=session.pk)
    if status not in _NEXT.get(session.status, set()):
        raise ValidationError(
            {"status": [_("培训班“%(title)s”%(status)s，不能改为%(to)s") % {
                "title": session.title, "status": session.get_status_display(),
                "to": SessionStatus(status).label}]}
        )  # fmt: skip
    if status == SessionStatus.OPEN:
        if session.is_outdoor:
            raise ValidationError({"status": [_("户外普及活动不接受报名")]})
        if not session.teaching.exists():
            raise ValidationError({"instructors": [_("开放报名前须安排授课师资")]})
    if status == SessionStatus.HELD and session.is_outdoor:
        if people_reached is None or people_reached < 0:
            raise ValidationError({"people_reached": [_("请填写户外普及活动的受益人数")]})
        session.people_reached = people_reached
    session.status = status
    with audit_context(user=by):
        session.save(update_fields=["status", "people_reached"])
    return session


@transaction.atomic
def attendance_record(*, session: Session, person: Person, hours_attended: Decimal | str | int, by) -> Attendance:
    """Record (or correct) the hours a trainee attended a held session."""
    ensure_branch_access(by, session.branch)
    session = Session.objects.select_for_update().get(pk=session.pk)
    if session.is_outdoor:
        raise ValidationError({"session": [_("户外普及活动只统计受益人数，不登记出勤")]})
    if session.status != SessionStatus.HELD:
        raise ValidationError({"session": [_("只有已举办、尚未结班的培训班可以登记出勤")]})
    hours = _hours(hours_attended, field="hours_attended", default=Decimal(0))
    if hours > session.hours:
        raise ValidationError(
            {"hours_attended": [_("出勤学时不能超过本班学时（%(hours)s）") % {"hours": session.hours}]}
        )
    attendance = Attendance.objects.filter(session=session, person=person).first()
    attendance = attendance or Attendance(session=session, person=person)
    attendance.hours_attended, attendance.recorded_by = hours, by
    with audit_context(user=by):
        attendance.save()
    return attendance

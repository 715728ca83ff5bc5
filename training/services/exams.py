"""Exam results: the theory and skills parts of each trainee's exam, recorded by staff for the
session's instructors (branch-checked, audited)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.models import Person
from redcross.scoping import ensure_branch_access
from training.conf import exam_pass_score
from training.models import Attendance, Certificate, CourseKind, ExamPart, ExamResult, Session, SessionStatus

# the courses that end with an exam and a certificate; awareness courses (普及) have neither
EXAMINED_KINDS = (CourseKind.FIRST_AIDER, CourseKind.INSTRUCTOR, CourseKind.REFRESHER)


def _score(value: Decimal | str | int | float | None) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError({"score": [_("成绩应为 0 到 100 之间的数")]})
    try:
        score = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({"score": [_("成绩应为 0 到 100 之间的数")]}) from None
    if not score.is_finite() or score < 0 or score > 100:
        raise ValidationError({"score": [_("成绩应为 0 到 100 之间的数")]})
    if score != score.quantize(Decimal("0.1")):
        raise ValidationError({"score": [_("成绩最多保留一位小数")]})
    return score


@transaction.atomic
def exam_result_record(
    *,
    session: Session,
    person: Person,
    part: str,
    score: Decimal | str | int | None = None,
    passed: bool | None = None,
    examiner: Person | None = None,
    by,
) -> ExamResult:
    """Record (or correct) one part of a trainee's exam.

    A score of 100 passes at ``TRAINING_EXAM_PASS_SCORE`` (80 by default); without a score, say
    whether the part was passed. A score and a verdict that disagree are refused. Only trainees
    with attendance in a held (or closed) session of an examined course; the examiner, if named,
    is one of the session's instructors.
    """
    ensure_branch_access(by, session.branch)
    session = Session.objects.select_for_update().get(pk=session.pk)
    if part not in ExamPart.values:
        raise ValidationError({"part": [_("考核科目须为理论考试或技能考核")]})
    if session.kind not in EXAMINED_KINDS or session.is_outdoor:
        raise ValidationError({"session": [_("普及培训和户外普及活动不设考核")]})
    if session.status not in (SessionStatus.HELD, SessionStatus.CLOSED):
        raise ValidationError({"session": [_("培训班举办后才能登记考核成绩")]})
    if not Attendance.objects.filter(session=session, person=person).exists():
        raise ValidationError({"person": [_("%(name)s 没有本班的出勤记录，请先登记出勤") % {"name": person.name}]})
    if examiner is not None and not session.teaching.filter(person=examiner).exists():
        raise ValidationError({"examiner": [_("考官须为本班的授课师资")]})
    certified = Certificate.objects.filter(session=session, person=person, revoked_at__isnull=True).first()
    if certified is not None:
        raise ValidationError(
            {"person": [_("已凭本班成绩颁发证书 %(number)s；成绩有误须先撤销该证书") % {"number": certified.number}]}
        )
    value = _score(score)
    if passed is not None and not isinstance(passed, bool):
        raise ValidationError({"passed": [_("请选择合格或不合格")]})
    if value is None and passed is None:
        raise ValidationError({"score": [_("请填写成绩或选择是否合格")]})
    if value is not None:
        by_score = value >= exam_pass_score()
        if passed is not None and passed != by_score:
            raise ValidationError(
                {"passed": [_("成绩 %(score)s 分与“%(verdict)s”不符（%(mark)s 分及格）") % {
                    "score": value, "verdict": _("合格") if passed else _("不合格"), "mark": exam_pass_score()}]}
            )  # fmt: skip
        passed = by_score
    result = ExamResult.objects.filter(session=session, person=person, part=part).first()
    result = result or ExamResult(session=session, person=person, part=part)
    result.score, result.passed, result.examiner, result.recorded_by = value, passed, examiner, by
    with audit_context(user=by):
        result.save()
    return result

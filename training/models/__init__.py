"""Training models: plans and targets, sessions and attendance, exams, certificates, reminders."""

from training.models.certificates import Certificate, CertificateKind
from training.models.exams import ExamPart, ExamResult
from training.models.plans import Audience, CourseKind, FundingLine, PlanFunding, PlanTarget, TrainingPlan
from training.models.reminders import Reminder, ReminderKind, ReminderStatus
from training.models.sessions import Attendance, Session, SessionInstructor, SessionStatus

__all__ = [
    "Attendance",
    "Audience",
    "Certificate",
    "CertificateKind",
    "CourseKind",
    "ExamPart",
    "ExamResult",
    "FundingLine",
    "PlanFunding",
    "PlanTarget",
    "Reminder",
    "ReminderKind",
    "ReminderStatus",
    "Session",
    "SessionInstructor",
    "SessionStatus",
    "TrainingPlan",
]

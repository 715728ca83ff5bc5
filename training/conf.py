"""Training settings read in one place: course hours and certificate validity are settings, not
constants, because the sources disagree (16 or 24 hours for 救护员, 3 or 4 years of validity)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_COURSE_HOURS = {"awareness": 4, "first_aider": 16, "instructor": 40, "refresher": 8}
DEFAULT_CERTIFICATE_YEARS = 3
DEFAULT_EXPIRY_WARNING_DAYS = 60
DEFAULT_EXAM_PASS_SCORE = 80


def course_hours(kind: str) -> Decimal:
    """The hours a course of ``kind`` lasts, and a trainee must attend to be certified."""
    hours = {**DEFAULT_COURSE_HOURS, **getattr(settings, "TRAINING_COURSE_HOURS", {})}
    return Decimal(str(hours[kind]))


def certificate_years() -> int:
    """How many years a training certificate is valid."""
    return int(getattr(settings, "TRAINING_CERTIFICATE_YEARS", DEFAULT_CERTIFICATE_YEARS))


DEFAULT_WAITLIST_LIMIT = 100


def waitlist_limit() -> int:
    """How many people may wait for a seat of one session; 0 turns the waitlist off."""
    return int(getattr(settings, "TRAINING_WAITLIST_LIMIT", DEFAULT_WAITLIST_LIMIT))


DEFAULT_AED_CHECK_DAYS = 30
DEFAULT_AED_EXPIRY_WARNING_DAYS = 30


def aed_check_days() -> int:
    """How many days may pass between two checks of an AED before it is overdue."""
    return int(getattr(settings, "TRAINING_AED_CHECK_DAYS", DEFAULT_AED_CHECK_DAYS))


def aed_expiry_warning_days() -> int:
    """How long before its battery or pads expire an AED is flagged (0: only once expired)."""
    return int(getattr(settings, "TRAINING_AED_EXPIRY_WARNING_DAYS", DEFAULT_AED_EXPIRY_WARNING_DAYS))


def expiry_warning_days() -> int:
    """How many days before its expiry a certificate is flagged (workbench) and its holder reminded."""
    return int(getattr(settings, "TRAINING_EXPIRY_WARNING_DAYS", DEFAULT_EXPIRY_WARNING_DAYS))


def exam_pass_score() -> Decimal:
    """The lowest score (of 100) that passes a part of the exam when a score is recorded."""
    return Decimal(str(getattr(settings, "TRAINING_EXAM_PASS_SCORE", DEFAULT_EXAM_PASS_SCORE)))


def reminder_sender() -> Callable | None:
    """The function that delivers a reminder (``TRAINING_REMINDER_SENDER``, a dotted path), or None:
    without one, reminders wait in the outbox for staff to send and mark."""
    path = getattr(settings, "TRAINING_REMINDER_SENDER", "")
    return import_string(path) if path else None

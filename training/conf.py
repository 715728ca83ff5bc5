"""Training settings read in one place: course hours and certificate validity are settings, not
constants, because the sources disagree (16 or 24 hours for 救护员, 3 or 4 years of validity)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

DEFAULT_COURSE_HOURS = {"awareness": 4, "first_aider": 16, "instructor": 40, "refresher": 8}
DEFAULT_CERTIFICATE_YEARS = 3


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

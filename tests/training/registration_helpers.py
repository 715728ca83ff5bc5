"""Shared by the registration tests: an open session, persons, the published consent text."""

from __future__ import annotations

import itertools

from redcross.consent import consent_text_draft, consent_text_publish
from redcross.models import ConsentText, Person
from tests.training.conftest import at
from training.models import Audience, CourseKind, Session, SessionStatus
from training.services.sessions import session_create, session_set_status
from training.views.courses import CONSENT_PURPOSE

_phones = itertools.count(1)


def open_session(branch, by, instructor, *, capacity=3, days=7, kind=CourseKind.FIRST_AIDER, **extra) -> Session:
    session = session_create(
        branch=branch, title=extra.pop("title", "社区救护员培训班"), kind=kind, audience=Audience.COMMUNITY,
        venue=extra.pop("venue", "社区服务中心三楼"), starts_at=at(days), ends_at=at(days, 17), capacity=capacity,
        instructors=[instructor], by=by, **extra,
    )  # fmt: skip
    return session_set_status(session=session, status=SessionStatus.OPEN, by=by)


def person(branch, name="学员") -> Person:
    return Person.objects.create(name=name, phone=f"137{next(_phones):08d}", branch=branch)


def consent_text() -> ConsentText:
    return consent_text_publish(
        text=consent_text_draft(
            purpose=CONSENT_PURPOSE,
            title="培训报名个人信息处理同意书",
            text="本会仅为组织本期培训和登记证书处理您的信息。",
        )
    )

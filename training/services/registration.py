"""Registration for sessions (报名): taking a seat or a place on the waitlist, cancelling, and the
promotion of the first waiting person when a seat comes free.

Every function that changes who holds a seat locks the session row first (``select_for_update``),
so concurrent registrations for the last seats queue on that lock: a session never holds more
registered people than its capacity, and arrival numbers (``queue_number``) are given in the order
the lock was granted. A cancellation frees its seat and hands it to the first on the waitlist in
the same transaction.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.consent import consent_withdraw
from redcross.models import ConsentMethod, ConsentRecord, Person
from redcross.people import person_update
from redcross.scoping import ensure_branch_access
from redcross.validators import clean_text
from training.conf import waitlist_limit
from training.models import Registration, RegistrationStatus, Session, SessionStatus
from training.models.registration import ACTIVE


def registration_closed_reason(session: Session, *, now: datetime.datetime | None = None) -> str:
    """Why ``session`` takes no registration now, or "" when it does: the one rule, read by the
    public pages (to show the reason instead of a form) and enforced by ``registration_create``."""
    now = now or timezone.now()
    if session.is_outdoor:
        return _("户外普及活动不需要报名，欢迎直接到现场参加")
    if session.status != SessionStatus.OPEN:
        return _("本期培训未开放报名")
    if session.starts_at <= now:
        return _("本期培训已开始，报名已截止")
    if session.capacity < 1:
        return _("本期培训未设名额，不接受报名")
    return ""


def _locked_session(pk: int) -> Session:
    return Session.objects.select_for_update().select_related("branch").get(pk=pk)


def _seat_counts(session: Session) -> dict[str, int]:
    counts = Registration.objects.filter(session=session).aggregate(
        registered=Count("id", filter=Q(status=RegistrationStatus.REGISTERED)),
        waiting=Count("id", filter=Q(status=RegistrationStatus.WAITLISTED)),
        last=Max("queue_number"),
    )
    return {key: value or 0 for key, value in counts.items()}


@transaction.atomic
def registration_create(*, session: Session, person: Person, by=None) -> Registration:
    """Register ``person`` for ``session``: a seat while there is one, else a place at the end of
    the waitlist (at most ``TRAINING_WAITLIST_LIMIT``). ``by`` is the staff member registering
    someone at the counter, or None for the person themself through the public form.

    Refused (``ValidationError`` naming the field) when the session takes no registration, when
    the person already holds an active registration for it, or when seats and waitlist are full.
    """
    if by is not None:
        ensure_branch_access(by, session.branch)
    session = _locked_session(session.pk)  # every seat change of this session queues here
    reason = registration_closed_reason(session)
    if reason:
        raise ValidationError({"session": [ValidationError(reason, code="closed")]})
    if person.merged_into_id:
        raise ValidationError({"person": [_("此记录已合并到另一自然人，请为合并后的记录报名")]})
    if Registration.objects.filter(session=session, person=person, status__in=ACTIVE).exists():
        raise ValidationError(
            {"person": [ValidationError(
                _("%(name)s 已报名本期培训，请勿重复报名；如需修改或取消，请使用报名时获得的专属链接")
                % {"name": person.masked_name}, code="duplicate")]}
        )  # fmt: skip
    counts = _seat_counts(session)
    if counts["registered"] < session.capacity:
        status = RegistrationStatus.REGISTERED
    elif counts["waiting"] < waitlist_limit():
        status = RegistrationStatus.WAITLISTED
    else:
        raise ValidationError(
            {"session": [ValidationError(_("本期培训名额和候补名额均已满，请选择其他场次"), code="full")]}
        )
    registration = Registration(
        session=session,
        person=person,
        status=status,
        queue_number=counts["last"] + 1,
        registered_by=by,
    )
    with audit_context(user=by, reason="registration_create"):
        registration.save()
    return registration


def _promote(session: Session, *, by) -> list[Registration]:
    """Give the free seats of a locked, open, not yet started session to the first waiting, in
    order of arrival."""
    if registration_closed_reason(session):
        return []
    free = session.capacity - _seat_counts(session)["registered"]
    if free <= 0:
        return []
    waiting = list(
        Registration.objects.select_for_update()
        .filter(session=session, status=RegistrationStatus.WAITLISTED)
        .order_by("queue_number")[:free]
    )
    now = timezone.now()
    with audit_context(user=by, reason="registration_promote"):
        for registration in waiting:
            registration.status, registration.promoted_at = RegistrationStatus.REGISTERED, now
            registration.save(update_fields=["status", "promoted_at"])
    return waiting


@transaction.atomic
def registration_cancel(*, registration: Registration, by=None, reason: str = "") -> Registration:
    """Cancel a registration: by staff of the session's branch (``by``), or by the registrant
    through the private link (``by=None``: only before the session starts, and the consent given
    for this registration is withdrawn with it). A freed seat goes at once to the first person on
    the waitlist. Cancelling a cancelled registration changes nothing."""
    session = _locked_session(registration.session_id)  # the same lock order as registration_create
    if by is not None:
        ensure_branch_access(by, session.branch)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == RegistrationStatus.CANCELLED:
        return registration
    if by is None and session.starts_at <= timezone.now():
        raise ValidationError({"registration": [_("本期培训已开始，不能在线取消；如有需要，请联系主办单位")]})
    reason = clean_text(reason, "reason", 200, label=_("取消原因"))
    held_seat = registration.status == RegistrationStatus.REGISTERED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at, registration.cancelled_by, registration.cancel_reason = timezone.now(), by, reason
    with audit_context(user=by, reason="registration_cancel"):
        registration.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    if by is None and registration.consent_id:
        consent_withdraw(record=registration.consent, method=ConsentMethod.ONLINE)
    if held_seat:
        _promote(session, by=by)
    return registration


@transaction.atomic
def registration_consent_link(*, registration: Registration, consent: ConsentRecord) -> Registration:
    """Keep the consent the registrant gave on the public form with the registration."""
    if consent.person_id != registration.person_id:
        raise ValueError("the consent was given by another person")
    registration.consent = consent
    with audit_context(reason="registration_consent"):
        registration.save(update_fields=["consent"])
    return registration


@transaction.atomic
def registration_contact_change(*, registration: Registration, phone: str) -> Registration:
    """The registrant corrects their phone number through the private link (only while the
    registration stands)."""
    registration = Registration.objects.select_related("person").get(pk=registration.pk)
    if registration.status == RegistrationStatus.CANCELLED:
        raise ValidationError({"phone": [_("报名已取消，不能修改")]})
    person = registration.person
    person_update(
        person=person,
        by=None,  # the registrant, through the private link
        name=person.name,
        phone=phone,
        birth_date=person.birth_date,
        sex=person.sex,
        reason="registration_contact_change",
    )
    return registration

"""Reads for the public course calendar, a session's page, its iCalendar feed and the private
registration page. Only what the public may see: sessions that are open, held or closed (never a
planned one, never an outdoor event), and figures, never a registrant."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from redcross.models import Branch, BranchLevel
from redcross.pagination import decode_cursor, encode_cursor
from training.models import Registration, RegistrationStatus, Session, SessionStatus

PUBLIC_STATUSES = (SessionStatus.OPEN, SessionStatus.HELD, SessionStatus.CLOSED)
CALENDAR_PAGE_SIZE = 30
CURSOR_SALT = "training-calendar"
FEED_PAST_DAYS = 30  # a feed keeps a month of past sessions, so subscribers' calendars keep them
FEED_LIMIT = 500


def public_sessions() -> QuerySet[Session]:
    """The sessions the public may see: registration-based ones once opened."""
    return Session.objects.filter(is_outdoor=False, status__in=PUBLIC_STATUSES)


def with_seats(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Each session with ``seats_taken`` and ``waitlisted`` counted in the same query."""
    return sessions.annotate(
        seats_taken=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED)),
        waitlisted=Count("registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)),
    )


def seats_left(session: Session) -> int:
    """Free seats of a session annotated by ``with_seats``."""
    return max(session.capacity - session.seats_taken, 0)


def district_choices() -> list[Branch]:
    """The branches the calendar can be narrowed to: the city and its districts and counties."""
    return list(
        Branch.objects.filter(is_active=True, level__in=[BranchLevel.CITY, BranchLevel.COUNTY])
        .only("name", "short_name", "code", "path", "level")
        .order_by("path")
    )


@dataclass(frozen=True)
class CalendarPage:
    sessions: list[Session]
    next_cursor: str  # "" on the last page


def calendar_sessions(
    *, district: Branch | None = None, kind: str = "", cursor: str = "", now: datetime.datetime | None = None
) -> CalendarPage:
    """Upcoming sessions open for registration, soonest first, optionally in a district (with the
    branches below it) and of one course kind; one query a page, keyset-paginated."""
    now = now or timezone.now()
    sessions = public_sessions().filter(status=SessionStatus.OPEN, starts_at__gt=now)
    if district is not None:
        sessions = sessions.filter(Branch.within_q(district, "branch"))
    if kind:
        sessions = sessions.filter(kind=kind)
    if cursor:
        after, pk = decode_cursor(cursor, salt=CURSOR_SALT)  # ValidationError for a forged one
        sessions = sessions.filter(starts_at__gte=after).exclude(starts_at=after, pk__lte=pk)
    rows = list(with_seats(sessions).select_related("branch").order_by("starts_at", "pk")[: CALENDAR_PAGE_SIZE + 1])
    next_cursor = ""
    if len(rows) > CALENDAR_PAGE_SIZE:
        rows = rows[:CALENDAR_PAGE_SIZE]
        next_cursor = encode_cursor(rows[-1].starts_at, rows[-1].pk, salt=CURSOR_SALT)
    return CalendarPage(sessions=rows, next_cursor=next_cursor)


def public_session(pk: int) -> Session | None:
    """A session's public page, with its seat figures; None for one the public may not see."""
    return with_seats(public_sessions()).select_related("branch").filter(pk=pk).first()


def feed_sessions(
    *, district: Branch | None = None, kind: str = "", now: datetime.datetime | None = None
) -> list[Session]:
    """What the iCalendar feed lists: public sessions from a month ago on (a subscriber keeps the
    ones they went to), soonest first."""
    now = now or timezone.now()
    sessions = public_sessions().filter(ends_at__gte=now - datetime.timedelta(days=FEED_PAST_DAYS))
    if district is not None:
        sessions = sessions.filter(Branch.within_q(district, "branch"))
    if kind:
        sessions = sessions.filter(kind=kind)
    return list(sessions.select_related("branch").order_by("starts_at", "pk")[:FEED_LIMIT])


def registration_by_token(token: str) -> Registration | None:
    """The registration a private link carries; None for anything else."""
    if not token or len(token) > 64:
        return None
    return Registration.objects.select_related("session__branch", "person").filter(management_token=token).first()


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first person waiting, ...; None unless the registration is waitlisted."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = Registration.objects.filter(
        session_id=registration.session_id,
        status=RegistrationStatus.WAITLISTED,
        queue_number__lt=registration.queue_number,
    ).count()
    return ahead + 1

"""Who did it and why, for history rows written outside a web request.

django-simple-history records every save and delete of an audited model; in a
request the middleware supplies the user. Services, tasks and commands wrap
their work in ``audit_context`` so their rows name the acting staff member (or
the task) too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record


@dataclass(frozen=True)
class AuditActor:
    user: object | None
    reason: str


_actor: ContextVar[AuditActor | None] = ContextVar("audit_actor", default=None)


@contextmanager
def audit_context(*, user: object | None = None, reason: str = "") -> Iterator[None]:
    token = _actor.set(AuditActor(user=user, reason=reason[:100]))
    try:
        yield
    finally:
        _actor.reset(token)


@receiver(pre_create_historical_record)
def _fill_actor(sender, history_instance, **kwargs) -> None:
    actor = _actor.get()
    if actor is None:
        return
    if history_instance.history_user_id is None and actor.user is not None:
        history_instance.history_user = actor.user
    if not history_instance.history_change_reason and actor.reason:
        history_instance.history_change_reason = actor.reason

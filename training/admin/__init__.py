"""The training admin's pages; importing the package registers them.

``plans`` (plans with their targets and funding lines), ``sessions`` (sessions and attendance),
``registration`` (registrations, read-only; cancelled through the service), ``exams`` (exam
results), ``certificates`` (certificates: read-only, PDF, photo, revocation), ``reminders`` (the
reminder outbox), ``equipment`` (batches, schools and venues, distributions), ``aeds`` (the AED
registry and its checks), ``rescue`` (rescue cases). Every write goes through a service in
``training/services/``.
"""

from training.admin import (  # noqa: F401
    aeds,
    certificates,
    equipment,
    exams,
    plans,
    registration,
    reminders,
    rescue,
    sessions,
)

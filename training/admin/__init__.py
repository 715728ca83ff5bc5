"""The training admin's pages; importing the package registers them.

``plans`` (plans with their targets and funding lines), ``sessions`` (sessions and attendance),
``exams`` (exam results), ``certificates`` (certificates: read-only, PDF, photo, revocation),
``reminders`` (the reminder outbox). Every write goes through a service in ``training/services/``.
"""

from training.admin import certificates, exams, plans, reminders, sessions  # noqa: F401

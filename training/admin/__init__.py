"""The training app's admin pages; importing the package registers them.

``plans`` (plans with their targets and funding lines), ``sessions`` (sessions, attendance,
certificates), ``registration`` (registrations, read-only; cancelled through the service).
Every write goes through a service in ``training/services/``.
"""

from training.admin import plans, registration, sessions  # noqa: F401

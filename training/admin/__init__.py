"""The training app's admin pages; importing the package registers them.

``plans`` (plans with their targets and funding lines), ``sessions`` (sessions, attendance,
certificates), ``registration`` (registrations, read-only; cancelled through the service),
``equipment`` (batches, schools and venues, distributions), ``aeds`` (the AED registry and its
checks), ``rescue`` (rescue cases). Every write goes through a service in ``training/services/``.
"""

from training.admin import aeds, equipment, plans, registration, rescue, sessions  # noqa: F401

"""The training app's admin pages; importing the package registers them.

``plans`` (plans with their targets and funding lines), ``sessions`` (sessions, attendance,
certificates). Every write goes through a service in ``training/services/``.
"""

from training.admin import plans, sessions  # noqa: F401

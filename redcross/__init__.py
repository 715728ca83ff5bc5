"""The project package and the shared kernel every app builds on.

Settings, URLs, the Celery app and the gunicorn config live here, next to what all apps share:
the branch tree (``Branch``), staff accounts, roles and branch scoping, audit, money and
numbering helpers, masking, validation, encryption of personal data and PDF rendering.
See docs/platform.md.
"""

from redcross.celery import app as celery_app

__all__ = ("celery_app",)

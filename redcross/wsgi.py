"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "redcross.settings")

application = get_wsgi_application()

from redcross.startup import check_database  # noqa: E402  (needs settings loaded)

check_database()

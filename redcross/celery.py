"""The Celery app. Tasks take primary keys and are enqueued with ``delay_on_commit``."""

import gc
import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "redcross.settings")

app = Celery("redcross")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _prepare_worker(**_kwargs) -> None:
    from redcross.startup import check_database

    check_database()
    # what the worker loaded at start-up (Django, fonts, templates) lives for ever: frozen, the
    # collector stops walking it after every PDF (about 3 ms a receipt), and the forked pool
    # processes keep sharing its memory pages with this one
    gc.freeze()

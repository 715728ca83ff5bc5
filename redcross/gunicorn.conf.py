"""gunicorn settings for production and the honor roll benchmark: ``gunicorn -c redcross/gunicorn.conf.py``.

Public pages are CPU-bound Python (the database answers in 1-2 ms), so the web tier runs
processes, not threads: a thread waiting for the GIL adds up to its 5 ms switch interval to
a request, which is what the p95 of a surge page is made of. Every value can be overridden
by the environment (``GUNICORN_WORKERS``, ...), and any gunicorn flag on the command line wins.
"""

from __future__ import annotations

import gc
import multiprocessing
import os

wsgi_app = "redcross.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
# two processes per CPU: one runs Python while the other waits on PostgreSQL or Redis
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# a surge queues connections in the kernel rather than refusing them
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# recycle workers now and then so a slow leak in a library cannot grow for ever
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# import Django once in the master: workers fork with the code already loaded
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")


def pre_fork(server, worker) -> None:
    # the objects loaded at start-up (modules, templates, URL patterns) live for ever: freezing
    # them keeps the collector from walking them again in every worker (and from touching their
    # pages, which the workers then keep sharing with the master)
    gc.freeze()

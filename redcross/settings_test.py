"""Test settings: production-like (DEBUG off) but fast and self-contained."""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# a fixed, valid Fernet key used only by the test suite
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "vXN2CQnzdPD-lq1tz8xMi2zyX0eoRB7Nb6GHHzMFu2A=")
# a fixed key for matching persons by ID number, used only by the test suite
os.environ.setdefault("PERSON_MATCH_KEY", "test-only-person-match-key-0123456789abcdef")
os.environ.setdefault("RELIEF_MATCH_KEY", "test-only-relief-match-key-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# the suite's own SQLite file and broker folders, apart from a `make run` next to it
os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from redcross.settings import *  # noqa: F403
from redcross.settings import CACHES, REDIS_URL

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # one file per test run, so two runs side by side (or a run next to a helper's) never share it
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# a worker process started by a test shares the test run's media folder through TEST_MEDIA_ROOT
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="redcross-test-media-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if not REDIS_URL:
    CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {**CACHES}
    CACHES["default"] = {**CACHES["default"], "KEY_PREFIX": "redcross-test"}
    # a test's cache.clear() empties the whole Redis database: each pytest-xdist worker (gw0, gw1…)
    # gets its own, counting down from the one given (db 15, 14, …), so workers never wipe each
    # other's rate-limit counters or cached figures
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if _worker.startswith("gw") and _worker[2:].isdigit():
        _url = urlsplit(REDIS_URL)
        _db = int(_url.path.strip("/") or 0)
        _path = f"/{(_db - int(_worker[2:])) % 16}"
        CACHES["default"]["LOCATION"] = urlunsplit(_url._replace(path=_path))
# tasks run in the test process unless a test starts a real worker
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

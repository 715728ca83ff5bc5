"""Settings, read from the environment only (twelve-factor).

With nothing set the portal runs on SQLite in ``var/`` and Celery on kombu's
``filesystem://`` transport, so a new machine needs no server. ``DATABASE_URL``
switches to PostgreSQL, ``REDIS_URL`` to Redis as broker and cache.
A misconfiguration stops start-up with one line naming the variable
(``redcross.startup.ConfigurationError``), never with a traceback.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from redcross.startup import ConfigurationError

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").is_file():  # optional local file, never committed
    env.read_env(BASE_DIR / ".env")


def _config(var: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{var}: {message}")


DEBUG = env.bool("DEBUG", default=False)

# --- secrets -----------------------------------------------------------------
_DEV_SECRET = "dev-only-insecure-key-never-use-in-production-0123456789abcdefghij"  # noqa: S105  (DEBUG only)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise _config("SECRET_KEY", "not set; production needs a random key (or set DEBUG=1 for local development)")
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise _config("ALLOWED_HOSTS", "not set; list the host names the portal answers to, comma-separated")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Keys for encrypted personal data (ID numbers, health data). Comma-separated
# Fernet keys: the first encrypts, all decrypt, which is how keys rotate
# (see docs/configuration.md, "Rotating the encryption key").
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS and not DEBUG:
    raise _config(
        "FIELD_ENCRYPTION_KEYS",
        "not set; production needs a key for personal data (python manage.py generate_encryption_key)",
    )

# Key of the keyed hash (HMAC-SHA256) that finds a person by ID number (redcross.people). Its own
# key: not SECRET_KEY (which rotates with sessions) nor the encryption keys (which rotate with
# key rotation), so matching survives both; changing it needs `manage.py rehash_person_ids`.
PERSON_MATCH_KEY = env.str("PERSON_MATCH_KEY", default="")
if not PERSON_MATCH_KEY:
    if not DEBUG:
        raise _config(
            "PERSON_MATCH_KEY",
            "not set; production needs its own random key for matching persons "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')",
        )
    PERSON_MATCH_KEY = "dev-only-person-match-key:" + SECRET_KEY
if len(PERSON_MATCH_KEY) < 32:
    raise _config("PERSON_MATCH_KEY", "too short; use at least 32 random characters")

# Key of the keyed hash that finds a relief beneficiary by ID number, phone or name + birth date
# (relief.services.beneficiaries). Its own key, not PERSON_MATCH_KEY: the relief register must
# never be joinable to the person register (PIPL purpose limitation, DESIGN.md section 6).
RELIEF_MATCH_KEY = env.str("RELIEF_MATCH_KEY", default="")
if not RELIEF_MATCH_KEY:
    if not DEBUG:
        raise _config(
            "RELIEF_MATCH_KEY",
            "not set; production needs its own random key for matching relief beneficiaries "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')",
        )
    RELIEF_MATCH_KEY = "dev-only-relief-match-key:" + SECRET_KEY
if len(RELIEF_MATCH_KEY) < 32:
    raise _config("RELIEF_MATCH_KEY", "too short; use at least 32 random characters")
if RELIEF_MATCH_KEY == PERSON_MATCH_KEY:
    raise _config("RELIEF_MATCH_KEY", "must differ from PERSON_MATCH_KEY (the two registers must not be joinable)")

# --- apps ----------------------------------------------------------------------
INSTALLED_APPS = [
    "redcross.apps.RedCrossAdminConfig",  # replaces django.contrib.admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "csp",
    # the portal; redcross after auth so its post_migrate role sync sees all permissions
    "redcross",
    "donations",
    "relief",
    "training",
    "registries",
    "membership",
    "volunteers",
    "publicity",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "redcross.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # last, as django-axes asks
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "redcross.urls"
WSGI_APPLICATION = "redcross.wsgi.application"
AUTH_USER_MODEL = "redcross.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "redcross.context_processors.site",
            ],
        },
    },
]

# --- database ------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
try:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
except Exception as exc:  # environ raises several types for a malformed URL
    raise _config("DATABASE_URL", f"cannot be parsed ({exc.__class__.__name__})") from None

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server, worker and beat read while one of them writes;
        # IMMEDIATE takes the write lock at BEGIN so two writers queue instead of deadlocking.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # a file, not memory, so a Celery worker process can share the test database
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    # starting parallel workers took PostgreSQL 8 ms here, yet its default cost (1000) let it pick
    # them for a 50-row public page (14 ms instead of 3); only large reports are worth them now.
    # Set DATABASE_PARALLEL_SETUP_COST to an empty value behind a pooler that refuses startup options.
    PARALLEL_SETUP_COST = env.str("DATABASE_PARALLEL_SETUP_COST", default="20000")
    if PARALLEL_SETUP_COST and not PARALLEL_SETUP_COST.isdigit():
        raise _config("DATABASE_PARALLEL_SETUP_COST", "must be a whole number, or empty")
    if PARALLEL_SETUP_COST:
        DATABASES["default"]["OPTIONS"]["options"] = f"-c parallel_setup_cost={PARALLEL_SETUP_COST}"
else:
    raise _config("DATABASE_URL", "only sqlite:// and postgres:// are supported")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and Celery ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "redcross.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "redcross",
            # fail fast when Redis is down; the cache then acts as a miss
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # shared by web, worker and beat processes without any server
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    # web, worker and beat all publish here; the transport expects the folders to exist
    for _folder in (_queue_dir, VAR_DIR / "celery" / "processed", VAR_DIR / "celery" / "control"):
        _folder.mkdir(parents=True, exist_ok=True)

# Page frames (header, navigation, footer, filter forms) hold no donation data and are the same
# for every visitor of a language: each web process keeps them in its own memory, so a surge
# page renders only its rows (``{% cache FRAGMENT_SECONDS ... using="fragments" %}``).
FRAGMENT_SECONDS = env.int("FRAGMENT_CACHE_SECONDS", default=60)
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "redcross-fragments",
    "TIMEOUT": FRAGMENT_SECONDS,
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True  # tasks write their outcome to the database
# survive a worker killed mid-task: acknowledge after the task ran, requeue if the worker dies
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"*.heavy_*": {"queue": "heavy"}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one place where every periodic job is declared; django-celery-beat copies
# these into the database on start, where staff can adjust them in the admin.
CELERY_BEAT_SCHEDULE = {
    "receipts-nightly": {
        "task": "donations.tasks.receipts_issue_pending_task",
        "schedule": crontab(hour=1, minute=30),
    },
    "reconciliation-nightly": {
        "task": "donations.tasks.reconciliation_nightly_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "relief-books-nightly": {
        "task": "relief.tasks.relief_books_nightly_task",
        "schedule": crontab(hour=2, minute=45),  # every relief project's books, after the campaigns'
    },
    "reports-monthly": {
        "task": "reports.tasks.monthly_reports_task",
        "schedule": crontab(day_of_month=1, hour=3, minute=0),  # last month's city report, XLSX and PDF
    },
    "worker-heartbeat": {
        "task": "redcross.tasks.worker_heartbeat_task",
        "schedule": crontab(),  # every minute: the admin shows a stale worker within minutes
    },
    "bulletins-draft": {
        "task": "donations.tasks.bulletins_draft_due_task",
        "schedule": crontab(hour=6, minute=0),  # drafts of the bulletins due today (公示), for staff to publish
    },
    "disclosure-reminders": {
        "task": "donations.tasks.disclosure_reminders_task",
        "schedule": crontab(hour=8, minute=0),  # e-mail staff the campaigns whose disclosure is due or overdue
    },
    "training-reminders": {
        "task": "training.tasks.training_reminders_task",
        "schedule": crontab(hour=8, minute=30),  # certificates expiring soon: reminders into the outbox, then sent
    },
    "documents-pdf-sweep": {
        "task": "redcross.tasks.documents_pdf_sweep_task",
        "schedule": crontab(minute="*/5"),  # PDFs whose render was never enqueued (broker down) or lost
    },
}
# A receipt, certificate or bulletin whose PDF is still pending this many minutes after it was
# asked for is enqueued again by the sweeper (redcross.documents), at most this many per model a run
PDF_PENDING_SWEEP_MINUTES = env.int("PDF_PENDING_SWEEP_MINUTES", default=5)
PDF_PENDING_SWEEP_LIMIT = env.int("PDF_PENDING_SWEEP_LIMIT", default=5000)
# Bulletins of campaigns outside an emergency cover a week (drafted on Mondays) or a month (on the 1st)
BULLETIN_REGULAR_PERIOD = env.str("BULLETIN_REGULAR_PERIOD", default="weekly").strip().lower()
if BULLETIN_REGULAR_PERIOD not in ("weekly", "monthly"):
    raise _config("BULLETIN_REGULAR_PERIOD", f"must be weekly or monthly, not {BULLETIN_REGULAR_PERIOD[:20]!r}")

# --- auth and security ----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

LOGIN_URL = "admin:login"

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# the unfiltered first page of the public honor roll is a cached fragment for this long
HONOR_ROLL_CACHE_SECONDS = env.int("HONOR_ROLL_CACHE_SECONDS", default=30)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- i18n: Chinese first ------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media ----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
MEDIA_URL = "/media/"
# evidence files staff upload (redcross/uploads.py); the web server's own body limit must allow it
UPLOAD_MAX_MB = env.int("UPLOAD_MAX_MB", default=10)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["redcross.permissions.StaffModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "redcross.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "anon": "120/min",
        "user": "1200/min",
        "public": env.str("PUBLIC_API_RATE", default="600/min"),  # the open data API, per client
    },
    "EXCEPTION_HANDLER": "redcross.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Red Cross branch portal API",
    "DESCRIPTION": (
        "Staff API (session or token auth, branch-scoped) and the open data API under /api/public/ "
        "(read-only, no login, throttled; only what the public pages show)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # several models have a "kind": each choice set gets its own stable name
    "ENUM_NAME_OVERRIDES": {
        "DonationKindEnum": "donations.models.DonationKind",
        "AttachmentKindEnum": "donations.models.intake.ATTACHMENT_KINDS",
        "CourseKindEnum": "training.models.CourseKind",
        "AudienceEnum": "training.models.Audience",
        "FundingLineEnum": "training.models.FundingLine",
        "SessionStatusEnum": "training.models.SessionStatus",
        "ReliefProjectKindEnum": "relief.models.ProjectKind",
        "BeneficiaryKindEnum": "relief.models.BeneficiaryKind",
        "ApplicationDocumentKindEnum": "relief.models.DocumentKind",
        "VisitKindEnum": "relief.models.VisitKind",
        "ApplicationChannelEnum": "relief.models.ApplicationChannel",
        "DonationChannelEnum": "donations.models.Channel",
    },
}

# --- the portal -----------------------------------------------------------------------
# Name shown before the branch tree exists (admin title, page title); the city
# branch's own name replaces it once seeded.
PORTAL_DEFAULT_NAME = env.str("PORTAL_DEFAULT_NAME", default="红十字会信息平台")
# absolute address of the public site, printed in QR codes on receipts and certificates
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- logging: nothing personal; the request path may carry a token, so no access log here ----
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_tokens": {"()": "redcross.logs.RedactTokensFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

"""Configuration comes from the environment; mistakes end in one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_KEY = "x7Jq9vK2mN4pR8sT1wY5zB3cF6hL0dG-prod-like-secret-key-for-tests-only"
PERSON_KEY = "Zq3-prod-like-person-match-key-for-tests-only-0123"
RELIEF_KEY = "Rk7-prod-like-relief-match-key-for-tests-only-4567"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # the test settings put their own values into os.environ; start from a clean slate
    ours = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"}
    ours |= {"PERSON_MATCH_KEY", "RELIEF_MATCH_KEY"}
    ours |= {"DJANGO_ALLOW_ASYNC_UNSAFE", "VAR_DIR"}  # set by the e2e and test settings
    base = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("SECURE_")}
    base.update({"DJANGO_SETTINGS_MODULE": "redcross.settings", "VAR_DIR": str(ROOT / "var" / "settings-test")})
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_production_without_secret_key_stops_with_one_line():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="portal.example.org")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Configuration error: SECRET_KEY")


def test_production_without_allowed_hosts_names_the_variable():
    result = manage("check", DEBUG="0", SECRET_KEY=PROD_KEY, ALLOWED_HOSTS="")
    assert result.returncode != 0
    assert result.stderr.strip().startswith("Configuration error: ALLOWED_HOSTS")


def test_production_without_a_person_match_key_names_the_variable():
    production = {
        "DEBUG": "0",
        "SECRET_KEY": PROD_KEY,
        "ALLOWED_HOSTS": "portal.example.org",
        "FIELD_ENCRYPTION_KEYS": "vXN2CQnzdPD-lq1tz8xMi2zyX0eoRB7Nb6GHHzMFu2A=",
    }
    for key in ("", "too-short"):
        result = manage("check", **production, PERSON_MATCH_KEY=key)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert result.stderr.strip().startswith("Configuration error: PERSON_MATCH_KEY")


def test_production_without_a_relief_match_key_names_the_variable():
    production = {
        "DEBUG": "0",
        "SECRET_KEY": PROD_KEY,
        "ALLOWED_HOSTS": "portal.example.org",
        "FIELD_ENCRYPTION_KEYS": "vXN2CQnzdPD-lq1tz8xMi2zyX0eoRB7Nb6GHHzMFu2A=",
        "PERSON_MATCH_KEY": PERSON_KEY,
    }
    # missing, too short, or the person register's key (the two registers must not be joinable)
    for key in ("", "too-short", PERSON_KEY):
        result = manage("check", **production, RELIEF_MATCH_KEY=key)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert result.stderr.strip().startswith("Configuration error: RELIEF_MATCH_KEY")


def test_unreachable_database_stops_with_one_line_naming_database_url():
    result = manage(
        "migrate",
        DEBUG="1",
        DATABASE_URL="postgres://portal:secret-password@127.0.0.1:1/nowhere",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: DATABASE_URL: cannot connect to portal@127.0.0.1:1/nowhere")
    assert "secret-password" not in result.stderr


def test_malformed_database_url_names_the_variable():
    result = manage("check", DEBUG="1", DATABASE_URL="mysql://nobody@localhost/x")
    assert result.returncode != 0
    assert result.stderr.strip().startswith("Configuration error: DATABASE_URL")


def test_deploy_check_is_clean_in_production_configuration():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=PROD_KEY,
        ALLOWED_HOSTS="portal.example.org",
        FIELD_ENCRYPTION_KEYS="vXN2CQnzdPD-lq1tz8xMi2zyX0eoRB7Nb6GHHzMFu2A=",
        PERSON_MATCH_KEY=PERSON_KEY,
        RELIEF_MATCH_KEY=RELIEF_KEY,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr
    assert "System check identified no issues" in result.stdout


def test_embedded_defaults_are_sqlite_and_filesystem_broker():
    code = (
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE']);"
        "print(settings.CELERY_BROKER_URL);"
        "print(settings.DATABASES['default']['OPTIONS']['init_command'])"
    )
    result = manage("shell", "-c", code, DEBUG="1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "django.db.backends.sqlite3" in out
    assert "filesystem://" in out
    assert "journal_mode=WAL" in out


def test_database_and_redis_urls_switch_backends():
    code = (
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE']);"
        "print(settings.CELERY_BROKER_URL);"
        "print(settings.CACHES['default']['BACKEND'])"
    )
    result = manage(
        "shell",
        "-c",
        code,
        DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    if result.returncode != 0 and "DATABASE_URL: cannot connect" in result.stderr:
        pytest.skip("no PostgreSQL here")
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.postgresql" in result.stdout
    assert "redis://127.0.0.1:6379/0" in result.stdout
    assert "RedisCache" in result.stdout


@pytest.mark.django_db(transaction=True)  # outside a test transaction, which close() would keep open
def test_the_start_up_database_check_leaves_no_connection_for_forked_workers_to_share():
    from django.db import connection

    from redcross.startup import check_database

    connection.ensure_connection()
    check_database()
    assert connection.connection is None


@pytest.mark.django_db  # the test database exists, for the server to connect to
def test_gunicorn_with_the_production_config_serves_from_several_workers():
    """preload_app forks workers from a master that has loaded Django: each must get its own
    database connection (a shared one was a single socket for all of them)."""
    import concurrent.futures
    import urllib.request

    from bench.serve import database_url, gunicorn_serving

    env = {"DJANGO_SETTINGS_MODULE": "redcross.settings_test", "DATABASE_URL": database_url()}
    with gunicorn_serving(workers=3, env=env) as port:

        def health(_n: int) -> bytes:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
                return response.read()

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(health, range(120)))
    assert answers == [b'{"database": "ok"}'] * 120


@pytest.mark.django_db
def test_postgres_sessions_start_parallel_workers_only_for_large_queries():
    # a gather took 8 ms to start here: with PostgreSQL's default cost a 50-row search page used one
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL session setting (CI runs the suite with DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW parallel_setup_cost")
        assert cursor.fetchone()[0] == "20000"


def test_a_parallel_setup_cost_that_is_not_a_number_names_the_variable():
    result = manage(
        "check",
        DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        DATABASE_PARALLEL_SETUP_COST="1; DROP TABLE x",
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Configuration error: DATABASE_PARALLEL_SETUP_COST")

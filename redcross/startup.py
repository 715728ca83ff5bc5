"""Start-up guards: a misconfiguration ends with one clear line, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Sequence

# Commands that never touch the database, so they run even when it is down.
_NO_DATABASE_COMMANDS = frozenset(
    {
        "help",
        "version",
        "check",
        "collectstatic",
        "compilemessages",
        "makemessages",
        "generate_encryption_key",
        "makemigrations",
        "test",
    }
)


class ConfigurationError(SystemExit):
    """Raised from settings; SystemExit prints the message alone and exits non-zero."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Configuration error: {message}")


def _describe_database(settings_dict: dict) -> str:
    # never print the password
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return str(settings_dict["NAME"])
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or "5432"
    return f"{settings_dict.get('USER') or ''}@{host}:{port}/{settings_dict.get('NAME')}"


def check_database() -> None:
    """Connect once; on failure exit with a line naming DATABASE_URL."""
    from django.db import connections
    from django.db.utils import OperationalError

    connection = connections["default"]
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ConfigurationError(
            f"DATABASE_URL: cannot connect to {_describe_database(connection.settings_dict)} ({reason})"
        ) from None
    # a probe only: gunicorn (preload_app) and Celery fork after this, and a connection open
    # here would be one socket shared by every worker process
    connection.close()


def run_management_command(argv: Sequence[str]) -> None:
    import django
    from django.core.management import execute_from_command_line

    command = argv[1] if len(argv) > 1 else "help"
    if command not in _NO_DATABASE_COMMANDS and not command.startswith("-"):
        django.setup()
        check_database()
    execute_from_command_line(list(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use manage.py")

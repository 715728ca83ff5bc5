"""Run every benchmark module in bench/ and print one `name: value unit` line per figure.

Runs against the configured database: SQLite by default, PostgreSQL when
DATABASE_URL is set. Benchmarks use a database of their own (created and
dropped here, like the test runner does), never the portal's data.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "redcross.settings_test")
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    # BENCH_KEEPDB=1 keeps the bench database between runs (seeders only top up)
    keep = os.environ.get("BENCH_KEEPDB") == "1"
    # serialize=False: no benchmark rolls back to a snapshot, and serialising a kept database of
    # hundreds of thousands of rows (decrypting every encrypted field) took minutes before each run
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=not keep, serialize=False, keepdb=keep)
    only = set(sys.argv[1:])
    try:
        import bench

        for module_info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
            if not module_info.name.startswith("bench_") or (only and module_info.name not in only):
                continue
            module = importlib.import_module(f"bench.{module_info.name}")
            for name, value, unit in module.run():
                print(f"{name}: {value} {unit}", flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=keep)
        teardown_test_environment()
    return 0


if __name__ == "__main__":
    sys.exit(main())

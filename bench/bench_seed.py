"""Volume seeding: ``seed_donations`` writing a surge campaign of invented donations.

``BENCH_SEED_ROWS`` sets the number of donations (default 100,000; 1,000,000 on PostgreSQL is
the honor-roll volume). Figures: the wall time of ``seed_donations`` (planning in Python,
donors, donations and item lines by ``bulk_create`` in batches of 5,000, one transaction each)
and its rate on the configured database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.db import connection


def run() -> Iterator[tuple[str, str, str]]:
    from donations.seeding import seed_donations

    rows = int(os.environ.get("BENCH_SEED_ROWS", "100000"))
    report = seed_donations(count=rows)
    assert report.donations == rows, report.summary()
    yield f"seed_donations_{rows}", f"{report.elapsed:.1f}", "s"
    yield f"seed_donations_rate_{connection.vendor}", f"{report.rate:.0f}", "rows/s"

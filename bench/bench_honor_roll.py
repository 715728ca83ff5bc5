"""The public honor roll under load, at ``BENCH_ROLL_DONATIONS`` donations (default 100,000;
set 1000000 for the issue's figure, on PostgreSQL).

Figures:
- honor_roll_db_ms_*: database time (sum of the page's queries, median of 20) for the first
  page, pages deep in the roll (a cursor at row 1,000, 100,000, ... and the last page), a
  campaign filter, an organisation-name search of 4 characters (pg_trgm) and of 2 characters
  (prefix), and searches for a word that matches nothing, most organisations, one industry and a
  few hundred gifts, measured in this process through a query wrapper.
- honor_roll_http_*: gunicorn with redcross/gunicorn.conf.py (``BENCH_ROLL_WORKERS`` sync
  workers, default two per CPU) serving the first page of /disclosure/ on this machine, loaded
  by wrk from a second process with 20 connections for ``BENCH_ROLL_SECONDS`` (default 10):
  requests/s and p95 latency, once with the page cache off (HONOR_ROLL_CACHE_SECONDS=0: every
  request reads the database and renders the rows; the page frame comes from each process's
  fragment cache) and once with it on (Redis when REDIS_URL is set, else each worker's memory).

``BENCH_ROLL_HTTP=0`` skips the HTTP part. ``BENCH_KEEPDB=1`` keeps the bench database between
runs (seeding a million takes minutes; the seeder only tops up). wrk must be installed
(``apt-get install wrk``); without it the HTTP
figures are skipped with a note.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench.timing import db_ms

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.1f p95_ms=%.2f p50_ms=%.2f errors=%d requests=%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(95) / 1000, latency:percentile(50) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    summary.requests))
end
"""


def _server_cpu_seconds(port: int) -> float:
    """CPU time (user + system) used so far by the gunicorn processes serving ``port``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f"127.0.0.1:{port}".encode() not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _serve_and_load(
    *, cache_seconds: int, seconds: int, workers: int, path: str = "/disclosure/"
) -> dict[str, float] | None:
    """wrk against ``path`` on gunicorn with the production config: requests/s, latency, errors, and
    the server's CPU milliseconds per request (``cpu_ms``), which a machine busy with other jobs
    changes little."""
    from bench.serve import database_url, gunicorn_serving

    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    env = {
        "DJANGO_SETTINGS_MODULE": "redcross.settings_test",
        "DATABASE_URL": database_url(),
        "HONOR_ROLL_CACHE_SECONDS": str(cache_seconds),
    }
    # the production settings (redcross/gunicorn.conf.py), on a free port
    with gunicorn_serving(workers=workers, env=env) as port:
        url = f"http://127.0.0.1:{port}{path}"
        # warm every worker (imports, connections, the cached filter choices)
        subprocess.run([wrk, "-t1", "-c4", "-d2s", url], capture_output=True, check=False)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        cpu_before = _server_cpu_seconds(port)
        result = subprocess.run(
            [wrk, "-t2", "-c20", f"-d{seconds}s", "--latency", "-s", script.name, url],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        cpu_used = _server_cpu_seconds(port) - cpu_before
        os.unlink(script.name)
    found = re.search(r"BENCH rps=([\d.]+) p95_ms=([\d.]+) p50_ms=([\d.]+) errors=(\d+) requests=(\d+)", result.stdout)
    if not found:
        raise RuntimeError(f"wrk gave no figures: {result.stdout[-500:]} {result.stderr[-500:]}")
    return {
        "rps": float(found.group(1)),
        "p95": float(found.group(2)),
        "p50": float(found.group(3)),
        "errors": int(found.group(4)),
        "cpu_ms": cpu_used * 1000 / max(int(found.group(5)), 1),
    }


def run() -> Iterator[tuple[str, str, str]]:
    from donations.models import Donation, Donor, DonorKind, PublicDisplay
    from donations.seeding import seed_donations
    from donations.selectors.honor_roll import HonorRollFilters, encode_cursor, honor_roll_filters, honor_roll_page

    count = int(os.environ.get("BENCH_ROLL_DONATIONS", "100000"))
    seconds = int(os.environ.get("BENCH_ROLL_SECONDS", "10"))
    workers = int(os.environ.get("BENCH_ROLL_WORKERS", str(2 * (os.cpu_count() or 1))))
    began = time.perf_counter()
    report = seed_donations(count=count)
    if report.donations:
        yield f"honor_roll_seed_{count}", f"{time.perf_counter() - began:.0f}", "s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    label = f"{count // 1000}k" if count < 1_000_000 else f"{count // 1_000_000}m"
    label = f"{label}_{connection.vendor}"

    everything = HonorRollFilters()
    yield f"honor_roll_db_ms_first_page_{label}", f"{db_ms(lambda: honor_roll_page(everything)):.2f}", "ms"
    roll = Donation.objects.public().order_by("-received_at", "-id")
    total = roll.count()
    for depth in (1_000, 100_000, 500_000, total - 10):
        if 0 < depth < total:
            received_at, pk = roll.values_list("received_at", "pk")[depth]
            cursor_token = encode_cursor(received_at, pk)
            name = "last" if depth == total - 10 else str(depth)
            ms = db_ms(lambda cursor_token=cursor_token: honor_roll_page(everything, cursor=cursor_token))
            yield f"honor_roll_db_ms_depth_{name}_{label}", f"{ms:.2f}", "ms"
    campaign_slug = Donation.objects.values_list("campaign__slug", flat=True).first()
    by_campaign = honor_roll_filters({"campaign": campaign_slug})
    yield f"honor_roll_db_ms_campaign_{label}", f"{db_ms(lambda: honor_roll_page(by_campaign)):.2f}", "ms"
    company = Donor.objects.filter(kind=DonorKind.ORGANISATION).exclude(public_display=PublicDisplay.ANONYMOUS).first()
    if company is not None:
        four = honor_roll_filters({"q": company.name[2:6]})
        two = honor_roll_filters({"q": company.name[:2]})
        yield f"honor_roll_db_ms_search_4_chars_{label}", f"{db_ms(lambda: honor_roll_page(four)):.2f}", "ms"
        yield f"honor_roll_db_ms_search_2_chars_{label}", f"{db_ms(lambda: honor_roll_page(two)):.2f}", "ms"
    # words whose frequency PostgreSQL had misjudged through the donor join (1.7 s, 0.6 s, 30 ms):
    # none, most organisations, one industry of the seeder's twenty, part of a name (a few hundred)
    words = {"no_match": "查无此名", "common": "有限公司", "industry": "医疗器械", "partial": "市医疗器"}
    for name, word in words.items():
        found = honor_roll_filters({"q": word})
        yield (
            f"honor_roll_db_ms_search_{name}_{label}",
            f"{db_ms(lambda found=found: honor_roll_page(found)):.2f}",
            "ms",
        )

    if os.environ.get("BENCH_ROLL_HTTP", "1") == "0":
        return
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    connection.close()  # the server processes get the database to themselves
    for mode, cache_seconds in (("uncached", 0), ("cached", 30)):
        figures = _serve_and_load(cache_seconds=cache_seconds, seconds=seconds, workers=workers)
        if figures is None:
            yield f"honor_roll_http_{mode}", "skipped (no wrk)", ""
            continue
        yield f"honor_roll_http_{mode}_rps_{label}", f"{figures['rps']:.0f}", "requests/s"
        yield f"honor_roll_http_{mode}_p95_{label}", f"{figures['p95']:.1f}", "ms"
        yield f"honor_roll_http_{mode}_errors_{label}", str(figures["errors"]), "errors"

"""AED registry figures: the nearest-AED query and the GeoJSON export over a large registry.

``BENCH_AED_COUNT`` (default 20,000) AEDs spread over a 60 × 60 km city; each figure is the median
of repeated calls (database time plus the Python around it, as a page pays it)."""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Iterator
from decimal import Decimal

from django.db import connection
from django.test import Client


def _seed(count: int):
    from redcross.models import Branch, BranchLevel
    from training.models import Aed

    city = Branch.objects.filter(code="BMAED").first() or Branch.objects.create(
        name="基准市红十字会", code="BMAED", level=BranchLevel.CITY
    )
    have = Aed.objects.filter(branch=city).count()
    rng = random.Random(14)
    rows = []
    for n in range(have, count):
        rows.append(
            Aed(
                branch=city,
                place=f"基准场所{n:06d}",
                address=f"基准路 {n} 号",
                latitude=Decimal(f"{30.0 + rng.random() * 0.54:.6f}"),
                longitude=Decimal(f"{120.0 + rng.random() * 0.62:.6f}"),
                opening_hours="24/7",
            )
        )
    Aed.objects.bulk_create(rows, batch_size=2000)
    return city


def _median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run() -> Iterator[tuple[str, str, str]]:
    from training.selectors.aeds import aed_geojson, nearest_aeds

    count = int(os.environ.get("BENCH_AED_COUNT", "20000"))
    _seed(count)
    vendor = connection.vendor
    rng = random.Random(6)
    points = [(30.05 + rng.random() * 0.44, 120.05 + rng.random() * 0.52) for _ in range(50)]
    spots = iter(points * 4)
    ms = _median_ms(lambda: nearest_aeds(*next(spots)), 50)
    yield f"aed_nearest_{count}_{vendor}", f"{ms:.1f}", "ms"
    # a visitor far outside the city: the box is empty, the whole registry is sorted
    ms = _median_ms(lambda: nearest_aeds(45.0, 100.0), 5)
    yield f"aed_nearest_outside_city_{count}_{vendor}", f"{ms:.1f}", "ms"
    client = Client()
    ms = _median_ms(lambda: client.get("/training/aeds/", {"lat": "30.262", "lng": "120.161"}), 20)
    yield f"aed_nearest_page_{count}_{vendor}", f"{ms:.1f}", "ms"
    ms = _median_ms(aed_geojson, 3)
    yield f"aed_geojson_{count}_{vendor}", f"{ms:.0f}", "ms"

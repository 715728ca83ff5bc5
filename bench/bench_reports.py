"""Monthly report export: a month with ``BENCH_REPORT_DONATIONS`` (default 100,000) donations.

Seeding: ``donations.seeding.seed_donations`` puts the donations into one campaign of the city
branch within May 2021 (bulk_create in batches; ~97% confirmed, ~15% goods with 1-3 lots),
then, with bulk_create, receipts for a fifth of the confirmed donations (some reversed), a
stock-in movement for every goods lot into one warehouse (a third of them half taken out again),
and 30 confirmed cash allocations to the seeded recipients.

Each export runs in a fresh process (a ``multiprocessing`` forkserver child that imports Django
and connects to the benchmark database), the way a heavy-queue worker runs it: the figure
``report_month_100k_<fmt>`` is the wall time of ``report_build`` plus writing the file (to a
temporary file) for the city branch as 全市系统. Memory is measured with
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` in that process: ``..._peak_memory`` is its peak
resident set size (Python, Django, openpyxl and WeasyPrint loaded, plus the export),
``..._memory_growth`` the ru_maxrss delta over the export. (Not a spawned child: Linux carries
a process's peak across exec, so a spawned child would start at this seeding process's peak;
``/proc/self/status`` VmHWM agrees with ru_maxrss in the forkserver child.)
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

MONTH = "2021-05"


def _high_water_kb() -> int:
    """VmHWM of /proc/self/status (the current process image's peak RSS), 0 where not available."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _export_in_child(database_name: str, branch_id: int, fmt: str) -> tuple[float, int, int, int, int]:
    """Runs in a fresh process: (seconds, ru_maxrss before, ru_maxrss after, VmHWM after, file size)."""
    import tempfile

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "redcross.settings_test")
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name
    import redcross.pdf  # noqa: F401  (WeasyPrint loaded before the baseline, as in a worker)
    from redcross.models import Branch
    from reports.exports import write_report
    from reports.periods import ReportPeriod
    from reports.selectors import report_build

    branch = Branch.objects.get(pk=branch_id)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = report_build(period=ReportPeriod.parse("month", MONTH), branch=branch, scope="system")
    with tempfile.TemporaryFile() as handle:
        write_report(report, fmt, handle)
        size = handle.tell()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    connections.close_all()
    return elapsed, before, after, _high_water_kb(), size


def _seed(count: int):
    from django.utils import timezone

    from donations.models import (
        Allocation,
        Campaign,
        CampaignKind,
        Donation,
        DonationItem,
        DonationKind,
        DonationStatus,
        Receipt,
        ReceiptReversal,
        Recipient,
        StockMovement,
        ValueBasis,
        Warehouse,
    )
    from donations.seeding import seed_donations
    from redcross.models import Branch, BranchLevel, User

    city = Branch.objects.filter(level=BranchLevel.CITY).first() or Branch.objects.create(
        name="基准月报市红十字会", code="BR", level=BranchLevel.CITY
    )
    campaign, _ = Campaign.objects.get_or_create(
        slug="bench-report-month",
        defaults={"branch": city, "kind": CampaignKind.SPECIAL, "name": "基准月报专项募捐", "is_emergency": True},
    )
    seed_donations(count=count, branch=city, campaign=campaign, start=date(2021, 5, 1), days=31)
    staff = User.objects.filter(username="seed-clerk").first()
    reviewer = User.objects.filter(username="seed-reviewer").first()

    confirmed = Donation.objects.filter(campaign=campaign, status=DonationStatus.CONFIRMED).order_by("id")
    rows = list(confirmed.filter(kind=DonationKind.CASH).values_list("pk", "amount", "received_at")[: count // 5])
    receipts = [
        Receipt(
            donation_id=pk, branch=city, year=2021, number=n + 1, invoice_code=f"{city.code}2021", check_code="BENCH",
            issued_at=received + timedelta(hours=20), payer_name="基准交款人", lines=[], total_amount=amount,
            payee=city.name, reviewer_name="复核人", issuer_name="收款人", status="valid",
        )
        for n, (pk, amount, received) in enumerate(rows)
    ]  # fmt: skip
    Receipt.objects.bulk_create(receipts, batch_size=5000)
    reversed_ = Receipt.objects.filter(branch=city, year=2021).order_by("id")[::50]
    ReceiptReversal.objects.bulk_create(
        [
            ReceiptReversal(receipt=r, reason="基准冲红", reversed_by=reviewer, reversed_at=r.issued_at)
            for r in reversed_
        ],
        batch_size=5000,
    )

    warehouse, _ = Warehouse.objects.get_or_create(branch=city, name="基准备灾仓库")
    lots = DonationItem.objects.filter(donation__in=confirmed, donation__kind=DonationKind.IN_KIND).exclude(
        value_basis=ValueBasis.NONE
    )
    movements = []
    for n, (pk, quantity, received) in enumerate(lots.values_list("pk", "quantity", "donation__received_at")):
        moved = received + timedelta(hours=2)
        common = {"warehouse": warehouse, "item_id": pk, "status": "confirmed", "recorded_by": staff}
        common["confirmed_by"] = reviewer
        movements.append(StockMovement(serial=f"BRI{n:07d}", kind="in", quantity=quantity, moved_at=moved, **common))
        half = (quantity / 2).quantize(Decimal("0.001"))
        if n % 3 == 0 and half:
            out = moved + timedelta(days=1)
            movements.append(StockMovement(serial=f"BRO{n:07d}", kind="out", quantity=-half, moved_at=out, **common))
    StockMovement.objects.bulk_create(movements, batch_size=5000)

    rng = random.Random(2021)
    recipients = list(Recipient.objects.filter(branch=city))
    allocations = []
    for n in range(30):
        day = timezone.make_aware(timezone.datetime(2021, 5, rng.randint(5, 31), 15, 0))
        allocations.append(
            Allocation(
                serial=f"BRBF2021-{n:06d}",
                branch=city,
                campaign=campaign,
                recipient=rng.choice(recipients),
                kind=DonationKind.CASH,
                basis="plan",
                amount=Decimal(rng.randint(1000, 100000)),
                allocated_on=day.date(),
                status="confirmed",
                registered_by=staff,
                confirmed_by=reviewer,
                confirmed_at=day,
            )
        )
    Allocation.objects.bulk_create(allocations)
    return city


def run() -> Iterator[tuple[str, str, str]]:
    from django.db import connection

    count = int(os.environ.get("BENCH_REPORT_DONATIONS", "100000"))
    began = time.perf_counter()
    city = _seed(count)
    yield f"report_seed_{count}_donations", f"{time.perf_counter() - began:.1f}", "s"
    label = "100k" if count == 100_000 else str(count)
    database_name = connection.settings_dict["NAME"]
    connection.close()  # the children open their own connections
    # forkserver, not spawn: a spawned child's ru_maxrss starts at this (large) process's peak, because
    # Linux carries the peak across exec; children forked by the fresh fork server start clean
    context = multiprocessing.get_context("forkserver")
    for fmt in ("xlsx", "csv", "pdf"):
        with context.Pool(1) as pool:
            elapsed, before, after, _hwm, size = pool.apply(_export_in_child, (database_name, city.pk, fmt))
        yield f"report_month_{label}_{fmt}", f"{elapsed:.2f}", "s"
        yield f"report_month_{label}_{fmt}_peak_memory", f"{after / 1024:.0f}", "MB"
        yield f"report_month_{label}_{fmt}_memory_growth", f"{(after - before) / 1024:.0f}", "MB"
        yield f"report_month_{label}_{fmt}_size", f"{size / 1024:.0f}", "kB"

"""Receipt PDFs: render time, size, memory over many renders, and issuing throughput with 2 workers.

Figures:
- receipt_pdf_render_median / _p95: one receipt's PDF (QR code + template +
  WeasyPrint, what ``receipt_render_pdf`` does before storing it), over
  ``BENCH_RECEIPT_RENDERS`` renders (default 200) after a warm-up, alternating
  cash receipts and 5-line in-kind receipts, some donors with rare GBK name
  characters (喆 堃 镕 ...), which come from the font's rare parts (an extra
  embedded font each, see redcross/fonts/README.md).
- receipt_pdf_size: the largest of those PDFs; certificate_pdf_size: the
  largest certificate rendered while the donations were confirmed.
- render_memory_growth_1000: growth of this process's VmRSS over 1000 more
  renders (``BENCH_RECEIPT_MEMORY_RENDERS``). Before each reading the garbage
  collector runs and glibc is asked to return freed memory (malloc_trim):
  WeasyPrint copies each font file it uses per document (the 2 MB common
  parts, 0.5 MB rare parts), and once glibc has freed such a block it keeps
  memory for reuse at some point in the first renders, a one-off step that
  would otherwise show as growth or not depending on when it happens. What is
  left is memory still in use.
- receipts_issued_per_second_2_workers: ``BENCH_RECEIPT_ISSUE`` (default 300)
  confirmed donations, split between 2 forked processes, each calling
  ``receipt_issue`` for its half; Celery runs eagerly here, so each issue also
  renders and stores the PDF after commit, as a worker would. Timed from both
  processes being ready (connected, fonts loaded) until both are done, on the
  configured database (SQLite file or PostgreSQL).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.db import connections
from django.utils import timezone

DONORS = [
    ("organisation", "澜州镕喆科技有限公司"),
    ("person", "王喆"),
    ("organisation", "青川市爱心商贸有限公司"),
    ("person", "李堃"),
    ("person", "张伟"),
    ("organisation", "青川昇珺医疗器械有限公司"),
    ("person", "孙赟"),
    ("person", "刘芳"),
]
GOODS = [
    {"name": "医用防护服", "specification": "一次性 L号", "quantity": "1000", "unit": "套", "unit_value": "105.11"},
    {"name": "N95口罩", "specification": "独立包装", "quantity": "20000", "unit": "只", "unit_value": "3.50"},
    {"name": "消毒液", "specification": "84型 5L", "quantity": "50", "unit": "桶", "unit_value": "20"},
    {"name": "方便面", "specification": "", "quantity": "200", "unit": "箱", "unit_value": "45"},
    {"name": "棉被", "specification": "2米×2.3米", "quantity": "300", "unit": "床", "unit_value": "168.00"},
]


def _rss_mb(*, trim: bool = False) -> float:
    """This process's resident memory (VmRSS), after returning freed memory to the system if ``trim``."""
    if trim:
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class _Setup:
    """A branch, a clerk and a finance reviewer, a campaign, and donors."""

    def __init__(self) -> None:
        from redcross.models import Branch, BranchLevel
        from tests.donations.factories import CampaignFactory, OrganisationDonorFactory, PersonDonorFactory
        from tests.factories import StaffFactory

        self.branch = Branch.objects.create(name="基准票据市红十字会", code="BRCT", level=BranchLevel.CITY)
        self.clerk = StaffFactory(
            username="bench-receipt-clerk",
            branch=self.branch,
            roles=["donation_clerk"],
            last_name="林",
            first_name="晓雨",
        )
        self.reviewer = StaffFactory(
            username="bench-receipt-reviewer",
            branch=self.branch,
            roles=["finance_reviewer"],
            last_name="周",
            first_name="明远",
        )
        self.campaign = CampaignFactory(branch=self.branch, name="基准抗洪救灾专项募捐", slug="bench-receipts")
        factories = {"organisation": OrganisationDonorFactory, "person": PersonDonorFactory}
        self.donors = [
            factories[kind](branch=self.branch, name=name, created_by=self.clerk, wants_receipt=True)
            for kind, name in DONORS
        ]

    def confirmed_donation(self, n: int, *, in_kind: bool):
        from donations.services.intake import donation_confirm, donation_register

        common = {
            "by": self.clerk,
            "branch": self.branch,
            "donor": self.donors[n % len(self.donors)],
            "campaign": self.campaign,
            "received_at": timezone.now() - timedelta(hours=1),
        }
        if in_kind:
            items = [{**item, "value_basis": "invoice"} for item in GOODS]
            donation = donation_register(**common, kind="in_kind", channel="on_site", amount=None, items=items)
        else:
            amount = f"{(n * 7919) % 100000 + 1}.{n % 100:02d}"
            donation = donation_register(**common, kind="cash", channel="bank", amount=amount)
        return donation_confirm(donation=donation, by=self.reviewer)


def _issue_worker(donation_ids: list[int], reviewer_id: int, barrier, errors) -> None:
    """Child process: warm up, wait for the start, issue a receipt (and its PDF) per donation."""
    from donations.models import Donation
    from donations.services.receipts import receipt_issue
    from redcross.models import User
    from redcross.pdf import _render_setup

    try:
        reviewer = User.objects.get(pk=reviewer_id)  # opens this process's own connection
        _render_setup()  # what a long-running worker has already done
        barrier.wait(timeout=120)
        for pk in donation_ids:
            receipt_issue(donation=Donation(pk=pk), by=reviewer)
    except BaseException as exc:  # reported to the parent, which fails the benchmark
        errors.put(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        connections.close_all()


def _issue_throughput(setup: _Setup, count: int) -> float:
    from donations.models import PdfStatus, Receipt

    donation_ids = [setup.confirmed_donation(n, in_kind=n % 4 == 3).pk for n in range(count)]
    halves = [donation_ids[0::2], donation_ids[1::2]]
    # Forked children must open their own connections (SQLite: the same test
    # database file, settings_dict['NAME']; PostgreSQL: the test database).
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(halves) + 1)
    errors = context.Queue()
    workers = [
        context.Process(target=_issue_worker, args=(half, setup.reviewer.pk, barrier, errors)) for half in halves
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    for worker in workers:
        worker.join(timeout=600)
    elapsed = time.perf_counter() - start
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed or not errors.empty():
        reason = errors.get(timeout=1) if not errors.empty() else "no message"
        raise RuntimeError(f"issuing workers failed (exit codes {failed}): {reason}")
    ready = Receipt.objects.filter(donation_id__in=donation_ids, pdf_status=PdfStatus.READY).exclude(pdf="").count()
    assert ready == count, f"{ready} of {count} receipts have their PDF"
    return count / elapsed


def run() -> Iterator[tuple[str, str, str]]:
    from donations.models import Certificate
    from donations.services.receipts import receipt_issue, receipt_pdf_bytes

    renders = int(os.environ.get("BENCH_RECEIPT_RENDERS", "200"))
    memory_renders = int(os.environ.get("BENCH_RECEIPT_MEMORY_RENDERS", "1000"))
    issue_count = int(os.environ.get("BENCH_RECEIPT_ISSUE", "300"))

    setup = _Setup()
    # 16 real receipts: cash and 5-line in-kind, alternating, over all donors
    donations = [setup.confirmed_donation(n, in_kind=n % 2 == 1) for n in range(16)]
    receipts = [receipt_issue(donation=donation, by=setup.reviewer) for donation in donations]
    assert receipts[1].lines and len(receipts[1].lines) == len(GOODS)

    for receipt in receipts:  # warm-up: templates, fonts, Pango
        receipt_pdf_bytes(receipt)
    timings, sizes = [], []
    for n in range(renders):
        start = time.perf_counter()
        content = receipt_pdf_bytes(receipts[n % len(receipts)])
        timings.append(time.perf_counter() - start)
        sizes.append(len(content))
    timings.sort()
    yield "receipt_pdf_render_median", f"{statistics.median(timings) * 1000:.1f}", "ms"
    yield "receipt_pdf_render_p95", f"{timings[min(len(timings) - 1, round(0.95 * len(timings)))] * 1000:.1f}", "ms"
    yield "receipt_pdf_size", f"{max(sizes) / 1000:.1f}", "kB"

    certificate_sizes = [
        certificate.pdf.size for certificate in Certificate.objects.filter(donation__in=donations) if certificate.pdf
    ]
    assert certificate_sizes, "no certificate PDF was rendered"
    yield "certificate_pdf_size", f"{max(certificate_sizes) / 1000:.1f}", "kB"

    before = _rss_mb(trim=True)
    for n in range(memory_renders):
        receipt_pdf_bytes(receipts[n % len(receipts)])
    label = "render_memory_growth_1000" if memory_renders == 1000 else f"render_memory_growth_{memory_renders}"
    yield label, f"{_rss_mb(trim=True) - before:.1f}", "MB"

    rate = _issue_throughput(setup, issue_count)
    yield "receipts_issued_per_second_2_workers", f"{rate:.1f}", "receipts/s"

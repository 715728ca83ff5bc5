"""Training certificates: the public verification page under load, and PDF rendering with two
worker processes.

Figures:
- training_verify_db_ms: database time of finding a certificate by its code (median of 20).
- training_verify_http_rps / _p95 / _errors: gunicorn with redcross/gunicorn.conf.py
  (``BENCH_ROLL_WORKERS`` sync workers, default two per CPU) serving ``/verify/<code>/`` of a
  training certificate, loaded by wrk with 20 connections for ``BENCH_ROLL_SECONDS`` (default 10),
  through the honor roll's harness (``bench_honor_roll._serve_and_load``). The page is never
  cached (``private_page``): every request reads the database and renders. ``_cpu_ms`` is the
  gunicorn processes' CPU time per request, which other jobs on the machine change little.
- training_certificate_pdfs_per_second_2_workers: ``BENCH_TRAINING_PDFS`` (default 1000) issued
  certificates, one in four with a photo, rendered and stored by two forked processes calling
  ``certificate_render_pdf`` (what the Celery task runs), timed from both being ready (connected,
  fonts loaded) until both are done.
- training_certificate_pdf_cpu_ms: the workers' CPU time per PDF (rendering, storing, the database
  client's share), a figure that stays meaningful on a machine busy with other jobs.
- training_certificate_pdf_size: the largest of those PDFs.

Certificates are issued through ``certificate_issue`` (trainees, attendance and results are
bulk-created), with the render enqueue held back so the timing covers the rendering alone.
``BENCH_TRAINING_HTTP=0`` skips the HTTP part.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone


def _photo_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 400), (220, 226, 232))
    draw = ImageDraw.Draw(image)
    draw.ellipse((90, 60, 210, 180), fill=(120, 130, 140))
    draw.rectangle((60, 200, 240, 400), fill=(120, 130, 140))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _issue(count: int) -> list[int]:
    """``count`` certificates of one held session (its trainees passed, attended all hours)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from redcross.models import Branch, BranchLevel, Person
    from tests.factories import StaffFactory
    from training.models import Attendance, Audience, Certificate, CourseKind, ExamPart, ExamResult, SessionStatus
    from training.services.certificates import certificate_issue
    from training.services.sessions import session_create, session_set_status

    branch = Branch.objects.create(name="基准培训市红十字会", code="BTRN", level=BranchLevel.CITY)
    officer = StaffFactory(username="bench-training-officer", branch=branch, roles=["training_officer"])
    start = timezone.now() - timedelta(days=2)
    session = session_create(
        branch=branch, title="基准救护员培训班", kind=CourseKind.FIRST_AIDER, audience=Audience.COMMUNITY,
        venue="基准培训教室", starts_at=start, ends_at=start + timedelta(hours=8), capacity=count, by=officer,
    )  # fmt: skip
    session_set_status(session=session, status=SessionStatus.HELD, by=officer)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗欧阳", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平镕喆"

    def name(n: int) -> str:
        return surnames[n % len(surnames)] + given[n % len(given)] + given[(n * 7) % len(given)]

    people = Person.objects.bulk_create(Person(name=name(n), phone=f"137{n:08d}", branch=branch) for n in range(count))
    Attendance.objects.bulk_create(Attendance(session=session, person=p, hours_attended=session.hours) for p in people)
    ExamResult.objects.bulk_create(
        ExamResult(session=session, person=p, part=part, passed=True) for p in people for part in ExamPart.values
    )
    photo = _photo_png()
    with mock.patch("redcross.documents.document_pdf_enqueue"):  # rendered below, by the two workers
        for n, person in enumerate(people):
            with_photo = SimpleUploadedFile(f"p{n}.png", photo) if n % 4 == 0 else None
            certificate_issue(session=session, person=person, by=officer, photo=with_photo)
    return list(Certificate.objects.filter(session=session).order_by("pk").values_list("pk", flat=True))


def _render_worker(ids: list[int], barrier, errors, cpu) -> None:
    from redcross.pdf import _render_setup
    from training.services.certificates import certificate_render_pdf

    try:
        connection.ensure_connection()
        _render_setup()  # what a long-running worker has already done
        barrier.wait(timeout=120)
        began = time.process_time()
        for pk in ids:
            certificate_render_pdf(certificate_id=pk)
        cpu.put(time.process_time() - began)
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        connections.close_all()


def _render_throughput(ids: list[int]) -> tuple[float, float]:
    """PDFs per second (wall clock) and CPU milliseconds per PDF (both workers' process time)."""
    halves = [ids[0::2], ids[1::2]]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(halves) + 1)
    errors, cpu = context.Queue(), context.Queue()
    workers = [context.Process(target=_render_worker, args=(half, barrier, errors, cpu)) for half in halves]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    began = time.perf_counter()
    for worker in workers:
        worker.join(timeout=1800)
    elapsed = time.perf_counter() - began
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed or not errors.empty():
        reason = errors.get(timeout=1) if not errors.empty() else "no message"
        raise RuntimeError(f"render workers failed (exit codes {failed}): {reason}")
    cpu_seconds = sum(cpu.get(timeout=5) for _ in workers)
    return len(ids) / elapsed, cpu_seconds * 1000 / len(ids)


def run() -> Iterator[tuple[str, str, str]]:
    from bench.bench_honor_roll import _serve_and_load
    from bench.timing import db_ms
    from redcross.documents import PdfStatus
    from redcross.verification import document_by_code
    from training.models import Certificate

    count = int(os.environ.get("BENCH_TRAINING_PDFS", "1000"))
    seconds = int(os.environ.get("BENCH_ROLL_SECONDS", "10"))
    workers = int(os.environ.get("BENCH_ROLL_WORKERS", str(2 * (os.cpu_count() or 1))))
    began = time.perf_counter()
    ids = _issue(count)
    yield f"training_certificates_issued_{count}", f"{time.perf_counter() - began:.0f}", "s"
    label = connection.vendor
    if label == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    code = Certificate.objects.get(pk=ids[len(ids) // 2]).verification_code
    yield f"training_verify_db_ms_{label}", f"{db_ms(lambda: document_by_code(code)):.2f}", "ms"

    rate, cpu_ms = _render_throughput(ids)
    ready = Certificate.objects.filter(pk__in=ids, pdf_status=PdfStatus.READY).exclude(pdf="")
    assert ready.count() == len(ids), f"{ready.count()} of {len(ids)} certificates have their PDF"
    yield f"training_certificate_pdfs_per_second_2_workers_{label}", f"{rate:.1f}", "PDFs/s"
    # what one PDF costs the worker's CPU, whatever else the machine runs: 2 CPUs give 2000 / this per second
    yield "training_certificate_pdf_cpu_ms", f"{cpu_ms:.1f}", "ms"
    largest = max(certificate.pdf.size for certificate in ready[:50])
    yield "training_certificate_pdf_size", f"{largest / 1000:.1f}", "kB"

    if os.environ.get("BENCH_TRAINING_HTTP", "1") == "0":
        return
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    connection.close()
    figures = _serve_and_load(cache_seconds=0, seconds=seconds, workers=workers, path=f"/verify/{code}/")
    if figures is None:
        yield "training_verify_http", "skipped (no wrk)", ""
        return
    yield f"training_verify_http_rps_{label}", f"{figures['rps']:.0f}", "requests/s"
    yield f"training_verify_http_p95_{label}", f"{figures['p95']:.1f}", "ms"
    yield f"training_verify_http_errors_{label}", str(figures["errors"]), "errors"
    # the server's CPU per page: on an idle 2-CPU machine about 2000 / this requests/s, less wrk's share
    yield f"training_verify_http_cpu_ms_{label}", f"{figures['cpu_ms']:.2f}", "ms"

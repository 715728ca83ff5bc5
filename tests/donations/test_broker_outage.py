"""A gift confirmed while the broker is down: the confirmation is committed, the reviewer sees
success (admin and API), and once the broker is back the sweeper enqueues the certificate's PDF,
which then appears. Running the sweeper again sends and renders nothing more."""

import logging
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from donations import tasks
from donations.models import Certificate, Donation, DonationStatus, PdfStatus
from donations.services.intake import donation_confirm, donation_register
from redcross.celery import app as celery_app
from redcross.documents import documents_pdf_sweep
from redcross.tasks import documents_pdf_sweep_task
from tests.donations.factories import PersonDonorFactory
from tests.redcross.test_celery_worker import ROOT, _test_database_url


def _gift(clerk, city, campaign) -> Donation:
    return donation_register(
        by=clerk, branch=city, donor=PersonDonorFactory(branch=city, name="张三", phone="13800138000"),
        campaign=campaign, kind="cash", channel="bank", received_at=timezone.now() - timedelta(hours=1),
        amount="520.00",
    )  # fmt: skip


class Outage:
    """Sending a render task fails as it does with Redis stopped, until ``end()``."""

    def __init__(self, monkeypatch):
        self.attempts: list[int] = []
        self._monkeypatch = monkeypatch
        monkeypatch.setattr(tasks.certificate_render_pdf_task, "delay", self._refuse)

    def _refuse(self, pk):
        self.attempts.append(pk)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def end(self) -> None:
        self._monkeypatch.undo()


@pytest.fixture
def broker_down(monkeypatch):
    return Outage(monkeypatch)


def _broker_returns_and_the_sweeper_runs(certificate: Certificate, outage: Outage) -> None:
    outage.end()
    # the sweeper picks up PDFs pending longer than PDF_PENDING_SWEEP_MINUTES
    Certificate.objects.filter(pk=certificate.pk).update(pdf_requested_at=timezone.now() - timedelta(minutes=6))
    assert documents_pdf_sweep_task.delay().get() == 1  # the beat's task (eager in tests)
    certificate.refresh_from_db()
    assert certificate.pdf_status == PdfStatus.READY
    assert Path(certificate.pdf.path).read_bytes().startswith(b"%PDF")
    first = (certificate.pdf.name, Path(certificate.pdf.path).stat().st_mtime_ns)
    # idempotent: nothing is pending, so a second sweep sends and renders nothing
    Certificate.objects.filter(pk=certificate.pk).update(pdf_requested_at=timezone.now() - timedelta(minutes=60))
    assert documents_pdf_sweep() == 0
    certificate.refresh_from_db()
    assert (certificate.pdf.name, Path(certificate.pdf.path).stat().st_mtime_ns) == first


@pytest.mark.django_db
def test_the_admin_confirms_a_gift_with_the_broker_down_and_the_pdf_appears_later(
    client, clerk, reviewer, city, campaign, broker_down, caplog, django_capture_on_commit_callbacks
):
    donation = _gift(clerk, city, campaign)
    client.force_login(reviewer)
    with (
        caplog.at_level(logging.WARNING, logger="redcross.documents"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("admin:donations_donation_changelist"),
            {"action": "confirm", "_selected_action": [donation.pk]},
            follow=True,
        )
    assert response.status_code == 200
    texts = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert texts == [("info", "已复核 1 笔捐赠")]  # the reviewer sees success and no error
    donation.refresh_from_db()
    assert (donation.status, donation.confirmed_by) == (DonationStatus.CONFIRMED, reviewer)
    certificate = Certificate.objects.get(donation=donation)
    assert broker_down.attempts == [certificate.pk]  # the enqueue was tried after commit, and failed
    assert (certificate.pdf_status, certificate.pdf.name) == (PdfStatus.PENDING, "")
    assert certificate.pdf_requested_at is not None
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert f"donations.Certificate {certificate.pk}" in logged
    assert "张三" not in logged and "13800138000" not in logged

    _broker_returns_and_the_sweeper_runs(certificate, broker_down)


@pytest.mark.django_db
def test_the_api_confirms_a_gift_with_the_broker_down_and_the_pdf_appears_later(
    client, clerk, reviewer, city, campaign, broker_down, django_capture_on_commit_callbacks
):
    donation = _gift(clerk, city, campaign)
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/donations/{donation.pk}/confirm/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == DonationStatus.CONFIRMED
    donation.refresh_from_db()
    assert donation.status == DonationStatus.CONFIRMED
    certificate = Certificate.objects.get(donation=donation)
    assert broker_down.attempts == [certificate.pk]
    assert certificate.pdf_status == PdfStatus.PENDING

    _broker_returns_and_the_sweeper_runs(certificate, broker_down)


# --- the same with a real broker that is not there, and a real worker once it is -----------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def _use_broker(url: str) -> None:
    # the app keeps its connection and producer pools for the URL it first used
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _wait_for(condition, worker, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            pytest.fail(f"worker exited while waiting for {what}: {worker.stdout.read()[-3000:]}")
        time.sleep(0.5)
    worker.terminate()
    pytest.fail(f"timed out waiting for {what}: {worker.communicate(timeout=20)[0][-4000:]}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_gift_confirmed_with_no_broker_gets_its_pdf_from_a_real_worker_once_the_broker_returns(
    branch_tree, settings, caplog
):
    from tests.donations.factories import CampaignFactory
    from tests.factories import StaffFactory

    city = branch_tree["city"]
    clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    reviewer = StaffFactory(branch=city, roles=["finance_reviewer"])
    donation = _gift(clerk, city, CampaignFactory(branch=city))
    real_broker = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    worker = None
    try:
        _use_broker(f"redis://127.0.0.1:{_closed_port()}/0")
        with caplog.at_level(logging.WARNING, logger="redcross.documents"):
            confirmed = donation_confirm(donation=donation, by=reviewer)  # raises nothing
        assert Donation.objects.get(pk=donation.pk).status == DonationStatus.CONFIRMED == confirmed.status
        certificate = Certificate.objects.get(donation=donation)
        assert certificate.pdf_status == PdfStatus.PENDING
        assert any("not enqueued (OperationalError)" in record.getMessage() for record in caplog.records)

        _use_broker(real_broker)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "redcross.settings_test",
            "DATABASE_URL": _test_database_url(),
            "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "redcross", "worker", "--pool=solo", "--queues=heavy,default",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname=outage@%h"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert documents_pdf_sweep(older_than=timedelta(0)) == 1
        _wait_for(
            lambda: Certificate.objects.get(pk=certificate.pk).pdf_status == PdfStatus.READY, worker, "the swept render"
        )
        certificate.refresh_from_db()
        assert Path(certificate.pdf.path).read_bytes().startswith(b"%PDF")
        assert documents_pdf_sweep(older_than=timedelta(0)) == 0  # nothing pending: nothing sent again
    finally:
        _use_broker(real_broker)
        celery_app.conf.task_always_eager = True
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()

"""A worker killed while rendering a receipt: the task is redelivered and the PDF appears.

Late acknowledgement plus ``task_reject_on_worker_lost`` put the message back
when the pool process dies; the surviving worker runs it again.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from donations.models import PdfStatus, Receipt
from donations.services.intake import donation_confirm, donation_register
from donations.services.receipts import receipt_issue
from redcross.celery import app as celery_app
from tests.donations.factories import CampaignFactory, OrganisationDonorFactory
from tests.factories import StaffFactory
from tests.redcross.test_celery_worker import ROOT, _test_database_url


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_receipt_pdf_survives_a_killed_worker(branch_tree, tmp_path, settings):
    marker = tmp_path / "render.pid"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "redcross.settings_test",
        "DATABASE_URL": _test_database_url(),
        "REDCROSS_FAULT_PAUSE_ONCE_RECEIPT_RENDER": str(marker),
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "redcross", "worker", "--pool=prefork", "--concurrency=1",
         "--queues=heavy,default", "--loglevel=INFO", "--without-gossip", "--without-mingle",
         "--hostname=crash@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    celery_app.conf.task_always_eager = False
    try:
        city = branch_tree["city"]
        clerk = StaffFactory(branch=city, roles=["donation_clerk"])
        reviewer = StaffFactory(branch=city, roles=["finance_reviewer"])
        donation = donation_register(
            by=clerk, branch=city, donor=OrganisationDonorFactory(branch=city), campaign=CampaignFactory(branch=city),
            kind="cash", channel="bank", received_at=timezone.now() - timedelta(hours=1), amount="2020.20",
        )  # fmt: skip
        donation = donation_confirm(donation=donation, by=reviewer)
        receipt = receipt_issue(donation=donation, by=reviewer)

        pid = _wait_for(lambda: marker.exists() and marker.read_text().strip(), worker, "the render to start")
        os.kill(int(pid), signal.SIGKILL)  # the pool process dies mid-render
        _wait_for(
            lambda: Receipt.objects.get(pk=receipt.pk).pdf_status == PdfStatus.READY, worker, "the redelivered render"
        )
        receipt.refresh_from_db()
        assert Path(receipt.pdf.path).read_bytes().startswith(b"%PDF")
        assert Receipt.objects.filter(donation=donation).count() == 1  # rendering never issues a second receipt
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _wait_for(condition, worker, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker.poll() is not None:
            pytest.fail(f"worker exited while waiting for {what}: {worker.stdout.read()[-3000:]}")
        time.sleep(0.5)
    worker.terminate()
    pytest.fail(f"timed out waiting for {what}: {worker.communicate(timeout=20)[0][-4000:]}")

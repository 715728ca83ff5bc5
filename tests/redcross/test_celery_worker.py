"""A task runs end to end through a real Celery worker process.

On the embedded default the broker is kombu's filesystem transport; with
REDIS_URL set (as in CI) it is Redis. The worker shares the test database.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from bench.serve import database_url as _test_database_url  # the worker connects to the test database
from redcross.celery import app as celery_app
from redcross.models import WorkerHeartbeat
from redcross.tasks import worker_heartbeat_task

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def real_worker():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "redcross.settings_test", "DATABASE_URL": _test_database_url()}
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "redcross", "worker",
            "--pool=solo", "--queues=default", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--hostname=pytest@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


@pytest.fixture
def not_eager():
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_task_enqueued_on_commit_runs_in_a_real_worker(real_worker, not_eager):
    with transaction.atomic():
        worker_heartbeat_task.delay_on_commit()
        # nothing is sent before the transaction commits
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(name="worker").exists():
            break
        if real_worker.poll() is not None:
            pytest.fail(f"worker exited: {real_worker.stdout.read()[-3000:]}")
        time.sleep(0.5)
    else:
        real_worker.terminate()
        pytest.fail(f"task did not run within 90 s: {real_worker.communicate(timeout=20)[0][-3000:]}")
    heartbeat = WorkerHeartbeat.objects.get(name="worker")
    assert heartbeat.beats == 1
    assert heartbeat.hostname
    # the broker in use is the configured one
    expected = "redis" if settings.REDIS_URL else "filesystem"
    assert celery_app.connection_for_write().transport_cls.startswith(expected) or expected in str(
        celery_app.conf.broker_url
    )


@pytest.mark.django_db
def test_heartbeat_task_is_idempotent_apart_from_its_counter():
    worker_heartbeat_task.delay()
    worker_heartbeat_task.delay()
    heartbeat = WorkerHeartbeat.objects.get(name="worker")
    assert heartbeat.beats == 2
    assert WorkerHeartbeat.objects.count() == 1


def test_every_periodic_job_is_declared_in_one_schedule():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["worker-heartbeat"]["task"] == "redcross.tasks.worker_heartbeat_task"
    assert set(celery_app.conf.beat_schedule) == set(schedule)
    registered = set(celery_app.tasks)
    assert all(entry["task"] in registered for entry in schedule.values())

"""Kernel tasks. Tasks only call a service; they take ids, never model instances."""

from celery import shared_task

from redcross.services import worker_heartbeat_record


@shared_task(name="redcross.tasks.worker_heartbeat_task", ignore_result=True)
def worker_heartbeat_task() -> None:
    worker_heartbeat_record(name="worker")

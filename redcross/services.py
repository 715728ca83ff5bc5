"""Kernel writes: the branch tree and the worker heartbeat."""

from __future__ import annotations

import socket

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from redcross.models import WorkerHeartbeat


@transaction.atomic
def worker_heartbeat_record(*, name: str) -> WorkerHeartbeat:
    """Note that the worker ran; idempotent apart from the counter."""
    heartbeat, created = WorkerHeartbeat.objects.get_or_create(
        name=name, defaults={"last_seen": timezone.now(), "hostname": socket.gethostname(), "beats": 1}
    )
    if not created:
        WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(
            last_seen=timezone.now(), hostname=socket.gethostname(), beats=F("beats") + 1
        )
        heartbeat.refresh_from_db()
    return heartbeat

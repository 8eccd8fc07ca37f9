"""Delivering the outbox (entry points; the work is in messaging/outbox.py)."""

from __future__ import annotations

from datetime import timedelta

from rq import get_current_job
from rq.job import Job

from kamportal.jobs import queue
from kamportal.messaging import outbox
from kamportal.services import clock

# A message younger than this may still be waiting for its after-commit enqueue.
LOST_AFTER = timedelta(minutes=2)


@queue.job
def deliver(message_id: int) -> str:
    """Send outbox message `message_id` once; raises on failure so RQ retries it."""
    current = get_current_job()
    last_attempt = current is None or not current.retries_left
    return outbox.deliver(message_id, last_attempt=last_attempt).value


@queue.job
def reconcile() -> int:
    """Re-enqueue delivery for pending messages whose job Redis no longer has."""
    connection = queue.get_queue().connection
    requeued = 0
    for message_id in outbox.pending_message_ids(created_before=clock.now() - LOST_AFTER):
        job_id = outbox.delivery_job_id(message_id)
        if not Job.exists(job_id, connection=connection):
            queue.enqueue(outbox.DELIVER_JOB, message_id, job_id=job_id)
            requeued += 1
    return requeued

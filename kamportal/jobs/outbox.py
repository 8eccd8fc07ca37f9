"""Delivering the outbox (entry points; the work is in messaging/outbox.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from rq import get_current_job
from rq.job import JobStatus

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.messaging import outbox

log = logging.getLogger(__name__)

# A message younger than this may still be waiting for its after-commit enqueue.
LOST_AFTER = timedelta(minutes=2)


@queue.job
def deliver(message_id: int) -> str | None:
    """Send outbox message `message_id` once (house style, Messages); returns its status.

    Raises what the transport raised so that RQ retries; the last attempt leaves the
    message failed and visible. A message already sent, or being sent, is not sent again.
    """
    current = get_current_job()
    last_attempt = current is None or not current.retries_left
    status = outbox.deliver(message_id, last_attempt=last_attempt)
    return None if status is None else status.value


@queue.job
def reconcile() -> int:
    """Put right what Redis lost or a dead worker left behind; returns how many were re-enqueued.

    A pending message whose delivery job is gone, or ended without delivering it (its
    retries spent while the database was down), is enqueued again. A message claimed by a
    delivery that is no longer running is marked failed, for a person to check and retry:
    nobody knows whether it went out. A delivery whose worker died reads as running only
    until its heartbeat lapses (jobs/worker.py): RQ settles those first. Idempotent; runs
    from cron (`jobs/cron.py`).
    """
    queue.settle_abandoned_jobs()
    settled = clock.now() - LOST_AFTER
    requeued = queue.reconcile(
        (
            queue.Owed(outbox.delivery_job_id(message_id), outbox.DELIVER_JOB, (message_id,))
            for message_id in outbox.pending_message_ids(created_before=settled)
        ),
        now=clock.now(),
        what="outbox deliveries",
    )
    for message_id, attempts in outbox.sending_messages():
        running = queue.job_status(outbox.delivery_job_id(message_id)) is JobStatus.STARTED
        if not running and outbox.mark_interrupted(message_id, attempts=attempts):
            log.warning("outbox message %s: delivery interrupted, marked failed", message_id)
    db.session.commit()
    return requeued

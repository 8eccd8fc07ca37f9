"""Meeting confirmations (rule F3): entry points; the rule is in services/meetings.py."""

from __future__ import annotations

import logging

from rq.job import JobStatus

from kamportal.extensions import db
from kamportal.jobs import queue
from kamportal.models.meetings import Meeting
from kamportal.services import clock, meetings

log = logging.getLogger(__name__)

# A confirmation job in one of these states will still run.
_WILL_RUN = frozenset(
    {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}
)


@queue.job
def send_confirmation(meeting_id: int, sequence: int) -> str:
    """Rule F3: confirm version `sequence` of meeting `meeting_id`; returns what it did.

    Re-reads the meeting and sends nothing ("skipped") if it is gone, cancelled or
    closed, moved since (another sequence), already confirmed for this sequence, or
    already started. Otherwise the email goes to the outbox (its own job delivers it)
    and the meeting and timeline record it ("queued"). Idempotent; commits.
    """
    meeting = db.session.get(Meeting, meeting_id)
    message = None if meeting is None else meetings.queue_confirmation(meeting, sequence=sequence)
    db.session.commit()
    return "skipped" if message is None else "queued"


@queue.job
def reconcile_confirmations() -> int:
    """Re-create confirmation jobs Redis lost (F3); returns how many were enqueued.

    For each meeting still ahead whose current version is unconfirmed: a confirmation
    still due later is scheduled again at its time if its job is gone; one whose time
    passed (Redis lost it, or no worker ran) is enqueued now unless its job is queued or
    running. Idempotent; runs from cron (`jobs/cron.py`).
    """
    now = clock.now()
    enqueued = 0
    for meeting in meetings.confirmations_owed(now=now):
        job_id = meetings.confirm_job_id(meeting.id, meeting.sequence)
        status = queue.job_status(job_id)
        due = meeting.confirmation_due_at
        if due > now:
            if status in _WILL_RUN:
                continue
            queue.enqueue(meetings.CONFIRM_JOB, meeting.id, meeting.sequence, job_id=job_id, at=due)
        else:
            # Past due: a job still "scheduled" waits for a scheduler that did not run.
            if status in {JobStatus.QUEUED, JobStatus.STARTED}:
                continue
            queue.enqueue(meetings.CONFIRM_JOB, meeting.id, meeting.sequence, job_id=job_id)
        log.debug("meeting %s: confirmation %s enqueued again", meeting.id, job_id)
        enqueued += 1
    db.session.commit()
    if enqueued:
        # One line, not one per meeting: a fresh start (the demo) re-creates them all.
        log.info("%s meeting confirmation jobs enqueued again", enqueued)
    return enqueued

"""Meeting confirmations (rule F3): entry points; the rule is in services/meetings.py."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.models.meetings import Meeting
from kamportal.services import meetings


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
    owed = [
        queue.Owed(
            meetings.confirm_job_id(meeting.id, meeting.sequence),
            meetings.CONFIRM_JOB,
            (meeting.id, meeting.sequence),
            meeting.confirmation_due_at,
        )
        for meeting in meetings.confirmations_owed(now=now)
    ]
    db.session.commit()
    return queue.reconcile(owed, now=now, what="meeting confirmations")

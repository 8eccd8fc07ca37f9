"""The no-reply ladder's timed step (F2): entry points; the work is in services/followups.py."""

from __future__ import annotations

import logging

from rq.job import JobStatus

from kamportal.extensions import db
from kamportal.jobs import queue
from kamportal.services import clock, followups

log = logging.getLogger(__name__)

# A WhatsApp job in one of these states will still run (or is running).
_WILL_RUN = frozenset(
    {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}
)


@queue.job
def send_whatsapp(ladder_id: int) -> str:
    """F2: at the due time, the WhatsApp asking the client to check the follow-up email.

    Re-reads the ladder: nothing is sent if it stopped, was sent already, or a reply was
    logged since the call. Running it twice sends once. Commits; returns what happened.
    """
    outcome = followups.send_due_whatsapp(ladder_id)
    db.session.commit()
    return outcome


@queue.job
def reconcile_ladders() -> int:
    """Put right what Redis lost: re-create a lost WhatsApp job at its due time, and send a
    due WhatsApp whose job did not run (no worker at the time). Idempotent; runs from
    cron (`jobs/cron.py`). Returns how many ladders it acted on.
    """
    now = clock.now()
    acted, failed = 0, []
    for ladder_id, due_at in followups.ladders_to_reconcile():
        job_id = followups.whatsapp_job_id(ladder_id)
        status = queue.job_status(job_id)
        if due_at > now:
            if status not in _WILL_RUN:
                queue.enqueue(followups.WHATSAPP_JOB, ladder_id, job_id=job_id, at=due_at)
                acted += 1
            continue
        if status in (JobStatus.QUEUED, JobStatus.STARTED):
            continue  # a worker is about to send it, or is sending it
        try:
            followups.send_due_whatsapp(ladder_id)
            db.session.commit()
        except Exception:
            # One broken ladder must not hold back the others; the sweep still fails below.
            db.session.rollback()
            log.exception("ladder %s: the due WhatsApp could not be queued", ladder_id)
            failed.append(ladder_id)
        else:
            acted += 1
    if failed:
        raise RuntimeError(f"ladders {failed}: the due WhatsApp could not be queued")
    return acted

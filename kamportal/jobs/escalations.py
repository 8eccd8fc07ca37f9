"""The escalation ladder's timed steps (E2): entry points; the work is in
services/escalations.py."""

from __future__ import annotations

import logging

from rq.job import JobStatus

from kamportal.extensions import db
from kamportal.jobs import queue
from kamportal.services import clock, escalations

log = logging.getLogger(__name__)

# A step job in one of these states will still run (or is running).
_WILL_RUN = frozenset(
    {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}
)


@queue.job
def run_step(escalation_id: int, step: str) -> str:
    """E2: at its due time, the WhatsApp step ("whatsapp") or the leader step ("leader").

    Re-reads the escalation: nothing is done if it was resolved, paused by a client reply,
    moved on by hand, or the step is done already. Running it twice acts once. Commits;
    returns what happened.
    """
    outcome = escalations.run_due_step(escalation_id, step)
    db.session.commit()
    return outcome


@queue.job
def reconcile_escalations() -> int:
    """Put right what Redis lost: re-create a lost step job at its due time, and run a due
    step whose job did not run (no worker at the time). Idempotent; runs from cron
    (`jobs/cron.py`). Returns how many escalations it acted on.
    """
    now = clock.now()
    acted, failed = 0, []
    for escalation_id, step, due_at in escalations.steps_to_reconcile():
        job_id = escalations.step_job_id(escalation_id, step)
        status = queue.job_status(job_id)
        if due_at > now:
            if status not in _WILL_RUN:
                queue.enqueue(
                    escalations.STEP_JOB, escalation_id, step.value, job_id=job_id, at=due_at
                )
                acted += 1
            continue
        if status in (JobStatus.QUEUED, JobStatus.STARTED):
            continue  # a worker is about to run it, or is running it
        try:
            escalations.run_due_step(escalation_id, step.value)
            db.session.commit()
        except Exception:
            # One broken escalation must not hold back the others; the sweep still fails below.
            db.session.rollback()
            log.exception("escalation %s: the due %s step could not run", escalation_id, step)
            failed.append(escalation_id)
        else:
            acted += 1
    if failed:
        raise RuntimeError(f"escalations {failed}: the due step could not run")
    return acted

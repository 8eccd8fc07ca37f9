"""The escalation ladder's timed steps (E2): entry points; the work is in
services/escalations.py."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import escalations


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
    owed = [
        queue.Owed(
            escalations.step_job_id(escalation_id, step),
            escalations.STEP_JOB,
            (escalation_id, step.value),
            due_at,
        )
        for escalation_id, step, due_at in escalations.steps_to_reconcile()
    ]
    return queue.reconcile(
        owed,
        now=clock.now(),
        run_due=lambda job: escalations.run_due_step(*job.args),
        session=db.session,
        what="escalation steps",
    )

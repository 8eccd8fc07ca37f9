"""The no-reply ladder's timed step (F2): entry points; the work is in services/followups.py."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import followups


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
    owed = [
        queue.Owed(followups.whatsapp_job_id(ladder_id), followups.WHATSAPP_JOB, (ladder_id,), due)
        for ladder_id, due in followups.ladders_to_reconcile()
    ]
    return queue.reconcile(
        owed,
        now=clock.now(),
        run_due=lambda job: followups.send_due_whatsapp(*job.args),
        session=db.session,
        what="no-reply WhatsApp reminders",
    )

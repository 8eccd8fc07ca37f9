"""Product's 48 hours on a customization request (C2): entry points; the work is in
services/customizations.py."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import customizations


@queue.job
def flag_breach(request_id: int) -> str:
    """C2: at the deadline, flag a request still undecided, once, and tell product and
    the ACM's leader. Running it twice flags once. Commits; returns what happened."""
    outcome = customizations.flag_breach(request_id)
    db.session.commit()
    return outcome


@queue.job
def reconcile_breaches() -> int:
    """Put right what Redis lost: re-create a lost breach job at its deadline, and flag a
    breach whose job did not run (no worker at the time). Idempotent; runs from cron
    (`jobs/cron.py`). Returns how many requests it acted on."""
    owed = [
        queue.Owed(
            customizations.breach_job_id(request_id),
            customizations.BREACH_JOB,
            (request_id,),
            due_at,
        )
        for request_id, due_at in customizations.breaches_to_reconcile()
    ]
    return queue.reconcile(
        owed,
        now=clock.now(),
        run_due=lambda job: customizations.flag_breach(*job.args),
        session=db.session,
        what="customization breach checks",
    )

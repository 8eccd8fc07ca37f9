"""The weekly cadence sweep (entry point; the rule is in services/cadence.py)."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import cadence


@queue.job
def sweep_overdue() -> int:
    """Record each live client's weekly-contact lapse on its timeline, once (rule F1).

    Returns how many lapses were recorded. Idempotent: runs from cron (`jobs/cron.py`)."""
    recorded = cadence.record_overdue(clock.now())
    db.session.commit()
    return recorded

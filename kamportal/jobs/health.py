"""The health sweep (entry point; the formula is in services/health.py)."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import health


@queue.job
def refresh_health_scores() -> int:
    """Score every client that has not churned and keep today's row of its history (rule
    P2). Returns how many were scored. Idempotent: runs hourly from cron (`jobs/cron.py`),
    each run rewriting the day's row."""
    result = health.refresh_scores(clock.now())
    db.session.commit()
    return result.scored

"""The monthly reports' drafting sweep (entry point; the rule is in
services/client_reports.py)."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import client_reports


@queue.job
def draft_monthly_reports() -> int:
    """Draft the monthly report of each live or at-risk client whose team's first working
    day of the month has opened (rule P4); returns how many. Idempotent: runs hourly from
    cron (`jobs/cron.py`), so a team's drafts come within the hour after its opening, and
    a failed run is retried by the next one."""
    drafted = client_reports.draft_reports(clock.now())
    db.session.commit()
    return len(drafted)

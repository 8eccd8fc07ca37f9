"""The platform-wide figures' sweep (entry point; the sums are in services/renewals.py and
services/team_view.py, the keeping in services/snapshots.py)."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import renewals, team_view


@queue.job
def refresh_platform_figures() -> None:
    """Sum the renewal forecast over every client (from each day it is where finance and
    admins are), every team's figures and each team's 12 weeks of trends (in its
    leader's zone), and keep them for their pages (issue 17).
    Idempotent: runs every 5 minutes from cron (`jobs/cron.py`), each run replacing the
    last one's figures."""
    now = clock.now()
    renewals.keep_platform_forecast(renewals.platform_forecast_days(now=now), now=now)
    team_view.keep_every_team_figures(now=now)
    team_view.keep_team_trends(now=now)
    db.session.commit()

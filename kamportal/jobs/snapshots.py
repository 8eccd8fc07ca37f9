"""The platform-wide figures' sweep (entry point; the sums are in services/renewals.py and
services/team_view.py, the keeping in services/snapshots.py)."""

from __future__ import annotations

import logging

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import renewals, snapshots, team_view

log = logging.getLogger(__name__)


@queue.job
def refresh_platform_figures() -> None:
    """Sum the renewal forecast over every client (from each day it is where finance and
    admins are), every team's figures and each team's 12 weeks of trends (in its
    leader's zone), and keep them for their pages (issue 17). Idempotent: runs every 5
    minutes from cron (`jobs/cron.py`), one run at a time, each replacing the last one's
    figures. Each kind is committed on its own: one that fails leaves the others fresh
    (its pages sum live), and the job fails, to be retried and seen."""
    now = clock.now()
    failed: list[Exception] = []
    for keep in (
        lambda: renewals.keep_platform_forecast(renewals.platform_forecast_days(now=now), now=now),
        lambda: team_view.keep_every_team_figures(now=now),
        lambda: team_view.keep_team_trends(now=now),
    ):
        try:
            snapshots.one_sweep_at_a_time()
            keep()
            db.session.commit()
        except Exception as error:  # the next kind still runs; the job fails below
            db.session.rollback()
            log.exception("platform figures not kept")
            failed.append(error)
    if failed:
        raise failed[0]

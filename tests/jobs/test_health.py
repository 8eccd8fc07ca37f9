"""The health sweep's job (P2): on cron, hourly."""

from __future__ import annotations

from kamportal.jobs import cron
from kamportal.jobs import health as health_jobs


def test_p2_health_sweep_is_registered_hourly():
    [entry] = [e for e in cron.entries() if e["func"] is health_jobs.refresh_health_scores]
    assert entry["cron"].split()[1:] == ["*", "*", "*", "*"]


def test_p2_health_job_scores_and_commits(app, make_client):
    client = make_client()
    assert health_jobs.refresh_health_scores() == 1
    assert client.health_score is not None

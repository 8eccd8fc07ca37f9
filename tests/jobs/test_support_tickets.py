"""G4's sweep: tickets past their SLA flagged once, and each open ticket's status synced
from Jira in a job of its own, retried by the queue when Jira fails (one ticket's failure
holds back no other)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kamportal import clock, queue
from kamportal.jobs import cron
from kamportal.jobs import support_tickets as support_jobs
from kamportal.models import SupportTicket, TimelineEvent, TimelineKind
from kamportal.models.types import utc
from kamportal.services import support_tickets

OPENED = utc(2026, 12, 3, 10)


def test_the_sweep_is_scheduled():
    assert support_jobs.sync_support_tickets in {entry["func"] for entry in cron.entries()}


def test_a_failing_ticket_is_retried_and_holds_back_no_other(
    app, db, make_portfolio, on_jira, queue_clock, run_jobs
):
    queue_clock(OPENED)
    world = make_portfolio()
    first, second = (
        support_tickets.open_ticket(
            world.client, actor=world.acm, summary=s, description="d", priority="High"
        )
        for s in ("Checkout fails", "Images missing")
    )
    db.session.commit()
    first_key, second_key = first.ticket_key, second.ticket_key
    on_jira.set_status(first_key, "In Progress")
    on_jira.set_status(second_key, "Done")
    on_jira.misbehave("http500", path_end=f"/issue/{first_key}")

    queue_clock(OPENED + timedelta(hours=9))  # the High SLA (8 h) ran out
    queue.enqueue(support_jobs.sync_support_tickets, job_id="test-support-sync")
    run_jobs()

    db.session.expire_all()
    first, second = (db.session.get(SupportTicket, t.id) for t in (first, second))
    assert (second.status, second.closed_at) == ("Done", clock.now())
    assert (first.status, first.synced_at) == ("To Do", None)
    assert first.sla_flagged_at == clock.now()
    job_id = f"support-ticket-sync-{first.id}"
    assert queue.job_status(job_id, app=app).value == "scheduled"  # DEFAULT_RETRY

    # RQ's retry waits its interval (on the wall clock): the portal clock goes there.
    queue_clock(queue.scheduled_at(job_id, app=app) + timedelta(seconds=1))
    run_jobs()
    db.session.expire_all()
    assert db.session.get(SupportTicket, first.id).status == "In Progress"
    changes = db.session.scalars(
        select(TimelineEvent.summary)
        .where(TimelineEvent.kind == TimelineKind.SUPPORT_TICKET_STATUS.value)
        .order_by(TimelineEvent.id)
    ).all()
    assert changes == [f"{second_key}: To Do → Done", f"{first_key}: To Do → In Progress"]
    flags = select(TimelineEvent).where(
        TimelineEvent.kind == TimelineKind.SUPPORT_TICKET_PAST_SLA.value
    )
    assert len(db.session.scalars(flags).all()) == 2

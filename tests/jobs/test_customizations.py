"""Product's 48 hours on a customization request (C2) with a real RQ worker (Redis or the
embedded queue): the breach job is scheduled at the deadline, flags the request once and
tells product and the ACM's leader by email; a decision before it leaves nothing to flag;
the reconciler re-creates a lost job and flags a breach no worker was there for."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import queue
from kamportal.jobs import customizations as customization_jobs
from kamportal.models import CustomizationRequest, OutboxMessage, Role, TimelineEvent, TimelineKind
from kamportal.services import customizations

# Long past: RQ runs the scheduled breach job as soon as it is scheduled, while the portal
# clock decides whether the 48 hours are up.
ASKED_AT = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)
DUE = ASKED_AT + timedelta(hours=48)


@pytest.fixture
def setup(make_portfolio, make_user, frozen_clock):
    frozen_clock(ASKED_AT)
    world = make_portfolio(
        leader={"email": "leader@kam.example"}, acm={"email": "mona@kam.example"}
    ).as_dict()
    world["product"] = make_user(Role.PRODUCT, email="product@kam.example")
    return world


def asked(setup, db) -> CustomizationRequest:
    request = customizations.open_request(
        setup["client"],
        actor=setup["acm"],
        title="Loyalty points",
        end_result="Points at checkout",
        users="Returning customers",
        done_when="A test order paid with points",
        wanted_by=date(2027, 1, 31),
    )
    db.session.commit()
    return request


def breaches(db) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.CUSTOMIZATION_BREACHED)
        )
    )


def test_the_breach_is_flagged_once_at_the_deadline_and_told_by_email_C2(
    app, db, frozen_clock, setup, run_jobs, smtp_server
):
    request = asked(setup, db)
    frozen_clock(DUE - timedelta(minutes=1))
    run_jobs()  # the job wakes early (RQ's time): nothing yet
    assert breaches(db) == []

    frozen_clock(DUE)
    queue.enqueue(
        customization_jobs.flag_breach, request.id, job_id=customizations.breach_job_id(request.id)
    )
    run_jobs()
    run_jobs()
    assert len(breaches(db)) == 1
    [email] = smtp_server.messages
    assert email["To"] == "product@kam.example, leader@kam.example"
    assert "mona@kam.example" in email["Cc"]
    assert email["Subject"].startswith(f"SAL-{request.id} waits for a decision")

    # The job again (a retry, a reconciler race): nothing more.
    queue.enqueue(customization_jobs.flag_breach, request.id, job_id="customization-x-breach")
    run_jobs()
    assert len(breaches(db)) == 1 and len(smtp_server.messages) == 1


def test_a_request_decided_in_time_is_never_flagged_C2(app, db, frozen_clock, setup, run_jobs):
    request = asked(setup, db)
    frozen_clock(DUE - timedelta(hours=1))
    customizations.decide(request, actor=setup["product"], decision="accepted", reason="")
    db.session.commit()
    frozen_clock(DUE + timedelta(hours=1))
    assert customization_jobs.flag_breach(request.id) == "decided"
    run_jobs()
    assert breaches(db) == [] and db.session.scalars(select(OutboxMessage)).all() == []


def test_the_breach_job_is_scheduled_at_the_deadline(app, db, frozen_clock, setup, run_jobs):
    frozen_clock(datetime.now(UTC).replace(microsecond=0))
    request = asked(setup, db)
    run_jobs()
    assert queue.scheduled_at(customizations.breach_job_id(request.id), app=app) == (
        request.decision_due_at
    )


def test_the_reconciler_recreates_a_lost_breach_job_and_flags_a_due_one_C2(
    app, db, frozen_clock, setup
):
    request = asked(setup, db)
    job_id = customizations.breach_job_id(request.id)
    queue.cancel(job_id, app=app)  # Redis lost it (or it ran early and is gone)

    assert customization_jobs.reconcile_breaches() == 1
    assert queue.scheduled_at(job_id, app=app) == DUE
    assert customization_jobs.reconcile_breaches() == 0  # idempotent

    assert queue.cancel(job_id, app=app)  # lost again, and no worker ran at the deadline
    frozen_clock(DUE + timedelta(minutes=5))
    assert customization_jobs.reconcile_breaches() == 1
    db.session.expire_all()
    assert db.session.get(CustomizationRequest, request.id).breach_flagged_at is not None
    assert len(breaches(db)) == 1
    assert customization_jobs.reconcile_breaches() == 0

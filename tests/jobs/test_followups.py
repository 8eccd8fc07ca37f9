"""The F2 ladder with a real RQ worker (Redis or the embedded queue): the follow-up email
reaches a real SMTP server with the G1 CCs, the WhatsApp job waits for its due time and
then goes through the WhatsApp adapter once, and the reconciler re-creates lost jobs and
sends what came due while no worker ran."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock, queue
from kamportal.jobs import followups as followup_jobs
from kamportal.messaging.whatsapp import whatsapp_adapter
from kamportal.models import CalendarDay, CallOutcome, NoReplyLadder
from kamportal.services import contact_log

# A Thursday afternoon in Cairo, long past: its WhatsApp (Sunday 11:00 Cairo) is due for
# RQ as soon as the job is scheduled, while the portal clock decides the business hours.
THURSDAY_AFTERNOON = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)
WHATSAPP_DUE = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def ladder_setup(make_portfolio, frozen_clock):
    return make_portfolio(
        team={"followup_email_auto": True, "no_reply_whatsapp_after_hours": 4},
        leader={"email": "leader@kam.example"},
        acm={"name": "Mona Adel"},
        contact={"name": "Karim Said", "email": "karim@store.example"},
    ).as_dict()


def call_unanswered(setup, db) -> NoReplyLadder:
    contact_log.log_call(
        setup["client"], actor=setup["acm"], contact=setup["contact"], outcome=CallOutcome.NO_ANSWER
    )
    db.session.commit()
    return db.session.scalars(select(NoReplyLadder)).one()


def test_the_followup_email_and_then_the_whatsapp_are_delivered_once(
    app, db, frozen_clock, ladder_setup, run_jobs, smtp_server
):
    """F2 end to end on a real worker: email at once (G1 CCs), WhatsApp at the due time."""
    frozen_clock(THURSDAY_AFTERNOON)
    ladder = call_unanswered(ladder_setup, db)
    assert ladder.whatsapp_due_at == WHATSAPP_DUE
    run_jobs()  # the email; the WhatsApp job is due for RQ but the portal clock says not yet
    [email] = smtp_server.messages
    assert email["To"] == "karim@store.example"
    assert "leader@kam.example" in email["Cc"]
    assert whatsapp_adapter(app).sent == []

    frozen_clock(WHATSAPP_DUE)
    queue.enqueue(followup_jobs.send_whatsapp, ladder.id, job_id=f"ladder-{ladder.id}-whatsapp")
    run_jobs()
    run_jobs()
    [sent] = whatsapp_adapter(app).sent
    assert sent["template"] == "check_your_email"
    assert sent["to"] == ladder_setup["contact"].whatsapp

    # The job again (a retry, a reconciler race): nothing more is sent.
    queue.enqueue(followup_jobs.send_whatsapp, ladder.id, job_id=f"ladder-{ladder.id}-whatsapp")
    run_jobs()
    assert len(whatsapp_adapter(app).sent) == 1
    assert len(smtp_server.messages) == 1


def test_the_scheduled_whatsapp_job_runs_when_due_and_sends(
    app, db, frozen_clock, ladder_setup, run_jobs
):
    """The job the email scheduled (at its due time, already past for RQ) sends it."""
    frozen_clock(THURSDAY_AFTERNOON)
    call_unanswered(ladder_setup, db)
    frozen_clock(WHATSAPP_DUE + timedelta(minutes=1))
    run_jobs()
    run_jobs()
    assert [m["template"] for m in whatsapp_adapter(app).sent] == ["check_your_email"]


def test_a_reply_before_the_due_time_means_no_whatsapp(
    app, db, frozen_clock, ladder_setup, run_jobs
):
    frozen_clock(THURSDAY_AFTERNOON)
    call_unanswered(ladder_setup, db)
    clock.advance(timedelta(hours=1))
    contact_log.log_email(
        ladder_setup["client"],
        actor=ladder_setup["acm"],
        contact=ladder_setup["contact"],
        direction="received",
        subject="Re: we tried to call you",
    )
    db.session.commit()
    frozen_clock(WHATSAPP_DUE + timedelta(hours=1))
    run_jobs()
    run_jobs()
    assert whatsapp_adapter(app).sent == []


def test_a_future_whatsapp_job_waits_for_its_time(app, db, frozen_clock, ladder_setup, run_jobs):
    """Scheduled with an aware UTC time hours ahead: a worker pass leaves it scheduled."""
    frozen_clock(datetime.now(UTC).replace(microsecond=0))
    ladder = call_unanswered(ladder_setup, db)
    run_jobs()
    job_id = f"ladder-{ladder.id}-whatsapp"
    assert queue.scheduled_at(job_id, app=app) == ladder.whatsapp_due_at
    assert whatsapp_adapter(app).sent == []


def test_the_reconciler_recreates_a_lost_job_and_sends_a_due_one(
    app, db, frozen_clock, ladder_setup, run_jobs, make_client, make_contact
):
    frozen_clock(THURSDAY_AFTERNOON)
    due = call_unanswered(ladder_setup, db)
    other = make_client(acm=ladder_setup["acm"])
    make_contact(other, name="Lina Adel", whatsapp="+201009876543")
    frozen_clock(WHATSAPP_DUE - timedelta(hours=1))
    contact_log.log_call(
        other, actor=ladder_setup["acm"], contact=None, outcome=CallOutcome.NO_ANSWER
    )
    db.session.commit()
    future = db.session.scalars(select(NoReplyLadder).where(NoReplyLadder.client_id == other.id))
    future = future.one()
    # Redis lost both jobs.
    assert queue.cancel(f"ladder-{due.id}-whatsapp", app=app)
    assert queue.cancel(f"ladder-{future.id}-whatsapp", app=app)

    frozen_clock(WHATSAPP_DUE)
    assert followup_jobs.reconcile_ladders() == 2
    assert queue.scheduled_at(f"ladder-{future.id}-whatsapp", app=app) == future.whatsapp_due_at
    # Idempotent: the due one is queued, the future one scheduled: nothing more to do.
    assert followup_jobs.reconcile_ladders() == 0
    run_jobs()
    assert [m["params"]["name"] for m in whatsapp_adapter(app).sent] == ["Karim"]


def test_a_whatsapp_job_waking_on_a_holiday_declared_since_does_not_run_early(
    app, db, frozen_clock, ladder_setup, run_jobs
):
    """F2, Time: Sunday 22 Nov became a holiday after the WhatsApp was scheduled for it,
    and the recount was missed (the day written straight to the database). The job wakes
    at the old time, sends nothing and is scheduled again for Monday 11:00 Cairo."""
    frozen_clock(THURSDAY_AFTERNOON)
    ladder = call_unanswered(ladder_setup, db)
    db.session.add(
        CalendarDay(
            country="EG",
            day=date(2026, 11, 22),
            is_holiday=True,
            name="Closed",
            created_at=THURSDAY_AFTERNOON,
        )
    )
    db.session.commit()
    monday_11_cairo = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    frozen_clock(WHATSAPP_DUE)
    run_jobs()
    assert whatsapp_adapter(app).sent == []
    db.session.expire_all()
    ladder = db.session.get(NoReplyLadder, ladder.id)
    assert ladder.whatsapp_due_at == monday_11_cairo
    assert queue.scheduled_at(f"ladder-{ladder.id}-whatsapp", app=app) == monday_11_cairo

    frozen_clock(monday_11_cairo)
    run_jobs()
    assert len(whatsapp_adapter(app).sent) == 1

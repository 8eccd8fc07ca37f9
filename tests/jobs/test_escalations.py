"""The escalation ladder (E2) with a real RQ worker (Redis or the embedded queue) and short
waits: the "we tried to call you" email reaches a real SMTP server with the leader in CC,
the WhatsApp and leader steps each fire once, in order, with their proof; resolving stops
the ladder; a step job run twice acts once; the reconciler re-creates lost jobs and runs
steps that came due while no worker ran."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import queue
from kamportal.jobs import escalations as escalation_jobs
from kamportal.messaging.whatsapp import whatsapp_adapter
from kamportal.models import CalendarDay, Channel, Escalation, OutboxMessage
from kamportal.services import escalations

# Thursday 19 Nov 2026, 15:00 in Cairo, long past: RQ runs each scheduled step as soon as
# it is scheduled, while the portal clock decides whether its business hours are up.
CALLED_AT = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)
WHATSAPP_DUE = CALLED_AT + timedelta(hours=1)  # 1 business hour
LEADER_DUE = WHATSAPP_DUE + timedelta(hours=1)  # 1 more, ending at closing (17:00 Cairo)


@pytest.fixture
def setup(make_portfolio, frozen_clock):
    frozen_clock(CALLED_AT)
    return make_portfolio(
        team={"escalation_whatsapp_after_hours": 1, "escalation_leader_after_hours": 1},
        leader={"email": "leader@kam.example"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        contact={"name": "Karim Said", "email": "karim@store.example"},
    ).as_dict()


def unanswered(setup, db) -> Escalation:
    escalation = escalations.raise_escalation(
        setup["client"],
        actor=setup["acm"],
        trigger="asked_to_change_acm",
        said="I want another account manager.",
        channel="email",
    )
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    db.session.commit()
    return escalation


def outbox(db, channel: Channel) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == channel.value)
            .order_by(OutboxMessage.id)
        )
    )


def test_the_whole_ladder_fires_each_step_once_in_order_with_proof(
    app, db, frozen_clock, setup, run_jobs, smtp_server
):
    """E2 end to end on a real worker; G1: the leader is in CC of the client email."""
    escalation = unanswered(setup, db)
    assert escalation.step_due_at == WHATSAPP_DUE

    frozen_clock(WHATSAPP_DUE)
    run_jobs()  # the email is delivered, the WhatsApp step runs and schedules the leader's
    [email] = smtp_server.messages
    assert email["To"] == "karim@store.example"
    assert "leader@kam.example" in email["Cc"] and "mona@kam.example" in email["Cc"]
    assert email["Subject"] == f"We tried to call you – {setup['client'].store_code}"
    [sent] = whatsapp_adapter(app).sent
    assert sent["template"] == "reply_to_our_email"
    assert sent["to"] == setup["contact"].whatsapp

    frozen_clock(LEADER_DUE)
    run_jobs()
    run_jobs()
    assert len(smtp_server.messages) == 2
    notice = smtp_server.messages[1]
    assert notice["To"] == "leader@kam.example"
    assert "needs your decision" in notice.get_content()

    db.session.expire_all()
    escalation = db.session.get(Escalation, escalation.id)
    assert escalation.waiting_for_leader
    assert [s.step for s in escalation.steps] == ["raised", "call", "email", "whatsapp", "leader"]
    call, email_step, whatsapp_step, leader_step = escalation.steps[1:]
    assert call.call_event_id is not None
    assert [email_step.at, whatsapp_step.at, leader_step.at] == [
        CALLED_AT,
        WHATSAPP_DUE,
        LEADER_DUE,
    ]
    for step in (email_step, whatsapp_step, leader_step):
        assert step.outbox_message.status == "sent"
        assert step.outbox_message.provider_message_id
    assert whatsapp_step.outbox_message.provider_message_id == sent["id"]

    # The step jobs again (a retry, a reconciler race): nothing more is sent.
    for step in ("whatsapp", "leader"):
        queue.enqueue(escalation_jobs.run_step, escalation.id, step, job_id=f"escalation-x-{step}")
    run_jobs()
    assert len(whatsapp_adapter(app).sent) == 1
    assert len(smtp_server.messages) == 2
    assert len(outbox(db, Channel.EMAIL)) == 2


def test_resolving_at_the_email_step_stops_the_whatsapp_and_the_leader(
    app, db, frozen_clock, setup, run_jobs
):
    escalation = unanswered(setup, db)
    frozen_clock(CALLED_AT + timedelta(minutes=30))
    escalations.resolve(escalation, actor=setup["acm"], note="He called back; sorted.")
    db.session.commit()
    frozen_clock(LEADER_DUE + timedelta(hours=1))
    run_jobs()
    run_jobs()
    assert whatsapp_adapter(app).sent == []
    assert len(outbox(db, Channel.EMAIL)) == 1  # only the "we tried to call you" email


def test_a_future_step_waits_for_its_time(app, db, frozen_clock, setup, run_jobs):
    """Scheduled with an aware UTC time ahead: a worker pass leaves it scheduled."""
    frozen_clock(datetime.now(UTC).replace(microsecond=0))
    escalation = unanswered(setup, db)
    run_jobs()
    job_id = f"escalation-{escalation.id}-whatsapp"
    assert queue.scheduled_at(job_id, app=app) == escalation.step_due_at
    assert whatsapp_adapter(app).sent == []


def test_the_reconciler_recreates_a_lost_step_job_and_runs_a_due_one(
    app, db, frozen_clock, setup, run_jobs
):
    escalation = unanswered(setup, db)
    job_id = f"escalation-{escalation.id}-whatsapp"
    assert queue.cancel(job_id, app=app)  # Redis lost it

    assert escalation_jobs.reconcile_escalations() == 1
    assert queue.scheduled_at(job_id, app=app) == WHATSAPP_DUE
    assert escalation_jobs.reconcile_escalations() == 0  # idempotent

    assert queue.cancel(job_id, app=app)  # lost again, and no worker ran at the due time
    frozen_clock(WHATSAPP_DUE + timedelta(minutes=5))
    assert escalation_jobs.reconcile_escalations() == 1
    db.session.expire_all()
    escalation = db.session.get(Escalation, escalation.id)
    assert escalation.current_step == "whatsapp"
    assert [m.template for m in outbox(db, Channel.WHATSAPP)] == ["reply_to_our_email"]
    # The leader step it scheduled is there; a second sweep has nothing to do.
    leader_job = f"escalation-{escalation.id}-leader"
    assert queue.scheduled_at(leader_job, app=app) == escalation.step_due_at
    assert escalation_jobs.reconcile_escalations() == 0
    run_jobs()
    assert len(whatsapp_adapter(app).sent) == 1


def test_a_step_job_waking_on_a_holiday_declared_since_does_not_run_early(
    app, db, frozen_clock, setup, run_jobs
):
    """E2, Time: Thursday 19 Nov became a holiday after the WhatsApp step was scheduled for
    it, and the recount was missed (the day written straight to the database). The job
    wakes at the old time, checks the calendar as it is now, sends nothing and is
    scheduled again at the new due time (Sunday 10:00 Cairo), when it runs once."""
    escalation = unanswered(setup, db)
    db.session.add(
        CalendarDay(
            country="EG",
            day=date(2026, 11, 19),
            is_holiday=True,
            name="Closed",
            created_at=CALLED_AT,
        )
    )
    db.session.commit()
    sunday_10_cairo = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    frozen_clock(WHATSAPP_DUE)
    run_jobs()
    assert whatsapp_adapter(app).sent == []
    db.session.expire_all()
    escalation = db.session.get(Escalation, escalation.id)
    assert escalation.current_step == "email" and escalation.step_due_at == sunday_10_cairo
    job_id = f"escalation-{escalation.id}-whatsapp"
    assert queue.scheduled_at(job_id, app=app) == sunday_10_cairo

    frozen_clock(sunday_10_cairo - timedelta(seconds=1))
    assert escalation_jobs.run_step(escalation.id, "whatsapp") == "not due"
    frozen_clock(sunday_10_cairo)
    run_jobs()
    assert len(whatsapp_adapter(app).sent) == 1

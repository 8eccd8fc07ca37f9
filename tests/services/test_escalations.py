"""Escalations without HTTP: raising one (E1), the ladder call → email → WhatsApp → leader
at each step's business-hour boundary (E2), replies that pause it, resolving that stops
it, the leader's decisions and who may take them, and complaints kept off the ladder (E3).
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kamportal import clock, queue
from kamportal.errors import NotAllowed, RuleViolation, ValidationError
from kamportal.models import (
    AuditEvent,
    Channel,
    Complaint,
    DeliveryStatus,
    Escalation,
    LadderStep,
    NoReplyLadder,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import contact_log, escalations, followups

# Thursday 26 Nov 2026, 15:00 in Cairo (UTC+2), two business hours before the Fri-Sat
# weekend of a Sun-Thu team working 9:00-17:00.
THURSDAY_AFTERNOON = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
# Email at once; + 4 business hours: 2 on Thursday, 2 on Sunday from 9:00 → Sunday 11:00.
WHATSAPP_DUE = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
# WhatsApp sent then; + 8 business hours: 6 on Sunday, 2 on Monday → Monday 11:00 Cairo.
LEADER_DUE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def setup(make_portfolio, make_user, frozen_clock):
    frozen_clock(THURSDAY_AFTERNOON)
    portfolio = make_portfolio(
        team={
            "shared_mailbox": "cairo-kam@kam.example",
            "escalation_whatsapp_after_hours": 4,
            "escalation_leader_after_hours": 8,
        },
        leader={"name": "Layla Nour", "email": "leader@kam.example"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        contact={"name": "Karim Said", "email": "karim@store.example", "is_primary": True},
    )
    other_acm = make_user(
        Role.ACM, team=portfolio.team, name="Omar Farid", email="omar@kam.example"
    )
    return portfolio.as_dict(other_acm=other_acm)


def raise_one(setup, db, **fields) -> Escalation:
    values = {
        "trigger": "asked_for_manager",
        "said": "I want to talk to your manager.",
        "channel": "call",
    }
    values.update(fields)
    escalation = escalations.raise_escalation(setup["client"], actor=setup["acm"], **values)
    db.session.commit()
    return escalation


def at_email_step(setup, db) -> Escalation:
    escalation = raise_one(setup, db)
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    db.session.commit()
    return escalation


def at_whatsapp_step(setup, db) -> Escalation:
    escalation = at_email_step(setup, db)
    clock.freeze(WHATSAPP_DUE)
    assert escalations.run_due_step(escalation.id, "whatsapp") == "done"
    db.session.commit()
    return escalation


def messages(db, channel: Channel) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == channel.value)
            .order_by(OutboxMessage.id)
        )
    )


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


def audit_actions(db) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def step_names(escalation: Escalation) -> list[str]:
    return [s.step for s in escalation.steps]


# --- E1 ---------------------------------------------------------------------------------------


def test_raising_an_escalation_records_what_the_client_said_and_starts_at_the_call(setup, db):
    """E1: trigger, words and channel kept; the ladder waits for the ACM's call (E2)."""
    escalation = raise_one(setup, db, trigger="refuses_acm", channel="whatsapp")
    assert escalation.is_open
    assert escalation.trigger == "refuses_acm" and escalation.channel == "whatsapp"
    assert escalation.said == "I want to talk to your manager."
    assert escalation.raised_by == setup["acm"] and escalation.raised_at == THURSDAY_AFTERNOON
    assert escalation.step is LadderStep.CALL and escalation.step_due_at is None
    assert step_names(escalation) == ["raised"]
    assert kinds(db, setup["client"]) == [TimelineKind.ESCALATION_RAISED.value]
    assert audit_actions(db)[-1] == "escalation.raise"


def test_a_second_raise_adds_to_the_open_escalation(setup, db):
    """E1: one open escalation per client; the second adds what was said, as a note."""
    first = raise_one(setup, db)
    second = raise_one(setup, db, trigger="asked_to_change_acm", said="Give me another ACM.")
    assert second.id == first.id
    assert db.session.scalars(select(Escalation)).all() == [first]
    assert step_names(first) == ["raised", "note"]
    assert "Give me another ACM." in first.steps[-1].note
    assert "Asked to change the ACM" in first.steps[-1].note


def test_the_database_refuses_two_open_escalations_for_one_client(setup, db):
    """E1, enforced below the service too (a partial unique index)."""
    first = raise_one(setup, db)
    db.session.add(
        Escalation(
            client=setup["client"],
            raised_at=clock.now(),
            trigger="refuses_acm",
            said="again",
            channel="call",
            step_started_at=clock.now(),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    first.status = "resolved"
    db.session.commit()
    raise_one(setup, db)
    assert len(db.session.scalars(select(Escalation)).all()) == 2


def test_raising_needs_a_known_trigger_and_what_was_said_and_the_client(setup, db, make_user):
    with pytest.raises(ValidationError) as error:
        raise_one(setup, db, trigger="angry")
    assert error.value.field == "trigger"
    with pytest.raises(ValidationError):
        raise_one(setup, db, said="  ")
    with pytest.raises(ValidationError):
        raise_one(setup, db, channel="pigeon")
    stranger = make_user(Role.ACM)
    with pytest.raises(NotAllowed):
        escalations.raise_escalation(
            setup["client"], actor=stranger, trigger="refuses_acm", said="x", channel="call"
        )


def test_complaints_cancellations_and_refunds_are_recorded_not_laddered(setup, db):
    """E3: their own kind, in the complaint queue with a status; no escalation, no step."""
    for kind in ("complaint", "cancellation", "refund"):
        escalations.record_complaint(
            setup["client"],
            actor=setup["acm"],
            kind=kind,
            said=f"I want a {kind}",
            channel="email",
            refund_amount="100" if kind == "refund" else None,
        )
    db.session.commit()
    assert db.session.scalars(select(Escalation)).all() == []
    queue_ = escalations.complaint_queue(setup["leader"])
    assert [c.kind for c in queue_] == ["complaint", "cancellation", "refund"]
    assert {c.status for c in queue_} == {"open"}
    assert kinds(db, setup["client"]) == [TimelineKind.COMPLAINT_RECORDED.value] * 3
    refund = queue_[2]
    with pytest.raises(ValidationError):
        escalations.update_complaint(refund, actor=setup["acm"], status="closed")
    escalations.update_complaint(
        refund, actor=setup["acm"], status="closed", note="Refund issued by finance."
    )
    db.session.commit()
    assert refund.closed_at == THURSDAY_AFTERNOON
    assert [c.kind for c in escalations.complaint_queue(setup["acm"])] == [
        "complaint",
        "cancellation",
    ]
    assert [c.id for c in escalations.complaint_queue(setup["acm"], status="closed")] == [refund.id]
    assert "complaint.update" in audit_actions(db)
    with pytest.raises(ValidationError):
        escalations.record_complaint(
            setup["client"], actor=setup["acm"], kind="praise", said="x", channel="email"
        )
    assert db.session.scalar(select(Complaint).where(Complaint.kind == "praise")) is None


# --- E2: the ladder ---------------------------------------------------------------------------


def test_an_unanswered_call_sends_the_email_at_once_and_schedules_the_whatsapp(setup, db, app):
    """E2 step 2 and G1: the email goes at once with the leader, the ACM and the team's
    mailbox in CC; the call's timeline event and the message are kept as proof; the
    WhatsApp step is scheduled after 4 business hours, across the weekend; F2's ladder
    does not start for this call (one ladder talks to the client)."""
    escalation = raise_one(setup, db)
    call = escalations.log_escalation_call(
        escalation, actor=setup["acm"], outcome="no_answer", notes="Rang twice"
    )
    db.session.commit()
    [email] = messages(db, Channel.EMAIL)
    assert email.to_addrs == ["karim@store.example"]
    assert {"leader@kam.example", "cairo-kam@kam.example", "mona@kam.example"} <= set(
        email.cc_addrs
    )
    assert email.subject == f"We tried to call you – {setup['client'].store_code}"
    assert "Hello Karim" in email.body and "suitable time" in email.body
    assert escalation.step is LadderStep.EMAIL
    assert escalation.step_started_at == THURSDAY_AFTERNOON
    assert escalation.step_due_at == WHATSAPP_DUE
    _raised, called, emailed = escalation.steps
    assert called.step == "call" and called.call_event_id == call.id and called.actor_id
    assert called.note == "Rang twice"
    assert emailed.step == "email" and emailed.outbox_message_id == email.id
    assert call.detail["outcome"] == "no_answer"
    assert kinds(db, setup["client"])[-2:] == ["call", "escalation_step"]
    assert db.session.scalars(select(NoReplyLadder)).all() == []
    job_id = f"escalation-{escalation.id}-whatsapp"
    assert queue.scheduled_at(job_id, app=app) == WHATSAPP_DUE


def test_the_email_step_needs_a_contact_with_an_email_address(setup, db):
    setup["contact"].email = None
    db.session.commit()
    escalation = raise_one(setup, db)
    with pytest.raises(RuleViolation) as error:
        escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    assert error.value.rule == "E2"
    db.session.rollback()
    assert kinds(db, setup["client"]) == ["escalation_raised"]


def test_the_whatsapp_step_comes_at_the_business_hour_boundary_not_a_minute_before(setup, db):
    """E2 step 3: one minute before the wait ends nothing; at it, the WhatsApp template
    asking the client to reply to the email, with its outbox message as proof."""
    escalation = at_email_step(setup, db)
    clock.freeze(WHATSAPP_DUE - timedelta(minutes=1))
    assert escalations.run_due_step(escalation.id, "whatsapp") == "not due"
    db.session.commit()
    assert messages(db, Channel.WHATSAPP) == []
    clock.freeze(WHATSAPP_DUE)
    assert escalations.run_due_step(escalation.id, "whatsapp") == "done"
    db.session.commit()
    [whatsapp] = messages(db, Channel.WHATSAPP)
    assert whatsapp.template == "reply_to_our_email"
    assert whatsapp.to_addrs == [setup["contact"].whatsapp]
    assert whatsapp.params == {"name": "Karim"}
    assert escalation.step is LadderStep.WHATSAPP
    assert escalation.step_due_at == LEADER_DUE
    assert escalation.steps[-1].step == "whatsapp"
    assert escalation.steps[-1].outbox_message_id == whatsapp.id
    assert escalation.steps[-1].actor_id is None  # the portal did it


def test_the_leader_step_comes_at_its_boundary_and_notifies_the_leader(setup, db, app):
    """E2 step 4, the final one: the leader is emailed and the escalation waits for them."""
    escalation = at_whatsapp_step(setup, db)
    assert queue.scheduled_at(f"escalation-{escalation.id}-leader", app=app) == LEADER_DUE
    clock.freeze(LEADER_DUE - timedelta(minutes=1))
    assert escalations.run_due_step(escalation.id, "leader") == "not due"
    clock.freeze(LEADER_DUE)
    assert escalations.run_due_step(escalation.id, "leader") == "done"
    db.session.commit()
    assert escalation.step is LadderStep.LEADER and escalation.waiting_for_leader
    assert escalation.step_due_at is None
    notice = messages(db, Channel.EMAIL)[-1]
    assert notice.to_addrs == ["leader@kam.example"] and notice.cc_addrs == ["mona@kam.example"]
    assert "needs your decision" in notice.body
    assert escalation.steps[-1].step == "leader"
    assert escalation.steps[-1].outbox_message_id == notice.id
    assert kinds(db, setup["client"])[-1] == TimelineKind.ESCALATION_TO_LEADER.value
    assert step_names(escalation) == ["raised", "call", "email", "whatsapp", "leader"]


def test_running_a_step_twice_acts_once(setup, db):
    escalation = at_whatsapp_step(setup, db)
    assert escalations.run_due_step(escalation.id, "whatsapp") == "already done"
    clock.freeze(LEADER_DUE)
    assert escalations.run_due_step(escalation.id, "leader") == "done"
    assert escalations.run_due_step(escalation.id, "leader") == "already done"
    db.session.commit()
    assert len(messages(db, Channel.WHATSAPP)) == 1
    assert step_names(escalation).count("leader") == 1
    assert escalations.run_due_step(escalation.id + 100, "leader") == "gone"


def test_resolving_at_the_email_step_stops_the_whatsapp_and_the_leader(setup, db):
    """E2: a resolved escalation stops the ladder; its scheduled steps do nothing."""
    escalation = at_email_step(setup, db)
    clock.advance(timedelta(hours=1))
    escalations.resolve(escalation, actor=setup["acm"], note="Called back, fixed the theme.")
    db.session.commit()
    clock.freeze(LEADER_DUE + timedelta(days=1))
    assert escalations.run_due_step(escalation.id, "whatsapp") == "resolved"
    assert escalations.run_due_step(escalation.id, "leader") == "resolved"
    db.session.commit()
    assert messages(db, Channel.WHATSAPP) == []
    assert len(messages(db, Channel.EMAIL)) == 1
    assert escalation.resolution == "resolved" and escalation.resolved_by == setup["acm"]
    assert step_names(escalation)[-1] == "resolved"
    assert kinds(db, setup["client"])[-1] == TimelineKind.ESCALATION_RESOLVED.value
    assert audit_actions(db)[-1] == "escalation.resolve"
    with pytest.raises(RuleViolation):
        escalations.resolve(escalation, actor=setup["acm"], note="again")


def test_an_answered_call_lets_the_acm_resolve_without_any_message(setup, db):
    escalation = raise_one(setup, db)
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="answered")
    escalations.resolve(escalation, actor=setup["acm"], note="Solved on the call.")
    db.session.commit()
    assert step_names(escalation) == ["raised", "call", "resolved"]
    assert messages(db, Channel.EMAIL) == [] and messages(db, Channel.WHATSAPP) == []


def test_the_acm_can_send_it_to_the_leader_by_hand_and_the_scheduled_steps_give_way(setup, db):
    """E2: the ACM cannot solve it → straight to the leader; the WhatsApp job then finds
    it moved on."""
    escalation = at_email_step(setup, db)
    with pytest.raises(ValidationError):
        escalations.advance_to_leader(escalation, actor=setup["acm"], note="")
    escalations.advance_to_leader(escalation, actor=setup["acm"], note="He insists on another ACM.")
    db.session.commit()
    assert escalation.waiting_for_leader and escalation.step is LadderStep.LEADER
    assert escalation.steps[-1].actor == setup["acm"]
    clock.freeze(LEADER_DUE)
    assert escalations.run_due_step(escalation.id, "whatsapp") == "already done"
    assert messages(db, Channel.WHATSAPP) == []
    assert "escalation.to_leader" in audit_actions(db)
    with pytest.raises(RuleViolation):
        escalations.advance_to_leader(escalation, actor=setup["acm"], note="again")


@pytest.mark.parametrize("reply", ["email", "whatsapp", "call"])
def test_a_client_reply_pauses_the_ladder_for_the_acm(setup, db, reply):
    """E2: a reply logged on the timeline (email or WhatsApp received, call answered)
    pauses the ladder; the due step does nothing."""
    escalation = at_email_step(setup, db)
    clock.advance(timedelta(hours=1))
    client, acm, contact = setup["client"], setup["acm"], setup["contact"]
    if reply == "email":
        contact_log.log_email(
            client, actor=acm, contact=contact, direction="received", subject="Re: call"
        )
    elif reply == "whatsapp":
        contact_log.log_whatsapp_request(client, actor=acm, contact=contact, message="Call me at 5")
    else:
        contact_log.log_call(client, actor=acm, contact=contact, outcome="answered")
    db.session.commit()
    assert escalation.paused_at == THURSDAY_AFTERNOON + timedelta(hours=1)
    assert step_names(escalation)[-1] == "paused"
    assert TimelineKind.ESCALATION_PAUSED.value in kinds(db, client)
    clock.freeze(WHATSAPP_DUE)
    assert escalations.run_due_step(escalation.id, "whatsapp") == "paused"
    assert messages(db, Channel.WHATSAPP) == []
    assert escalations.steps_to_reconcile() == []


def test_a_paused_ladder_resumes_after_another_unanswered_call(setup, db, app):
    """E2: the ACM calls back after the reply and gets no answer: the wait restarts."""
    escalation = at_email_step(setup, db)
    contact_log.log_email(
        setup["client"], actor=setup["acm"], contact=None, direction="received", subject="Re"
    )
    db.session.commit()
    clock.freeze(WHATSAPP_DUE)
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    db.session.commit()
    assert escalation.paused_at is None
    assert step_names(escalation)[-2:] == ["call", "resumed"]
    # Sunday 11:00 Cairo + 4 business hours = Sunday 15:00.
    resumed_due = WHATSAPP_DUE + timedelta(hours=4)
    assert escalation.step_due_at == resumed_due
    assert queue.scheduled_at(f"escalation-{escalation.id}-whatsapp", app=app) == resumed_due
    assert len(messages(db, Channel.EMAIL)) == 1  # the email step is not sent again


# --- E3: the leader decides -------------------------------------------------------------------


def test_only_the_clients_team_leader_or_an_admin_decides(setup, db, make_team, make_user):
    escalation = at_whatsapp_step(setup, db)
    other_team = make_team()
    other_leader = make_user(Role.LEADER, team=other_team)
    other_team.leader = other_leader
    db.session.commit()
    for who in (setup["acm"], other_leader):
        with pytest.raises(NotAllowed):
            escalations.decide(escalation, leader=who, decision="resolved", note="Sorted.")
    assert escalation.is_open
    assert escalation not in escalations.escalation_queue(other_leader)
    admin = make_user(Role.ADMIN)
    escalations.decide(escalation, leader=admin, decision="resolved", note="Sorted.")
    db.session.commit()
    assert escalation.resolution == "resolved" and escalation.resolved_by == admin


def test_the_leaders_resolution_sends_the_note_to_the_client(setup, db):
    escalation = at_whatsapp_step(setup, db)
    escalations.decide(
        escalation,
        leader=setup["leader"],
        decision="resolved",
        note="We have fixed the checkout and credited a month.",
    )
    db.session.commit()
    note = messages(db, Channel.EMAIL)[-1]
    assert note.to_addrs == ["karim@store.example"] and "leader@kam.example" in note.cc_addrs
    assert "credited a month" in note.body
    assert escalation.steps[-1].step == "resolved"
    assert escalation.steps[-1].outbox_message_id == note.id
    assert audit_actions(db)[-1] == "escalation.decide"
    assert setup["client"].acm == setup["acm"]


def test_reassigning_moves_the_client_and_everyone_is_told(setup, db):
    """E3: through clients.reassign_client (the foundation's service); the timeline and
    the audit log say so; both ACMs and the client get an email."""
    escalation = at_whatsapp_step(setup, db)
    with pytest.raises(ValidationError):
        escalations.decide(
            escalation, leader=setup["leader"], decision="reassign", note="x", new_acm=None
        )
    db.session.rollback()
    escalations.decide(
        escalation,
        leader=setup["leader"],
        decision="reassign",
        note="Omar will look after your store from today.",
        new_acm=setup["other_acm"],
    )
    db.session.commit()
    client = setup["client"]
    assert client.acm == setup["other_acm"]
    assert not escalation.is_open and escalation.resolution == "reassigned"
    assert TimelineKind.CLIENT_REASSIGNED.value in kinds(db, client)
    assert kinds(db, client)[-1] == TimelineKind.ESCALATION_RESOLVED.value
    assert "client.reassign" in audit_actions(db)
    assert audit_actions(db)[-1] == "escalation.decide"
    handover, to_client = messages(db, Channel.EMAIL)[-2:]
    assert set(handover.to_addrs) == {"mona@kam.example", "omar@kam.example"}
    told = escalation.steps[-2]  # the hand-over's proof, before the resolution
    assert told.step == "note" and told.outbox_message_id == handover.id
    assert to_client.to_addrs == ["karim@store.example"]
    assert "Omar Farid" in to_client.body and "omar@kam.example" in to_client.cc_addrs


def test_the_leader_takes_the_client_over(setup, db):
    escalation = at_email_step(setup, db)
    escalations.decide(
        escalation, leader=setup["leader"], decision="take_over", note="I will handle it myself."
    )
    db.session.commit()
    assert setup["client"].acm == setup["leader"]
    assert escalation.resolution == "taken_over"
    clock.freeze(LEADER_DUE)
    assert escalations.run_due_step(escalation.id, "whatsapp") == "resolved"


def test_the_leaders_queue_shows_those_waiting_for_a_decision_first(
    setup, db, make_client, make_contact
):
    waiting_client = make_client(acm=setup["acm"])
    make_contact(waiting_client, email="w@store.example")
    first = raise_one(setup, db)
    later = escalations.raise_escalation(
        waiting_client, actor=setup["acm"], trigger="refuses_acm", said="No.", channel="email"
    )
    escalations.advance_to_leader(later, actor=setup["acm"], note="Refuses to talk to me.")
    db.session.commit()
    assert escalations.escalation_queue(setup["leader"]) == [later, first]
    assert escalations.escalation_queue(setup["other_acm"]) == []


def test_once_with_the_leader_only_the_leader_ends_it(setup, db):
    """E3: the ACM sent it up (or the ladder did); resolving is the leader's now."""
    escalation = at_email_step(setup, db)
    escalations.advance_to_leader(escalation, actor=setup["acm"], note="I cannot solve it.")
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        escalations.resolve(escalation, actor=setup["acm"], note="Sorted after all.")
    assert refused.value.rule == "E3"
    assert escalation.is_open
    escalations.resolve(escalation, actor=setup["leader"], note="Spoke to him myself.")
    db.session.commit()
    assert escalation.resolved_by == setup["leader"]


def test_a_reassignment_stays_within_the_clients_team(setup, db, make_team, make_user):
    """E3: another ACM of the team; an admin choosing one of another team is refused too."""
    escalation = at_email_step(setup, db)
    stranger = make_user(Role.ACM, team=make_team(), name="Sara Stranger")
    admin = make_user(Role.ADMIN)
    assert escalations.reassignment_choices(setup["leader"], setup["client"]) == [
        setup["other_acm"]
    ]
    assert stranger not in escalations.reassignment_choices(admin, setup["client"])
    for who in (setup["leader"], admin):
        with pytest.raises(ValidationError) as refused:
            escalations.decide(
                escalation, leader=who, decision="reassign", note="x", new_acm=stranger
            )
        assert refused.value.field == "acm"
    assert setup["client"].acm == setup["acm"] and escalation.is_open


def test_where_it_stands_counts_business_hours_to_the_boundary(setup, db):
    """The queue's age and the page's time left, on the team's calendar: the weekend does
    not count, and at the due instant nothing is left."""
    escalation = raise_one(setup, db)
    at_call = escalations.standing(escalation, now=THURSDAY_AFTERNOON + timedelta(hours=1))
    assert (at_call.waiting_on, at_call.age_hours, at_call.hours_left) == ("acm", 1.0, None)

    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    db.session.commit()
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    waiting = escalations.standing(escalation, now=friday)
    assert waiting.waiting_on == "client" and waiting.next_step is LadderStep.WHATSAPP
    assert (waiting.age_hours, waiting.hours_left) == (2.0, 2.0)  # Friday is off
    a_minute_before = escalations.standing(escalation, now=WHATSAPP_DUE - timedelta(minutes=1))
    assert a_minute_before.hours_left == pytest.approx(1 / 60)
    assert escalations.standing(escalation, now=WHATSAPP_DUE).hours_left == 0.0

    contact_log.log_email(
        setup["client"],
        actor=setup["acm"],
        contact=setup["contact"],
        direction="received",
        subject="Call me on Sunday",
    )
    db.session.commit()
    paused = escalations.standing(escalation, now=WHATSAPP_DUE)
    assert paused.waiting_on == "acm" and paused.hours_left is None


def test_the_ladder_shows_each_step_done_current_skipped_or_ahead(setup, db):
    escalation = raise_one(setup, db)
    states = [(r.step.value, r.state) for r in escalations.ladder(escalation)]
    assert states == [
        ("call", "current"),
        ("email", "ahead"),
        ("whatsapp", "ahead"),
        ("leader", "ahead"),
    ]
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    escalations.advance_to_leader(escalation, actor=setup["acm"], note="No way forward.")
    rungs = escalations.ladder(escalation)
    assert [r.state for r in rungs] == ["done", "done", "skipped", "current"]
    assert rungs[1].proofs[0].outbox_message is not None  # the email's proof
    escalations.decide(escalation, leader=setup["leader"], decision="resolved", note="Done.")
    assert [r.state for r in escalations.ladder(escalation)] == [
        "done",
        "done",
        "skipped",
        "done",
    ]


# --- One "we tried to call you" email: F2 and E2 together -------------------------------------


def tried_to_call_emails(db) -> list[OutboxMessage]:
    return [m for m in messages(db, Channel.EMAIL) if m.subject.startswith("We tried to call")]


def unanswered_client_page_call(setup, db):
    """A call logged on the client page (G3), not on the escalation: F2's ladder."""
    event = contact_log.log_call(
        setup["client"], actor=setup["acm"], contact=setup["contact"], outcome="no_answer"
    )
    db.session.commit()
    return event


@pytest.mark.parametrize("raised_first", [False, True], ids=["call-first", "escalation-first"])
def test_the_escalation_counts_the_followup_email_just_sent_no_second_one(
    setup, db, app, raised_first
):
    """F2 then E2: an unanswered call sent the "we tried to call you" email (F2, team set to
    send it at once); three minutes later the escalation's own unanswered call does not
    send a second one. F2's email is the email step's proof, F2's ladder gives way, and the
    WhatsApp step is counted from that email: Sunday 11:00 Cairo, not three minutes later.
    The same whether the escalation was raised before or after the first call."""
    setup["team"].followup_email_auto = True
    db.session.commit()
    escalation = raise_one(setup, db) if raised_first else None
    unanswered_client_page_call(setup, db)
    [followup] = tried_to_call_emails(db)

    clock.advance(timedelta(minutes=3))
    escalation = escalation or raise_one(setup, db)
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    db.session.commit()

    assert tried_to_call_emails(db) == [followup]
    assert escalation.step is LadderStep.EMAIL
    emailed = escalation.steps[-1]
    assert emailed.step == "email" and emailed.outbox_message_id == followup.id
    assert escalation.step_due_at == WHATSAPP_DUE
    assert queue.scheduled_at(f"escalation-{escalation.id}-whatsapp", app=app) == WHATSAPP_DUE
    [ladder] = db.session.scalars(select(NoReplyLadder)).all()
    assert ladder.stopped_at is not None and "escalation" in ladder.stop_reason
    step_event = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.ESCALATION_STEP.value)
    ).one()
    assert "no second one" in step_event.summary

    # Then the ladder goes on as usual: one WhatsApp (E2's), F2's finds its ladder stopped.
    clock.freeze(WHATSAPP_DUE)
    assert followups.send_due_whatsapp(ladder.id) == "stopped"
    assert escalations.run_due_step(escalation.id, "whatsapp") == "done"
    db.session.commit()
    [whatsapp] = messages(db, Channel.WHATSAPP)
    assert whatsapp.template == "reply_to_our_email"


@pytest.mark.parametrize(
    ("called_at", "emails"),
    [(WHATSAPP_DUE - timedelta(minutes=1), 1), (WHATSAPP_DUE, 2)],
    ids=["within-the-wait", "wait-over"],
)
def test_the_followup_email_counts_for_the_escalations_wait_only(setup, db, called_at, emails):
    """The window: F2's email counts while the E2 WhatsApp step, counted from it, is still
    ahead (the team's 4 business hours). Once that wait is over, the client has had the
    time to answer it; the escalation's unanswered call then sends its own email."""
    setup["team"].followup_email_auto = True
    db.session.commit()
    unanswered_client_page_call(setup, db)
    escalation = raise_one(setup, db)

    clock.freeze(called_at)
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    db.session.commit()

    assert len(tried_to_call_emails(db)) == emails
    assert escalation.steps[-1].outbox_message_id == tried_to_call_emails(db)[-1].id
    expected_due = WHATSAPP_DUE if emails == 1 else datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
    assert escalation.step_due_at == expected_due


def test_a_followup_email_answered_or_failed_does_not_count(setup, db):
    """F2's email stands for E2's only while the client has not replied to it (a reply
    stops F2's ladder) and while it has not failed: otherwise the escalation's email goes."""
    setup["team"].followup_email_auto = True
    db.session.commit()
    unanswered_client_page_call(setup, db)
    contact_log.log_email(
        setup["client"],
        actor=setup["acm"],
        contact=setup["contact"],
        direction="received",
        subject="Sorry I missed you",
    )
    db.session.commit()
    clock.advance(timedelta(minutes=3))
    escalation = raise_one(setup, db)
    escalations.log_escalation_call(escalation, actor=setup["acm"], outcome="no_answer")
    db.session.commit()
    assert len(tried_to_call_emails(db)) == 2

    escalations.resolve(escalation, actor=setup["acm"], note="Solved on the phone.")
    db.session.commit()
    clock.advance(timedelta(minutes=3))
    unanswered_client_page_call(setup, db)
    tried_to_call_emails(db)[-1].status = DeliveryStatus.FAILED.value
    db.session.commit()
    again = raise_one(setup, db)
    escalations.log_escalation_call(again, actor=setup["acm"], outcome="no_answer")
    db.session.commit()
    assert len(tried_to_call_emails(db)) == 4


def test_an_unanswered_call_while_the_escalation_waits_on_the_client_sends_nothing_more(setup, db):
    """E2 then F2: the escalation's email went; three minutes later the ACM tries again from
    the client page, no answer: F2 starts no ladder and sends no second email (the timeline
    says why). Once the escalation is resolved, F2 follows unanswered calls up again."""
    setup["team"].followup_email_auto = True
    db.session.commit()
    escalation = at_email_step(setup, db)
    [sent] = tried_to_call_emails(db)

    clock.advance(timedelta(minutes=3))
    unanswered_client_page_call(setup, db)

    assert tried_to_call_emails(db) == [sent]
    assert db.session.scalars(select(NoReplyLadder)).all() == []
    note = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.LADDER_STOPPED.value)
    ).one()
    assert f"escalation #{escalation.id}" in note.summary

    escalations.resolve(escalation, actor=setup["acm"], note="Solved.")
    db.session.commit()
    clock.advance(timedelta(hours=1))
    unanswered_client_page_call(setup, db)
    assert len(tried_to_call_emails(db)) == 2
    assert len(db.session.scalars(select(NoReplyLadder)).all()) == 1

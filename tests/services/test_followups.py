"""The no-reply ladder (F2) without HTTP: the follow-up email after an unanswered call, the
WhatsApp after the team's business hours without a reply (at the minute), replies that
stop it, and sending once whatever runs twice."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal.errors import RuleViolation
from kamportal.jobs import queue
from kamportal.models import (
    CallOutcome,
    Channel,
    NoReplyLadder,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import clients, clock, followups, timeline

# Thursday 26 Nov 2026, 15:00 in Cairo (UTC+2): two business hours left in a Sun-Thu week.
THURSDAY_AFTERNOON = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
# + 4 business hours: 2 on Thursday, 2 on Sunday from 9:00, so Sunday 11:00 Cairo.
WHATSAPP_DUE = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
def setup(make_team, make_user, make_client, make_contact, db, frozen_clock):
    frozen_clock(THURSDAY_AFTERNOON)
    team = make_team(
        country="EG",
        timezone="Africa/Cairo",
        working_days="7,1,2,3,4",
        shared_mailbox="cairo-kam@kam.test",
        no_reply_whatsapp_after_hours=4,
    )
    leader = make_user(Role.LEADER, team=team, email="leader@kam.test")
    team.leader = leader
    acm = make_user(Role.ACM, team=team, name="Mona Adel", email="mona@kam.test")
    client = make_client(acm=acm)
    contact = make_contact(client, name="Karim Said", email="karim@store.example")
    db.session.commit()
    return {"team": team, "acm": acm, "client": client, "contact": contact}


def unanswered_call(setup, db):
    event = clients.log_call(
        setup["client"], actor=setup["acm"], contact=setup["contact"], outcome=CallOutcome.NO_ANSWER
    )
    db.session.commit()
    return event


def ladders(db) -> list[NoReplyLadder]:
    return list(db.session.scalars(select(NoReplyLadder).order_by(NoReplyLadder.id)))


def messages(db, channel: Channel) -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == channel.value))
    )


def kinds(db, client) -> list[str]:
    return list(
        db.session.scalars(
            select(TimelineEvent.kind)
            .where(TimelineEvent.client_id == client.id)
            .order_by(TimelineEvent.id)
        )
    )


def test_an_unanswered_call_with_the_team_setting_sends_the_followup_email_at_once(setup, db):
    """F2 (auto) and G1: the email goes to the called contact, leader and mailbox in CC;
    the WhatsApp is due after the team's 4 business hours, across the Fri-Sat weekend."""
    setup["team"].followup_email_auto = True
    db.session.commit()
    call = unanswered_call(setup, db)
    [ladder] = ladders(db)
    assert ladder.call_event_id == call.id
    [email] = messages(db, Channel.EMAIL)
    assert email.to_addrs == ["karim@store.example"]
    assert {"leader@kam.test", "cairo-kam@kam.test", "mona@kam.test"} <= set(email.cc_addrs)
    assert email.subject == f"We tried to call you – {setup['client'].store_code}"
    assert "Mona Adel" in email.body and "Hello Karim" in email.body
    assert ladder.email_message_id == email.id
    assert ladder.email_sent_at == THURSDAY_AFTERNOON
    assert ladder.whatsapp_due_at == WHATSAPP_DUE
    assert kinds(db, setup["client"]) == ["call", "followup_email"]


def test_the_whatsapp_job_is_scheduled_at_the_due_time_after_commit(setup, db, app):
    setup["team"].followup_email_auto = True
    db.session.commit()
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    job_id = f"ladder-{ladder.id}-whatsapp"
    assert queue.scheduled_at(job_id, app=app) == WHATSAPP_DUE


def test_without_the_team_setting_the_email_is_offered_not_sent(setup, db):
    unanswered_call(setup, db)
    ladder = followups.open_ladder(setup["client"])
    assert ladder is not None and ladder.email_message_id is None
    assert messages(db, Channel.EMAIL) == []
    assert setup["client"].last_contact_at is None  # an unanswered call is not contact
    followups.send_followup_email(ladder, actor=setup["acm"])
    db.session.commit()
    assert len(messages(db, Channel.EMAIL)) == 1
    # F1: an email sent counts as contact.
    assert setup["client"].last_contact_at == clock.now()
    # A second click sends nothing more.
    followups.send_followup_email(ladder, actor=setup["acm"])
    db.session.commit()
    assert len(messages(db, Channel.EMAIL)) == 1


def test_the_whatsapp_goes_at_the_business_hour_boundary_not_a_minute_before(setup, db):
    """F2: one minute before the due time nothing is sent; at it, the WhatsApp is queued."""
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    followups.send_followup_email(ladder, actor=setup["acm"])
    db.session.commit()
    clock.freeze(WHATSAPP_DUE - timedelta(minutes=1))
    assert followups.send_due_whatsapp(ladder.id) == "not due"
    db.session.commit()
    assert messages(db, Channel.WHATSAPP) == []
    clock.freeze(WHATSAPP_DUE)
    assert followups.send_due_whatsapp(ladder.id) == "sent"
    db.session.commit()
    [whatsapp] = messages(db, Channel.WHATSAPP)
    assert whatsapp.template == "check_your_email"
    assert whatsapp.to_addrs == [setup["contact"].whatsapp]
    assert whatsapp.params == {"name": "Karim"}
    assert kinds(db, setup["client"])[-1] == TimelineKind.FOLLOWUP_WHATSAPP.value


def test_running_the_whatsapp_step_twice_sends_once(setup, db):
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    followups.send_followup_email(ladder, actor=setup["acm"])
    db.session.commit()
    clock.freeze(WHATSAPP_DUE + timedelta(hours=3))
    assert followups.send_due_whatsapp(ladder.id) == "sent"
    db.session.commit()
    assert followups.send_due_whatsapp(ladder.id) == "already sent"
    db.session.commit()
    assert len(messages(db, Channel.WHATSAPP)) == 1
    assert followups.open_ladder(setup["client"]) is None


@pytest.mark.parametrize("reply", ["email", "whatsapp", "answered call"])
def test_a_reply_on_any_channel_stops_the_ladder(setup, db, reply):
    """F2: an email received, a WhatsApp received or an answered call stops it."""
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    followups.send_followup_email(ladder, actor=setup["acm"])
    db.session.commit()
    clock.advance(timedelta(minutes=30))
    client, acm, contact = setup["client"], setup["acm"], setup["contact"]
    if reply == "email":
        clients.log_email(
            client, actor=acm, contact=contact, direction="received", subject="Re: call"
        )
    elif reply == "whatsapp":
        clients.log_whatsapp_request(client, actor=acm, contact=contact, message="Call me at 4")
    else:
        clients.log_call(client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED)
    db.session.commit()
    assert ladder.stopped_at == THURSDAY_AFTERNOON + timedelta(minutes=30)
    assert TimelineKind.LADDER_STOPPED.value in kinds(db, client)
    clock.freeze(WHATSAPP_DUE)
    assert followups.send_due_whatsapp(ladder.id) == "stopped"
    db.session.commit()
    assert messages(db, Channel.WHATSAPP) == []


def test_an_email_sent_by_the_acm_is_not_a_reply(setup, db):
    unanswered_call(setup, db)
    clients.log_email(
        setup["client"], actor=setup["acm"], contact=None, direction="sent", subject="Hello"
    )
    db.session.commit()
    assert followups.open_ladder(setup["client"]) is not None


def test_a_reply_on_the_timeline_stops_the_whatsapp_even_without_the_hook(setup, db):
    """The job re-reads the timeline: a reply recorded by another path still counts."""
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    followups.send_followup_email(ladder, actor=setup["acm"])
    timeline.record(
        setup["client"], TimelineKind.EMAIL_RECEIVED, actor=None, summary="Email from Karim"
    )
    db.session.commit()
    clock.freeze(WHATSAPP_DUE)
    assert followups.send_due_whatsapp(ladder.id) == "stopped"
    assert ladder.stop_reason.startswith("Reply logged")
    assert messages(db, Channel.WHATSAPP) == []


def test_a_second_unanswered_call_keeps_the_ladder_under_way(setup, db):
    setup["team"].followup_email_auto = True
    db.session.commit()
    unanswered_call(setup, db)
    clock.advance(timedelta(hours=1))
    unanswered_call(setup, db)
    assert len(ladders(db)) == 1
    assert len(messages(db, Channel.EMAIL)) == 1


def test_voicemail_starts_no_ladder(setup, db):
    clients.log_call(
        setup["client"], actor=setup["acm"], contact=None, outcome=CallOutcome.VOICEMAIL
    )
    db.session.commit()
    assert ladders(db) == []


def test_no_email_address_refuses_the_followup_and_auto_mode_waits(
    make_client, make_contact, setup, db
):
    setup["team"].followup_email_auto = True
    client = make_client(acm=setup["acm"])
    make_contact(client, email=None)
    clients.log_call(client, actor=setup["acm"], contact=None, outcome=CallOutcome.NO_ANSWER)
    db.session.commit()
    ladder = followups.open_ladder(client)
    assert ladder is not None and ladder.email_message_id is None
    with pytest.raises(RuleViolation, match="email address") as refused:
        followups.send_followup_email(ladder, actor=setup["acm"])
    assert refused.value.rule == "F2"


def test_a_stopped_ladder_sends_no_email(setup, db):
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    followups.stop_ladders_on_reply(setup["client"], at=clock.now(), reason="Replied")
    with pytest.raises(RuleViolation, match="replied"):
        followups.send_followup_email(ladder, actor=setup["acm"])


def test_no_whatsapp_number_stops_the_ladder_at_the_due_time(setup, db):
    setup["contact"].whatsapp = None
    db.session.commit()
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    followups.send_followup_email(ladder, actor=setup["acm"])
    clock.freeze(WHATSAPP_DUE)
    assert followups.send_due_whatsapp(ladder.id) == "stopped"
    assert ladder.stop_reason == "No contact has a WhatsApp number"

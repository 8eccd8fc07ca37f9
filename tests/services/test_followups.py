"""The no-reply ladder (F2) without HTTP: the follow-up email after an unanswered call, the
WhatsApp after the team's business hours without a reply (at the minute), replies that
stop it, and sending once whatever runs twice."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kamportal import clock, queue
from kamportal.errors import RuleViolation
from kamportal.models import (
    CallOutcome,
    Channel,
    NoReplyLadder,
    OutboxMessage,
    Role,
    TimelineEvent,
    TimelineKind,
)
from kamportal.services import contact_log, day, followups, timeline

# Thursday 26 Nov 2026, 15:00 in Cairo (UTC+2): two business hours left in a Sun-Thu week.
THURSDAY_AFTERNOON = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
# + 4 business hours: 2 on Thursday, 2 on Sunday from 9:00, so Sunday 11:00 Cairo.
WHATSAPP_DUE = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
def setup(make_portfolio, frozen_clock):
    frozen_clock(THURSDAY_AFTERNOON)
    return make_portfolio(
        team={"shared_mailbox": "cairo-kam@kam.example", "no_reply_whatsapp_after_hours": 4},
        leader={"email": "leader@kam.example"},
        acm={"name": "Mona Adel", "email": "mona@kam.example"},
        contact={"name": "Karim Said", "email": "karim@store.example"},
    ).as_dict()


def unanswered_call(setup, db):
    event = contact_log.log_call(
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
    assert {"leader@kam.example", "cairo-kam@kam.example", "mona@kam.example"} <= set(
        email.cc_addrs
    )
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
        contact_log.log_email(
            client, actor=acm, contact=contact, direction="received", subject="Re: call"
        )
    elif reply == "whatsapp":
        contact_log.log_whatsapp_request(client, actor=acm, contact=contact, message="Call me at 4")
    else:
        contact_log.log_call(client, actor=acm, contact=contact, outcome=CallOutcome.ANSWERED)
    db.session.commit()
    assert ladder.stopped_at == THURSDAY_AFTERNOON + timedelta(minutes=30)
    assert TimelineKind.LADDER_STOPPED.value in kinds(db, client)
    clock.freeze(WHATSAPP_DUE)
    assert followups.send_due_whatsapp(ladder.id) == "stopped"
    db.session.commit()
    assert messages(db, Channel.WHATSAPP) == []


def test_an_email_sent_by_the_acm_is_not_a_reply(setup, db):
    unanswered_call(setup, db)
    contact_log.log_email(
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


def test_a_voicemail_is_no_answer_and_starts_the_ladder_as_in_E2(setup, db):
    """F2: a voicemail left is no answer from the client: the follow-up email goes (the
    team's setting) and the WhatsApp is due after the team's business hours."""
    setup["team"].followup_email_auto = True
    db.session.commit()
    call = contact_log.log_call(
        setup["client"], actor=setup["acm"], contact=setup["contact"], outcome=CallOutcome.VOICEMAIL
    )
    db.session.commit()
    [ladder] = ladders(db)
    assert ladder.call_event_id == call.id and ladder.whatsapp_due_at == WHATSAPP_DUE
    [email] = messages(db, Channel.EMAIL)
    assert email.to_addrs == ["karim@store.example"]


def test_no_email_address_refuses_the_followup_and_auto_mode_waits(
    make_client, make_contact, setup, db
):
    setup["team"].followup_email_auto = True
    client = make_client(acm=setup["acm"])
    make_contact(client, email=None)
    contact_log.log_call(client, actor=setup["acm"], contact=None, outcome=CallOutcome.NO_ANSWER)
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


# --- Owed on the ACM's day (F2) -------------------------------------------------------------


def owed(acm) -> list[tuple[str, str, datetime]]:
    """The F2 items of `acm`'s day now: (store, title, since)."""
    section = day.no_reply_followups(acm, now=clock.now())
    return [(item.client.store_name, item.title, item.since) for item in section.items]


EMAIL_OWED = "Call not answered: send the follow-up email"
WHATSAPP_OWED = "No reply: the WhatsApp reminder is due"


@pytest.mark.parametrize("outcome", [CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL])
def test_the_followup_email_not_sent_is_owed_on_the_acms_day_until_it_goes_F2(setup, db, outcome):
    """F2 with the team's default (the email is a button): the email is owed on the
    client's ACM's day from the call (a voicemail too), with the rule and its age, and
    leaves the day once sent."""
    client, acm = setup["client"], setup["acm"]
    contact_log.log_call(client, actor=acm, contact=setup["contact"], outcome=outcome)
    db.session.commit()
    clock.advance(timedelta(hours=3))
    [item] = day.no_reply_followups(acm, now=clock.now()).items
    assert (item.rule, item.title, item.since) == ("F2", EMAIL_OWED, THURSDAY_AFTERNOON)
    assert item.age == "3 h" and item.note == "Called Karim Said"
    [ladder] = ladders(db)
    followups.send_followup_email(ladder, actor=acm)
    db.session.commit()
    assert owed(acm) == []


def test_the_whatsapp_step_is_owed_from_its_due_time_not_a_minute_before_F2(setup, db):
    """F2: once the email went, nothing is owed while the WhatsApp waits for its business
    hours; at its due time, not sent, it is owed on the day since then; sent, it leaves."""
    client, acm = setup["client"], setup["acm"]
    unanswered_call(setup, db)
    [ladder] = ladders(db)
    followups.send_followup_email(ladder, actor=acm)
    db.session.commit()
    assert owed(acm) == []
    clock.freeze(WHATSAPP_DUE - timedelta(minutes=1))
    assert owed(acm) == []
    clock.freeze(WHATSAPP_DUE)
    assert owed(acm) == [(client.store_name, WHATSAPP_OWED, WHATSAPP_DUE)]
    clock.freeze(WHATSAPP_DUE + timedelta(hours=2))
    [item] = day.no_reply_followups(acm, now=clock.now()).items
    assert item.age == "2 h" and item.note == "Asks Karim Said to check the follow-up email"
    assert followups.send_due_whatsapp(ladder.id, actor=acm) == "sent"
    db.session.commit()
    assert owed(acm) == []
    [whatsapp] = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.FOLLOWUP_WHATSAPP.value)
    )
    assert whatsapp.actor_id == acm.id


@pytest.mark.parametrize("email_sent", [False, True], ids=["email-owed", "whatsapp-owed"])
def test_a_reply_on_any_channel_takes_the_followup_off_the_day_F2(setup, db, email_sent):
    client, acm = setup["client"], setup["acm"]
    unanswered_call(setup, db)
    if email_sent:
        [ladder] = ladders(db)
        followups.send_followup_email(ladder, actor=acm)
        db.session.commit()
        clock.freeze(WHATSAPP_DUE)
    assert len(owed(acm)) == 1
    contact_log.log_email(
        client, actor=acm, contact=setup["contact"], direction="received", subject="Re: call"
    )
    db.session.commit()
    assert owed(acm) == []


def test_the_followup_is_its_acms_and_says_when_no_contact_has_an_email(
    setup, db, make_user, make_client, make_contact
):
    """F2: on the client's ACM's day only; without an email address it says what to do."""
    acm = setup["acm"]
    client = make_client(acm=acm, store_name="No Mail")
    make_contact(client, name="Hala", email=None)
    contact_log.log_call(client, actor=acm, contact=None, outcome=CallOutcome.NO_ANSWER)
    db.session.commit()
    [item] = day.no_reply_followups(acm, now=clock.now()).items
    assert item.note == "Called the client; no contact has an email address: add one"
    other = make_user(Role.ACM, team=setup["team"])
    assert owed(other) == []

"""The no-reply ladder after an unanswered call (rule F2; a voicemail is no answer).

Call not answered → the follow-up email (sent at once when the team says so, otherwise
offered on the client page) → when the client has replied on no channel for the team's
number of business hours, a WhatsApp template asking them, gently, to check the email.
A reply logged on any channel (an email received, a WhatsApp received, an answered call)
stops the ladder. The WhatsApp is sent by `jobs/followups.py` at its due time (or by the
ACM, once due, if the job is late). What a ladder still owes is on the ACM's day
(`services/day.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kamportal import clock, i18n, queue
from kamportal.errors import RuleViolation
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    CallOutcome,
    Client,
    Contact,
    NoReplyLadder,
    OutboxMessage,
    Team,
    TeamRules,
    TimelineEvent,
    TimelineKind,
    User,
    rules_of,
)
from kamportal.services import cadence, calendar, events, timeline

WHATSAPP_JOB = "kamportal.jobs.followups.send_whatsapp"
# A reply on any of these channels stops the ladder.
REPLY_KINDS = (TimelineKind.EMAIL_RECEIVED, TimelineKind.WHATSAPP_RECEIVED, TimelineKind.CALL)
# What the client was used for when the team has no setting (a client without a team).


def whatsapp_job_id(ladder_id: int) -> str:
    """One WhatsApp job per ladder, so a reconciler can find and re-create it."""
    return f"ladder-{ladder_id}-whatsapp"


def _open(query):
    return query.where(NoReplyLadder.stopped_at.is_(None)).where(
        NoReplyLadder.whatsapp_message_id.is_(None)
    )


def open_ladder(client: Client) -> NoReplyLadder | None:
    """The client's ladder still under way (not stopped, WhatsApp not sent), if any; one
    query with what the client page's panel shows."""
    return db.session.scalar(
        _open(select(NoReplyLadder).where(NoReplyLadder.client_id == client.id))
        .options(joinedload(NoReplyLadder.contact), joinedload(NoReplyLadder.email_message))
        .order_by(NoReplyLadder.id.desc())
        .limit(1)
    )


def unanswered_followup(client: Client) -> NoReplyLadder | None:
    """F2: the client's latest ladder whose "we tried to call you" email went (or is
    queued) and that no reply stopped. An escalation's email step counts that email
    rather than sending the client a second one (E2)."""
    return db.session.scalar(
        select(NoReplyLadder)
        .where(NoReplyLadder.client_id == client.id)
        .where(NoReplyLadder.stopped_at.is_(None))
        .where(NoReplyLadder.email_message_id.is_not(None))
        .options(joinedload(NoReplyLadder.email_message))
        .order_by(NoReplyLadder.email_sent_at.desc(), NoReplyLadder.id.desc())
        .limit(1)
    )


def _rules(client: Client) -> Team | TeamRules:
    return rules_of(client.acm.team if client.acm is not None else None)


def start_ladder(client: Client, call_event: TimelineEvent, *, actor: User) -> NoReplyLadder:
    """F2: an unanswered call starts the ladder; with the team's `followup_email_auto` the
    follow-up email goes at once (when a contact has an email address).

    A client whose ladder is already under way keeps that one: a second unanswered call
    does not send a second email.
    """
    existing = open_ladder(client)
    if existing is not None:
        return existing
    contact_id = (call_event.detail or {}).get("contact_id")
    ladder = NoReplyLadder(
        client_id=client.id,
        call_event=call_event,
        contact=db.session.get(Contact, contact_id) if contact_id else None,
        started_at=call_event.at or clock.now(),
    )
    db.session.add(ladder)
    db.session.flush()
    if _rules(client).followup_email_auto and email_recipient(ladder):
        send_followup_email(ladder, actor=actor)
    return ladder


def email_recipient(ladder: NoReplyLadder) -> Contact | None:
    return ladder.client.reachable_contact("email", preferred=ladder.contact)


def whatsapp_recipient(ladder: NoReplyLadder) -> Contact | None:
    return ladder.client.reachable_contact("whatsapp", preferred=ladder.contact)


def draft_followup_email(ladder: NoReplyLadder, *, actor: User | None) -> outbox.Draft:
    """F2: the follow-up email `send_followup_email` would send, composed and not queued
    (a preview). Raises RuleViolation("F2") as it does, and once the email went."""
    if ladder.email_message is not None:
        raise RuleViolation("F2", "The follow-up email was sent already.")
    return _followup_email(ladder, actor=actor)[1]


def _followup_email(ladder: NoReplyLadder, *, actor: User | None) -> tuple[Contact, outbox.Draft]:
    if ladder.stopped_at is not None:
        raise RuleViolation("F2", "The client has replied since: no follow-up email is needed.")
    client = ladder.client
    contact = email_recipient(ladder)
    if contact is None:
        raise RuleViolation("F2", "No contact of this client has an email address: add one.")
    acm = client.acm
    with i18n.client_language(client.language):
        body = outbox.render_email(
            "followup_no_answer.txt",
            client=client,
            contact=contact,
            acm=acm,
            team=acm.team if acm else None,
            called_at=ladder.started_at,
        )
    draft = outbox.client_draft(
        client,
        to=[contact.email],
        subject=i18n.translated(
            client.language, "We tried to call you – %(code)s", code=client.store_code
        ),
        body=body,
        actor=actor,
    )
    return contact, draft


def send_followup_email(ladder: NoReplyLadder, *, actor: User | None) -> OutboxMessage:
    """F2: queue the follow-up email (G1 CCs through the outbox) and schedule the WhatsApp
    reminder after the team's business hours without a reply (after the commit).

    Idempotent: a second call returns the email already queued. Raises RuleViolation("F2")
    when the ladder stopped (the client replied) or no contact has an email address.
    """
    if ladder.email_message is not None:
        return ladder.email_message
    contact, draft = _followup_email(ladder, actor=actor)
    client = ladder.client
    now = clock.now()
    message = outbox.queue_draft(draft, key=f"ladder-{ladder.id}-email")
    cadence.record_contact(client, now)  # F1: an email sent counts as contact
    hours = _rules(client).no_reply_whatsapp_after_hours
    ladder.email_message = message
    ladder.email_sent_at = now
    ladder.whatsapp_due_at = whatsapp_due_at(ladder)
    timeline.record(
        client,
        TimelineKind.FOLLOWUP_EMAIL,
        actor=actor,
        summary=f"Follow-up email to {contact.name} after the unanswered call (F2); "
        f"WhatsApp reminder after {hours} business hours without a reply",
        detail={"ladder_id": ladder.id, "contact_id": contact.id},
        outbox_message=message,
        at=now,
    )
    db.session.flush()
    queue.enqueue_after_commit(
        db.session,
        WHATSAPP_JOB,
        ladder.id,
        job_id=whatsapp_job_id(ladder.id),
        at=ladder.whatsapp_due_at,
    )
    return message


def whatsapp_due_at(
    ladder: NoReplyLadder, business: calendar.BusinessCalendar | None = None
) -> datetime:
    """F2: when the WhatsApp of a ladder whose email went is due on its calendar as it is
    now: the team's business hours after the email."""
    client = ladder.client
    business = business or calendar.calendar_for_client(client)
    hours = _rules(client).no_reply_whatsapp_after_hours
    return business.add_business_hours(ladder.email_sent_at, hours)


def move_whatsapp(ladder: NoReplyLadder, due_at: datetime) -> None:
    """The WhatsApp is due at `due_at` now (its calendar changed): its job is enqueued
    again under the same id after the commit, replacing the old one."""
    ladder.whatsapp_due_at = due_at
    queue.enqueue_after_commit(
        db.session,
        WHATSAPP_JOB,
        ladder.id,
        job_id=whatsapp_job_id(ladder.id),
        at=due_at if due_at > clock.now() else None,
    )


def waiting_ladders() -> list[NoReplyLadder]:
    """The ladders whose email went and whose WhatsApp is pending, with their client."""
    return list(
        db.session.scalars(
            _open(select(NoReplyLadder))
            .where(NoReplyLadder.whatsapp_due_at.is_not(None))
            .options(joinedload(NoReplyLadder.client).joinedload(Client.acm))
            .order_by(NoReplyLadder.id)
        )
    )


def _replied_since(client: Client, since: datetime) -> TimelineEvent | None:
    """The first reply logged on the client's timeline since `since`, if any."""
    events = db.session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.client_id == client.id)
        .where(TimelineEvent.kind.in_([k.value for k in REPLY_KINDS]))
        .where(TimelineEvent.at >= since)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    for event in events:
        if event.kind != TimelineKind.CALL.value:
            return event
        if (event.detail or {}).get("outcome") == CallOutcome.ANSWERED.value:
            return event
    return None


def send_due_whatsapp(ladder_id: int, *, actor: User | None = None) -> str:
    """F2: send the WhatsApp asking the client to check the email, if still wanted: by its
    job at the due time, or by the ACM (`actor`) once it is due and has not gone.

    Nothing is sent for a ladder that is gone, stopped, already sent, whose email has not
    gone, or that is not due yet; a reply logged since the call stops it instead. Returns
    what happened ("sent", "stopped", or why nothing was done). The caller commits.
    """
    ladder = db.session.get(NoReplyLadder, ladder_id)
    if ladder is None:
        return "gone"
    if ladder.stopped_at is not None:
        return "stopped"
    if ladder.whatsapp_message_id is not None:
        return "already sent"
    if ladder.whatsapp_due_at is None:
        return "no email yet"
    now = clock.now()
    if now < ladder.whatsapp_due_at:
        return "not due"
    due = whatsapp_due_at(ladder)
    if now < due:
        # The calendar changed since it was scheduled (a holiday declared): not early.
        move_whatsapp(ladder, due)
        return "not due"
    client = ladder.client
    reply = _replied_since(client, ladder.started_at)
    if reply is not None:
        _stop(ladder, at=now, reason=f"Reply logged: {reply.summary}", actor=actor)
        return "stopped"
    contact = whatsapp_recipient(ladder)
    if contact is None:
        _stop(ladder, at=now, reason="No contact has a WhatsApp number", actor=actor)
        return "stopped"
    message = outbox.queue_whatsapp(
        key=f"ladder-{ladder.id}-whatsapp",
        to=contact.whatsapp,
        template="check_your_email",
        params={"name": contact.name.split()[0]},
        client=client,
        actor=actor,
    )
    ladder.whatsapp_message = message
    timeline.record(
        client,
        TimelineKind.FOLLOWUP_WHATSAPP,
        actor=actor,
        summary=f"WhatsApp to {contact.name}: please check the follow-up email (F2)",
        detail={"ladder_id": ladder.id, "contact_id": contact.id, "template": "check_your_email"},
        outbox_message=message,
        at=now,
    )
    db.session.flush()
    return "sent"


def whatsapp_owed(ladder: NoReplyLadder, *, now: datetime) -> bool:
    """F2: the ladder's WhatsApp reminder is due and has not gone (its job is late): the
    ACM's day lists it and the client page offers to send it now."""
    return (
        ladder.stopped_at is None
        and ladder.whatsapp_message_id is None
        and ladder.whatsapp_due_at is not None
        and ladder.whatsapp_due_at <= now
    )


def _stop(ladder: NoReplyLadder, *, at: datetime, reason: str, actor: User | None) -> None:
    ladder.stopped_at = at
    ladder.stop_reason = reason[:200]
    timeline.record(
        ladder.client,
        TimelineKind.LADDER_STOPPED,
        actor=actor,
        summary=f"No-reply follow-up stopped: {reason}",
        detail={"ladder_id": ladder.id},
        at=at,
    )


def stop_ladders_on_reply(
    client: Client, *, at: datetime, reason: str, actor: User | None = None
) -> int:
    """F2: a reply on any channel stops the client's ladders under way; returns how many.

    Their WhatsApp job, if scheduled, finds them stopped and sends nothing.
    """
    ladders = list(
        db.session.scalars(
            _open(select(NoReplyLadder).where(NoReplyLadder.client_id == client.id))
            .where(NoReplyLadder.started_at <= at)
            .order_by(NoReplyLadder.id)
        )
    )
    for ladder in ladders:
        _stop(ladder, at=at, reason=reason, actor=actor)
    if ladders:
        db.session.flush()
    return len(ladders)


def ladders_to_reconcile() -> list[tuple[int, datetime]]:
    """(id, WhatsApp due time) of the ladders whose email went and whose WhatsApp has not."""
    rows = db.session.execute(
        _open(select(NoReplyLadder.id, NoReplyLadder.whatsapp_due_at))
        .where(NoReplyLadder.whatsapp_due_at.is_not(None))
        .order_by(NoReplyLadder.whatsapp_due_at)
    )
    return [(ladder_id, due) for ladder_id, due in rows]


@events.client_replied.connect
def _client_replied(client: Client, *, at: datetime, reason: str, actor: User, **_: object) -> None:
    """F2: a reply on any channel stops the client's no-reply ladders."""
    stop_ladders_on_reply(client, at=at, reason=reason, actor=actor)

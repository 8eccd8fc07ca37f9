"""The contact log (G3, G6, F1): calls placed from the portal, emails sent and received,
WhatsApp requests and their template replies, notes, and messages sent again. Each lands on
the client's timeline (P6).

What a contact means for the ladders is said as an event (services/events.py): a reply on
any channel (`client_replied`) stops F2's ladders and pauses an escalation's; an unanswered
call (`call_unanswered`) starts F2's. The escalation ladder logs its own call here too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.messaging.whatsapp import render_template as render_whatsapp
from kamportal.models import (
    CallOutcome,
    Client,
    Contact,
    OpenWhatsAppRequest,
    OutboxMessage,
    TimelineEvent,
    TimelineKind,
    User,
)
from kamportal.models.types import json_text
from kamportal.services import cadence, clients, events, timeline
from kamportal.services import minutes as minutes_service


def log_call(
    client: Client,
    *,
    actor: User,
    contact: Contact | None,
    outcome: CallOutcome,
    notes: str = "",
    no_reply_ladder: bool = True,
) -> TimelineEvent:
    """Rule G3: a call placed from the portal, with its outcome and notes.

    An unanswered call starts F2's no-reply ladder unless `no_reply_ladder` is False (an
    escalation's call, which the escalation ladder follows up, E2) or an escalation's
    ladder already waits on the client's reply to its email."""
    outcome = CallOutcome(outcome)
    at = clock.now()
    who = contact.name if contact else "the client"
    event = timeline.record(
        client,
        TimelineKind.CALL,
        actor=actor,
        summary=f"Call with {who}: {outcome.label}"
        + (f". {notes.strip()}" if notes.strip() else ""),
        detail={
            "outcome": outcome.value,
            "contact_id": contact.id if contact else None,
            "phone": contact.phone if contact else None,
            "notes": notes.strip(),
        },
        at=at,
    )
    if outcome is CallOutcome.ANSWERED:
        cadence.record_contact(client, at)
        minutes_service.owe_for_call(client, event, owner=actor, at=at)  # G5
        events.client_replied.send(client, at=at, reason="Call answered", actor=actor)
    elif no_reply_ladder:
        # F2: an unanswered call (a voicemail is no answer, as in E2) is followed up.
        events.call_unanswered.send(client, event=event, actor=actor)
    return event


def log_email(
    client: Client,
    *,
    actor: User,
    contact: Contact | None,
    direction: str,
    subject: str,
    notes: str = "",
) -> TimelineEvent:
    """An email sent or received outside the portal, recorded on the timeline."""
    if direction not in ("sent", "received"):
        raise ValidationError("Choose sent or received.", field="direction")
    if not subject.strip():
        raise ValidationError("Give the email's subject.", field="subject")
    at = clock.now()
    who = contact.name if contact else "the client"
    sent = direction == "sent"
    event = timeline.record(
        client,
        TimelineKind.EMAIL_SENT if sent else TimelineKind.EMAIL_RECEIVED,
        actor=actor,
        summary=f"Email {'to' if sent else 'from'} {who}: {subject.strip()}",
        detail={"contact_id": contact.id if contact else None, "notes": notes.strip()},
        at=at,
    )
    if sent:
        cadence.record_contact(client, at)
    else:
        events.client_replied.send(client, at=at, reason="Email received", actor=actor)
    return event


def log_whatsapp_request(
    client: Client, *, actor: User, contact: Contact | None, message: str
) -> TimelineEvent:
    """Rule G6: a request that arrived by WhatsApp is logged, and must be answered."""
    if not message.strip():
        raise ValidationError("Paste or summarise the message.", field="message")
    who = contact.name if contact else "the client"
    event = timeline.record(
        client,
        TimelineKind.WHATSAPP_RECEIVED,
        actor=actor,
        summary=f"WhatsApp from {who}: {message.strip()}",
        detail={"contact_id": contact.id if contact else None, "message": message.strip()},
    )
    events.client_replied.send(client, at=event.at, reason="WhatsApp received", actor=actor)
    return event


# G6: the WhatsApp template that answers a request and sends the client to email.
REDIRECT_TEMPLATE = "redirect_to_email"


def whatsapp_redirect_params(client: Client, contact: Contact) -> dict[str, str]:
    acm_email = client.acm.email if client.acm else ""
    return {"name": contact.name.split()[0], "acm_email": acm_email}


def whatsapp_redirect_preview(client: Client, contact: Contact) -> str:
    """The G6 template reply, as the client will read it."""
    return render_whatsapp(REDIRECT_TEMPLATE, whatsapp_redirect_params(client, contact))


def reply_to_whatsapp_with_email_redirect(
    client: Client, *, actor: User, contact: Contact, key: str
) -> OutboxMessage:
    """Rule G6: answer a WhatsApp request with the template that redirects to email."""
    if not contact.whatsapp:
        raise ValidationError(f"{contact.name} has no WhatsApp number.", field="contact")
    message = outbox.queue_whatsapp(
        key=key,
        to=contact.whatsapp,
        template=REDIRECT_TEMPLATE,
        params=whatsapp_redirect_params(client, contact),
        client=client,
        actor=actor,
    )
    if not _already_on_timeline(message):
        timeline.record(
            client,
            TimelineKind.WHATSAPP_SENT,
            actor=actor,
            summary=f"WhatsApp reply to {contact.name}: please send requests by email (G6)",
            detail={"contact_id": contact.id, "template": REDIRECT_TEMPLATE},
            outbox_message=message,
        )
    return message


# Of the open requests kept beside the timeline (models.OpenWhatsAppRequest), each is read
# only if the timeline still says it is unanswered: a request and its reply written at
# once, in two transactions, each unseen by the other's, leave the request open in the
# table; asking the timeline of the few open ones costs a probe each.


def whatsapp_unanswered_clause() -> ColumnElement[bool]:
    """G6 in SQL: a timeline event that is a WhatsApp request not answered yet."""
    return and_(
        TimelineEvent.id.in_(select(OpenWhatsAppRequest.event_id)),
        _unanswered_on_the_timeline(),
    )


def unanswered_whatsapp_query() -> Select[tuple[TimelineEvent, Client]]:
    """G6: the WhatsApp requests not answered yet with their clients, joined through the
    open requests' client, so that a scope of many clients finds its few requests first."""
    return (
        select(TimelineEvent, Client)
        .join(OpenWhatsAppRequest, OpenWhatsAppRequest.event_id == TimelineEvent.id)
        .join(Client, Client.id == OpenWhatsAppRequest.client_id)
        .where(_unanswered_on_the_timeline())
    )


@functools.cache
def _unanswered_on_the_timeline() -> ColumnElement[bool]:
    """G6 as the timeline says it: a WhatsApp request after which no template reply
    redirecting to email went to the contact who wrote (to any contact, for a request
    logged without one). Built once (an SQL expression is only ever read)."""
    reply = aliased(TimelineEvent)
    asked_by = TimelineEvent.detail["contact_id"].as_integer()
    return and_(
        TimelineEvent.kind == TimelineKind.WHATSAPP_RECEIVED.value,
        ~exists().where(
            reply.client_id == TimelineEvent.client_id,
            reply.kind == TimelineKind.WHATSAPP_SENT.value,
            reply.detail["template"].as_string() == REDIRECT_TEMPLATE,
            or_(
                reply.at > TimelineEvent.at,
                and_(reply.at == TimelineEvent.at, reply.id > TimelineEvent.id),
            ),
            or_(asked_by.is_(None), reply.detail["contact_id"].as_integer() == asked_by),
        ),
    )


def rebuild_open_whatsapp_requests() -> int:
    """The open WhatsApp requests made again from the timeline, for events written without
    the ORM (the bench's bulk load); how many are open."""
    db.session.execute(delete(OpenWhatsAppRequest))
    db.session.execute(
        insert(OpenWhatsAppRequest).from_select(
            ["event_id", "client_id"],
            select(TimelineEvent.id, TimelineEvent.client_id).where(_unanswered_on_the_timeline()),
        )
    )
    return db.session.scalar(select(func.count()).select_from(OpenWhatsAppRequest)) or 0


@event.listens_for(TimelineEvent, "after_insert")
def _keep_open_whatsapp_requests(mapper, connection, written: TimelineEvent) -> None:
    """A request written opens unless a reply already answers it; a template reply written
    closes the client's requests it answers. Each asks the timeline (the same clause), so
    the table agrees with it whatever order events come in."""
    if written.kind == TimelineKind.WHATSAPP_RECEIVED.value:
        connection.execute(
            insert(OpenWhatsAppRequest).from_select(
                ["event_id", "client_id"],
                select(TimelineEvent.id, TimelineEvent.client_id).where(
                    TimelineEvent.id == written.id, _unanswered_on_the_timeline()
                ),
            )
        )
    elif (
        written.kind == TimelineKind.WHATSAPP_SENT.value
        and (written.detail or {}).get("template") == REDIRECT_TEMPLATE
    ):
        answered = select(TimelineEvent.id).where(
            TimelineEvent.client_id == written.client_id,
            TimelineEvent.kind == TimelineKind.WHATSAPP_RECEIVED.value,
            ~_unanswered_on_the_timeline(),
        )
        connection.execute(
            delete(OpenWhatsAppRequest).where(OpenWhatsAppRequest.event_id.in_(answered))
        )


@dataclass(frozen=True)
class UnansweredWhatsApp:
    """A WhatsApp request not answered yet (G6); whom the template reply may go to (the
    contact who wrote if they have a WhatsApp number, else every contact who has one) and
    the reply as the first of them reads it."""

    request: TimelineEvent
    asked_by: Contact | None
    answer_to: tuple[Contact, ...]
    preview: str

    @property
    def message(self) -> str:
        return (self.request.detail or {}).get("message", "")


def unanswered_whatsapp_requests(client: Client) -> list[UnansweredWhatsApp]:
    """The client's WhatsApp requests not answered yet (G6), oldest first."""
    requests = db.session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.client_id == client.id, whatsapp_unanswered_clause())
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    found = []
    for request in requests:
        asked_by = clients.contact_of(client, (request.detail or {}).get("contact_id"))
        if asked_by is not None and asked_by.whatsapp:
            answer_to: tuple[Contact, ...] = (asked_by,)
        else:
            answer_to = tuple(c for c in client.contacts if c.whatsapp)
        preview = whatsapp_redirect_preview(client, answer_to[0]) if answer_to else ""
        found.append(UnansweredWhatsApp(request, asked_by, answer_to, preview))
    return found


def add_note(client: Client, *, actor: User, text: str) -> TimelineEvent:
    if not text.strip():
        raise ValidationError("A note cannot be empty.", field="text")
    return timeline.record(client, TimelineKind.NOTE, actor=actor, summary=text.strip())


def draft_contact_email(
    client: Client, *, actor: User, contact: Contact, subject: str, body: str
) -> outbox.Draft:
    """The email `email_contact` would send, composed and not queued (a preview). Raises
    ValidationError for a contact without email, a blank subject or message."""
    if not contact.email:
        raise ValidationError(f"{contact.name} has no email address.", field="contact")
    if not subject.strip():
        raise ValidationError("An email needs a subject.", field="subject")
    if not body.strip():
        raise ValidationError("An email needs a message.", field="body")
    return outbox.client_draft(
        client,
        to=[contact.email],
        subject=subject.strip(),
        body=body.strip() + "\n",
        actor=actor,
    )


def email_contact(
    client: Client, *, actor: User, contact: Contact, subject: str, body: str, key: str
) -> OutboxMessage:
    """Email a contact through the outbox (G1 CCs added there); on the timeline at once,
    its delivery status shown as the job sends it. The same `key` sends once."""
    draft = draft_contact_email(client, actor=actor, contact=contact, subject=subject, body=body)
    message = outbox.queue_draft(draft, key=key)
    if not _already_on_timeline(message):
        at = clock.now()
        timeline.record(
            client,
            TimelineKind.EMAIL_SENT,
            actor=actor,
            summary=f"Email to {contact.name}: {subject.strip()}",
            detail={"contact_id": contact.id},
            outbox_message=message,
            at=at,
        )
        cadence.record_contact(client, at)
    return message


def _already_on_timeline(message: OutboxMessage) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .where(TimelineEvent.outbox_message_id == message.id)
        )
        > 0
    )


def retry_message(client: Client, message_id: int, *, actor: User) -> OutboxMessage:
    """Send again a message to `client` whose delivery failed (a person asked for it).

    Raises ValidationError if it is not this client's, or has not failed."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.client_id != client.id:
        raise ValidationError("There is no such message for this client.")
    if not outbox.retry(message):
        raise ValidationError("Only a message that failed to send can be sent again.")
    timeline.audit(actor, "outbox.retry", message, after={"status": message.status})
    return message


# F1: what counts as contact with the client: an answered call, an email sent (by hand,
# a follow-up or the welcome email), a meeting held.
CONTACT_KINDS = (
    TimelineKind.EMAIL_SENT,
    TimelineKind.FOLLOWUP_EMAIL,
    TimelineKind.WELCOME_EMAIL_SENT,
    TimelineKind.MEETING_HELD,
)


def contact_made_clause() -> ColumnElement[bool]:
    """F1 in SQL: a timeline event that is a contact made with the client (the events
    that move its weekly cadence on).

    Written as the partial index of contacts says it (ix_timeline_events_contacts, the
    same events), its constants in the statement rather than bound, so that PostgreSQL
    reads the contacts off that index, in a prepared statement's generic plan too."""
    outcome = json_text(TimelineEvent.detail, "outcome")
    return or_(
        TimelineEvent.kind.in_(
            bindparam(
                "contact_kinds",
                [kind.value for kind in CONTACT_KINDS],
                unique=True,
                literal_execute=True,
            )
        ),
        and_(
            TimelineEvent.kind == _written(TimelineKind.CALL.value),
            outcome == _written(CallOutcome.ANSWERED.value),
        ),
    )


def _written(value: str) -> Any:
    """`value` written into the statement, not bound."""
    return literal(value, String, literal_execute=True)

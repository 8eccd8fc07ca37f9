"""C3: a rejected customization request's reason goes to the client: the ACM sends it from
the request's page, in words the ACM may edit (prefilled from a template with product's
reason), by email to the client's contact with the G1 CCs; once, on the client's timeline.
Until it is sent it is owed on the ACM's day."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from kamportal import clock, i18n
from kamportal.errors import RuleViolation
from kamportal.extensions import db
from kamportal.messaging import outbox
from kamportal.models import (
    Contact,
    CustomizationRequest,
    CustomizationStage,
    OutboxMessage,
    TimelineKind,
    User,
)
from kamportal.services import access, customizations, timeline, validation

MESSAGE_MAX = 5000


def message_key(request: CustomizationRequest) -> str:
    return f"customization-{request.id}-rejection"


def default_message(request: CustomizationRequest) -> str:
    """What the email says unless the ACM writes otherwise: the request and product's
    reason, without any of the portal's references."""
    with i18n.client_language(request.client.language):
        text = outbox.render_email(
            "customization_rejection_message.txt", request=request, client=request.client
        )
    return text.strip()


def is_owed(request: CustomizationRequest) -> bool:
    return request.stage == CustomizationStage.REJECTED.value and request.rejection_sent_at is None


def send_rejection(request: CustomizationRequest, *, actor: User, message: str) -> OutboxMessage:
    """C3: email the client why its request was rejected (G1 CCs), once; sending again
    returns the first email. On the client's timeline and in the audit log.

    Raises NotAllowed for someone who does not work on the client, RuleViolation("C3")
    for a request not rejected or a client without an email address, ValidationError for
    a blank or too long message."""
    client = request.client
    access.check_works_on(actor, client)
    customizations.check_stage(
        request,
        CustomizationStage.REJECTED,
        rule="C3",
        refusal="Only a rejected request's reason goes to the client.",
    )
    if request.rejection_sent_at is not None:
        sent = outbox.find_by_key(message_key(request))
        if sent is not None:
            return sent
    contact, draft = _rejection_email(request, actor=actor, message=message)
    sent = outbox.queue_draft(draft, key=message_key(request))
    now = clock.now()
    with timeline.audited(actor, "customization.rejection_sent", request, ("rejection_sent_at",)):
        request.rejection_sent_at = now
    timeline.record(
        client,
        TimelineKind.CUSTOMIZATION_REJECTION_SENT,
        actor=actor,
        summary=f"Customization {request.reference}: the rejection's reason sent to "
        f"{contact.name} (C3)",
        detail={"request_id": request.id},
        outbox_message=sent,
        at=now,
    )
    db.session.flush()
    return sent


def draft_rejection(request: CustomizationRequest, *, actor: User, message: str) -> outbox.Draft:
    """C3: the email `send_rejection` would send, composed and not queued (a preview).
    Refuses what it refuses, and a reason already sent."""
    access.check_works_on(actor, request.client)
    customizations.check_stage(
        request,
        CustomizationStage.REJECTED,
        rule="C3",
        refusal="Only a rejected request's reason goes to the client.",
    )
    if request.rejection_sent_at is not None:
        raise RuleViolation("C3", "The reason was sent to the client already.")
    return _rejection_email(request, actor=actor, message=message)[1]


def _rejection_email(
    request: CustomizationRequest, *, actor: User, message: str
) -> tuple[Contact, outbox.Draft]:
    client = request.client
    text = validation.typed_text(message, field="message", multiline=True, max_length=MESSAGE_MAX)
    text = validation.required_text(
        text, field="message", message="Write what the client should read."
    )
    contact = client.reachable_contact("email")
    if contact is None:
        raise RuleViolation("C3", "No contact of this client has an email address: add one.")
    draft = outbox.draft_client_email(
        client,
        contact,
        subject=i18n.translated(
            client.language, "Your customization request: %(title)s", title=request.title
        ),
        template="customization_rejection.txt",
        actor=actor,
        message=text,
    )
    return contact, draft


def owed_query(user: User) -> Select[tuple[CustomizationRequest]]:
    """The ACM's day: their clients' rejected requests whose reason is not sent yet."""
    return (
        select(CustomizationRequest)
        .join(CustomizationRequest.client)
        .options(contains_eager(CustomizationRequest.client))
        .where(access.own_clients_clause(user))
        .where(
            CustomizationRequest.stage == CustomizationStage.REJECTED.value,
            CustomizationRequest.rejection_sent_at.is_(None),
        )
        .order_by(CustomizationRequest.decided_at, CustomizationRequest.id)
    )


def owed_of(user: User) -> list[CustomizationRequest]:
    """The requests of `owed_query`."""
    return list(db.session.scalars(owed_query(user)))

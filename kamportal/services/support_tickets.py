"""G4: a client's technical problem, escalated by the ACM to the support team's ticket
system (Jira, TICKETS_ADAPTER=jira), always with the `Enterprise` label.

The ticket is opened in the ticket system first and recorded in the portal after, so a
refusal leaves nothing behind (the ACM retries). The form carries a key made when it was
opened, in the ticket's label: a form sent again (after an answer lost on the way, or
twice) finds the ticket its first sending opened instead of opening a second.

Its status is synced from the ticket system; each priority has an SLA, a team setting in
calendar hours: the support team works on its own hours, not the ACM team's, and a
client's broken store does not wait for the weekend. An open ticket past its SLA shows
on the ACM's day.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import Client, SupportTicket, TimelineKind, User, rules_of
from kamportal.models.accounts import SUPPORT_SLA_FIELDS
from kamportal.services import timeline
from kamportal.tickets import (
    NEW_STATUS,
    PRIORITIES,
    SUMMARY_MAX,
    TicketAdapter,
    TicketDraft,
    open_once,
    ticket_adapter,
    ticket_project,
)

# G4: every ticket escalated from the portal carries this label.
ENTERPRISE_LABEL = "Enterprise"
DESCRIPTION_MAX = 20_000
# A form's key, as the form makes it (uuid4().hex), or near enough to go in a label.
_FORM_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def new_form_key() -> str:
    """The key a new support ticket form carries (G4): the ticket it opens has it."""
    return uuid.uuid4().hex


def ticket_label(form_key: str) -> str:
    return f"kam-support-{form_key}"


def sla_hours(client: Client, priority: str) -> int:
    """The hours the client's ACM's team gives the support team on a `priority` ticket."""
    team = client.acm.team if client.acm is not None else None
    return getattr(rules_of(team), SUPPORT_SLA_FIELDS[priority])


def sla_due(client: Client, priority: str, opened_at: datetime) -> datetime:
    """When the SLA of a `priority` ticket opened at `opened_at` runs out (calendar hours)."""
    return opened_at + timedelta(hours=sla_hours(client, priority))


def open_ticket(
    client: Client,
    *,
    actor: User,
    summary: str,
    description: str,
    priority: str,
    form_key: str | None = None,
    adapter: TicketAdapter | None = None,
) -> SupportTicket:
    """Escalate the client's technical problem to the support project, with the
    Enterprise label (G4); the key is stored and put on the client's timeline. The same
    `form_key` sent again gives the ticket it opened (None: a fresh key).

    Raises ValidationError for a missing summary or description, an unknown priority or
    a form key that is not one; TicketError when the ticket system refuses or fails, with
    nothing recorded.
    """
    form_key = new_form_key() if form_key is None else form_key
    if not _FORM_KEY.fullmatch(form_key):
        raise ValidationError("This form is out of date: close it and open it again.")
    summary = " ".join((summary or "").split())
    description = (description or "").strip()
    if not summary:
        raise ValidationError("Say what the problem is in a line.", field="summary")
    if len(summary) > SUMMARY_MAX:
        raise ValidationError(f"Keep the summary under {SUMMARY_MAX} characters.", field="summary")
    if not description:
        raise ValidationError(
            "Describe the problem: what happens, where, since when.", field="description"
        )
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            f"Keep the description under {DESCRIPTION_MAX} characters.", field="description"
        )
    if priority not in PRIORITIES:
        raise ValidationError(f"Choose a priority: {', '.join(PRIORITIES)}.", field="priority")
    draft = TicketDraft(
        project=ticket_project("support"),
        summary=f"{client.store_name}: {summary}"[:SUMMARY_MAX],
        description=(
            f"{description}\n\nClient: {client.store_name} ({client.store_code})\n"
            f"Escalated by: {actor.name} ({actor.email})"
        ),
        labels=(ENTERPRISE_LABEL,),
        priority=priority,
    )
    ref = open_once(adapter or ticket_adapter(), draft, ticket_label(form_key))
    recorded = db.session.scalar(select(SupportTicket).where(SupportTicket.ticket_key == ref.key))
    if recorded is not None:
        return recorded  # the form was sent twice and its first sending went through
    now = clock.now()
    ticket = SupportTicket(
        client=client,
        ticket_key=ref.key,
        url=ref.url,
        summary=summary,
        priority=priority,
        status=NEW_STATUS,
        opened_at=now,
        opened_by=actor,
        sla_due_at=sla_due(client, priority, now),
    )
    db.session.add(ticket)
    timeline.record(
        client,
        TimelineKind.SUPPORT_TICKET_OPENED,
        actor=actor,
        summary=[f"{ref.key} ({priority}): {summary} · SLA until ", ticket.sla_due_at],
        detail={"ticket_key": ref.key, "url": ref.url, "priority": priority},
        at=now,
    )
    db.session.flush()
    return ticket


def client_tickets(client: Client) -> list[SupportTicket]:
    """The client's support tickets: the open ones first, then the newest."""
    query = (
        select(SupportTicket)
        .where(SupportTicket.client_id == client.id)
        .order_by(
            case((SupportTicket.closed_at.is_(None), 0), else_=1), SupportTicket.opened_at.desc()
        )
    )
    return list(db.session.scalars(query))


def open_ticket_ids() -> list[int]:
    """The support tickets still open, oldest first: those whose status is synced."""
    query = select(SupportTicket.id).where(SupportTicket.closed_at.is_(None))
    return list(db.session.scalars(query.order_by(SupportTicket.opened_at)))


def sync_status(
    ticket: SupportTicket, *, now: datetime, adapter: TicketAdapter | None = None
) -> bool:
    """Read the ticket's status in the ticket system and record a change on the client's
    timeline; a done status closes it. Returns True when the status changed.

    Raises TicketError when the ticket system cannot answer (nothing changed).
    """
    if ticket.closed_at is not None:
        return False
    status = (adapter or ticket_adapter()).status(ticket.ticket_key)
    ticket.synced_at = now
    changed = status.name != ticket.status
    if changed:
        was, ticket.status = ticket.status, status.name
        timeline.record(
            ticket.client,
            TimelineKind.SUPPORT_TICKET_STATUS,
            actor=None,
            summary=f"{ticket.ticket_key}: {was} → {status.name}",
            detail={"ticket_key": ticket.ticket_key, "from": was, "to": status.name},
            at=now,
        )
    if status.done:
        ticket.closed_at = now
    return changed


def flag_past_sla(*, now: datetime) -> list[SupportTicket]:
    """G4, a sweep: each open ticket whose SLA ran out is flagged once, on the client's
    timeline (the ACM's day shows it while it stays open). Returns those flagged now."""
    query = (
        select(SupportTicket)
        .options(selectinload(SupportTicket.client))
        .where(
            SupportTicket.closed_at.is_(None),
            SupportTicket.sla_flagged_at.is_(None),
            SupportTicket.sla_due_at <= now,
        )
        .order_by(SupportTicket.sla_due_at)
    )
    flagged = list(db.session.scalars(query))
    for ticket in flagged:
        ticket.sla_flagged_at = now
        timeline.record(
            ticket.client,
            TimelineKind.SUPPORT_TICKET_PAST_SLA,
            actor=None,
            summary=[
                f"{ticket.ticket_key} ({ticket.priority}) still {ticket.status}: its SLA ran out ",
                ticket.sla_due_at,
            ],
            detail={"ticket_key": ticket.ticket_key},
            at=now,
        )
    db.session.flush()
    return flagged

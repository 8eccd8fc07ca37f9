"""G4: a client's technical problem, escalated by the ACM to the support team's ticket
system (Jira, TICKETS_ADAPTER=jira), always with the `Enterprise` label.

The ticket is opened in the ticket system first and recorded in the portal after, so a
refusal leaves nothing behind (the ACM retries). Its status is synced from the ticket
system; each priority has an SLA, a team setting in calendar hours: the support team
works on its own hours, not the ACM team's, and a client's broken store does not wait
for the weekend. An open ticket past its SLA shows on the ACM's day.
"""

from __future__ import annotations

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
    ticket_adapter,
    ticket_project,
)

# G4: every ticket escalated from the portal carries this label.
ENTERPRISE_LABEL = "Enterprise"
DESCRIPTION_MAX = 20_000


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
    adapter: TicketAdapter | None = None,
) -> SupportTicket:
    """Escalate the client's technical problem to the support project, with the
    Enterprise label (G4); the key is stored and put on the client's timeline.

    Raises ValidationError for a missing summary or description or an unknown priority;
    TicketError when the ticket system refuses or fails, with nothing recorded.
    """
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
    ref = (adapter or ticket_adapter()).create_issue(draft)
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

"""G4's sweep (entry points; the rules are in services/support_tickets.py): flag the open
support tickets past their SLA, and sync each open ticket's status from the ticket
system, one job per ticket so that one the ticket system cannot answer for holds back no
other and is retried by the queue on its own."""

from __future__ import annotations

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.models import SupportTicket
from kamportal.services import support_tickets


@queue.job
def sync_support_tickets() -> int:
    """Flag the tickets past their SLA, then queue the status sync of every open ticket
    (retried as DEFAULT_RETRY says). Returns how many were queued."""
    support_tickets.flag_past_sla(now=clock.now())
    db.session.commit()
    ids = support_tickets.open_ticket_ids()
    for ticket_id in ids:
        queue.enqueue(sync_support_ticket, ticket_id, job_id=f"support-ticket-sync-{ticket_id}")
    return len(ids)


@queue.job
def sync_support_ticket(ticket_id: int) -> bool:
    """Record ticket `ticket_id`'s status change, if any. A TicketError fails the job, so
    the queue retries it. Returns whether the status changed."""
    ticket = db.session.get(SupportTicket, ticket_id)
    if ticket is None:
        return False
    changed = support_tickets.sync_status(ticket, now=clock.now())
    db.session.commit()
    return changed

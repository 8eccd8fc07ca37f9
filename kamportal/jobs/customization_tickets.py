"""A customization request's tickets (C2, C3, C6), entry points; the work is in
services/customization_tickets.py. Each job makes one call to the ticket system and
commits; a TicketError rolls its work back, goes on the client's timeline (the first and
the last attempt) and fails the job, which the queue retries (DEFAULT_RETRY)."""

from __future__ import annotations

from collections.abc import Callable

from rq import get_current_job

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.services import customization_tickets as tickets
from kamportal.tickets import TicketError


def _attempt(request_id: int, what: str, work: Callable[[], str]) -> str:
    try:
        outcome = work()
    except TicketError as error:
        db.session.rollback()
        job = get_current_job()
        left = job.retries_left if job is not None and job.retries_left is not None else 0
        if left == 0 or left == queue.DEFAULT_RETRY.max:
            tickets.record_failure(request_id, what, error, last=left == 0)
            db.session.commit()
        raise
    db.session.commit()
    return outcome


@queue.job
def open_approval_ticket(request_id: int) -> str:
    """C2: the request's approval ticket, opened once."""
    return _attempt(
        request_id,
        "open the approval ticket",
        lambda: tickets.open_approval_ticket(request_id),
    )


@queue.job
def open_customization_ticket(request_id: int) -> str:
    """C6: the paid request's customization ticket, opened once."""
    return _attempt(
        request_id,
        "open the customization ticket",
        lambda: tickets.open_customization_ticket(request_id),
    )


@queue.job
def link_tickets(request_id: int) -> str:
    """C6: the customization ticket linked to the approval ticket."""
    return _attempt(request_id, "link the two tickets", lambda: tickets.link_tickets(request_id))


@queue.job
def attach_invoice(request_id: int) -> str:
    """C6: the paid invoice's PDF attached to the customization ticket, once."""
    return _attempt(
        request_id,
        "attach the invoice to the customization ticket",
        lambda: tickets.attach_invoice(request_id),
    )


@queue.job
def comment_on_approval_ticket(request_id: int, text: str, which: str = tickets.APPROVAL) -> str:
    """C3: a decision or an answer to a hold, as a comment on the approval ticket; C7: the
    acceptance and closure on the customization ticket (`which`)."""
    return _attempt(
        request_id,
        f"comment on the {tickets.TICKET_NAMES[which].lower()}",
        lambda: tickets.comment_on_approval_ticket(request_id, text, which=which),
    )


@queue.job
def move_approval_ticket(request_id: int, status: str, which: str = tickets.APPROVAL) -> str:
    """C3: the approval ticket moved to the status of product's decision; C7: the
    customization ticket to the closed status (`which`)."""
    return _attempt(
        request_id,
        f"move the {tickets.TICKET_NAMES[which].lower()} to {status}",
        lambda: tickets.move_approval_ticket(request_id, status, which=which),
    )


@queue.job
def sync_customization_tickets() -> int:
    """Every 15 minutes (jobs/cron.py): queue the status read of each request ticket still
    followed, one job per ticket, so one the ticket system cannot answer holds back no
    other and is retried on its own. Returns how many were queued."""
    owed = tickets.tickets_to_sync()
    for request_id, which in owed:
        queue.enqueue(
            sync_ticket, request_id, which, job_id=tickets.job_id(request_id, f"{which}-sync")
        )
    return len(owed)


@queue.job
def sync_ticket(request_id: int, which: str) -> bool:
    """Record the ticket's status change, if any; a TicketError fails the job (retried)."""
    changed = tickets.sync_ticket(request_id, which, now=clock.now())
    db.session.commit()
    return changed

"""C2, C3, C6: a customization request's two tickets in the ticket system (the portal's own,
or Jira): the approval ticket in the approval project (the seed's SAL) that product's
decision is mirrored to, and, once the invoice is paid by whichever path, the
customization ticket in the customization project, naming the invoice, linked to the
approval ticket and with the invoice's PDF attached.

Every call to the ticket system runs in a job of its own, enqueued after the commit that
makes it owed, under an id per event: a request, a decision or an answer to a hold is sent
once, and a ticket system that fails is retried by the queue (DEFAULT_RETRY) without
holding back the portal. A job that opens a ticket stores its key in the same transaction;
one whose key is stored already does nothing. Each ticket carries a label of its own
(`ticket_label`) that the job looks for before creating: a ticket created by an attempt
whose answer was lost is found by the retry, not opened twice. A failure goes on the
client's timeline (its first and last attempts), so the ACM sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from kamportal import clock, queue
from kamportal.extensions import db
from kamportal.models import (
    CustomizationRequest,
    CustomizationStage,
    CustomizationStatus,
    Invoice,
    TimelineKind,
)
from kamportal.services import events, kyc, timeline
from kamportal.services.invoice_pdf import CONTENT_TYPE as PDF_TYPE
from kamportal.services.invoice_pdf import invoice_filename, invoice_pdf
from kamportal.tickets import (
    NEW_STATUS,
    SUMMARY_MAX,
    TicketAdapter,
    TicketDraft,
    TicketError,
    open_once,
    ticket_adapter,
    ticket_project,
)

_JOBS = "kamportal.jobs.customization_tickets"
OPEN_APPROVAL_JOB = f"{_JOBS}.open_approval_ticket"
OPEN_CUSTOMIZATION_JOB = f"{_JOBS}.open_customization_ticket"
LINK_JOB = f"{_JOBS}.link_tickets"
COMMENT_JOB = f"{_JOBS}.comment_on_approval_ticket"
MOVE_JOB = f"{_JOBS}.move_approval_ticket"
ATTACH_INVOICE_JOB = f"{_JOBS}.attach_invoice"
SYNC_JOB = f"{_JOBS}.sync_ticket"

# The two tickets of a request, by the name the jobs and the timeline use.
APPROVAL, CUSTOMIZATION = "approval", "customization"
TICKET_NAMES = {APPROVAL: "Approval ticket", CUSTOMIZATION: "Customization ticket"}
# What each ticket is for, in its label: the customization ticket is the delivery's.
_PURPOSES = {APPROVAL: "approval", CUSTOMIZATION: "delivery"}
# C3: the setting naming the status each decision moves the approval ticket to.
DECISION_STATUS_SETTINGS = {
    CustomizationStatus.ACCEPTED.value: "TICKETS_ACCEPTED_STATUS",
    CustomizationStatus.REJECTED.value: "TICKETS_REJECTED_STATUS",
    CustomizationStatus.ON_HOLD.value: "TICKETS_ON_HOLD_STATUS",
}
# Stages whose tickets are no longer synced: the request is over.
_SETTLED = (CustomizationStage.CLOSED.value,)


def _stamp(at: datetime) -> str:
    """An instant as a job id part: a decision or an answer is one event per instant."""
    return str(int(at.timestamp() * 1_000_000))


def job_id(request_id: int, what: str) -> str:
    return f"customization-{request_id}-{what}"


def ticket_label(request_id: int, which: str) -> str:
    """The label of the request's one ticket `which` ("kam-customization-12-approval")."""
    return f"kam-customization-{request_id}-{_PURPOSES[which]}"


# --- What the request's life owes the ticket system ------------------------------------------


def approval_ticket_owed(request: CustomizationRequest) -> None:
    """C2: a request just opened (flushed): its approval ticket opens after the commit."""
    queue.enqueue_after_commit(
        db.session, OPEN_APPROVAL_JOB, request.id, job_id=job_id(request.id, "approval-ticket")
    )


def decision_owed(request: CustomizationRequest) -> None:
    """C3: product's decision (and reason) goes to the approval ticket as a comment, and
    moves it to the status the settings name for that decision (none: a comment only)."""
    assert request.decided_at is not None
    status = request.customization_status
    because = f"\n\nReason: {request.decision_reason}" if request.decision_reason else ""
    who = f" by {request.decided_by.name}" if request.decided_by is not None else ""
    text = f"Product's decision{who}: {status.label}.{because}"
    event = f"decision-{_stamp(request.decided_at)}"
    queue.enqueue_after_commit(
        db.session, COMMENT_JOB, request.id, text, job_id=job_id(request.id, f"{event}-comment")
    )
    target = (current_app.config.get(DECISION_STATUS_SETTINGS[status.value]) or "").strip()
    if target:
        queue.enqueue_after_commit(
            db.session, MOVE_JOB, request.id, target, job_id=job_id(request.id, f"{event}-move")
        )


def hold_answer_owed(request: CustomizationRequest) -> None:
    """C3: the ACM's answer to product's hold goes to the approval ticket as a comment."""
    assert request.hold_answered_at is not None
    who = f" ({request.client.acm.name})" if request.client.acm is not None else ""
    text = f"The account manager's answer{who}:\n\n{request.hold_answer}"
    queue.enqueue_after_commit(
        db.session,
        COMMENT_JOB,
        request.id,
        text,
        job_id=job_id(request.id, f"hold-answer-{_stamp(request.hold_answered_at)}-comment"),
    )


@events.invoice_paid.connect
def _when_invoice_paid(invoice: Invoice, *, actor: Any, at: datetime, **_: Any) -> None:
    """C6: the requests waiting for this invoice are paid: on to delivery, and their
    customization ticket opens after the commit."""
    waiting = db.session.scalars(
        select(CustomizationRequest).where(
            CustomizationRequest.invoice_id == invoice.id,
            CustomizationRequest.stage == CustomizationStage.PAYMENT.value,
        )
    )
    for request in waiting:
        request.paid_at = at
        request.stage = CustomizationStage.DELIVERY.value
        timeline.record(
            request.client,
            TimelineKind.CUSTOMIZATION_PAID,
            actor=actor,
            summary=(
                f"Customization {request.reference} paid (invoice {invoice.label}): "
                "its customization ticket opens (C6)"
            ),
            detail={"request_id": request.id, "invoice_id": invoice.id},
            at=at,
        )
        queue.enqueue_after_commit(
            db.session,
            OPEN_CUSTOMIZATION_JOB,
            request.id,
            job_id=job_id(request.id, "customization-ticket"),
        )


# --- The jobs' work (each committed by its job) -------------------------------------------------


def closure_owed(request: CustomizationRequest) -> None:
    """C7: the client's acceptance and the closure go to the customization ticket as a
    comment, and move it to TICKETS_CLOSED_STATUS (empty: a comment only)."""
    assert request.closed_at is not None
    how = (
        f"by {request.accepted_name} through the emailed link"
        if request.accepted_via == "link"
        else "as the account manager recorded it"
    )
    accepted = f" on {request.accepted_at:%d %b %Y}" if request.accepted_at else ""
    text = f"Accepted by the client{accepted}, {how}; closed on {request.closed_at:%d %b %Y}."
    event = f"closed-{_stamp(request.closed_at)}"
    queue.enqueue_after_commit(
        db.session,
        COMMENT_JOB,
        request.id,
        text,
        CUSTOMIZATION,
        job_id=job_id(request.id, f"{event}-comment"),
    )
    target = (current_app.config.get("TICKETS_CLOSED_STATUS") or "").strip()
    if target:
        queue.enqueue_after_commit(
            db.session,
            MOVE_JOB,
            request.id,
            target,
            CUSTOMIZATION,
            job_id=job_id(request.id, f"{event}-move"),
        )


def open_approval_ticket(request_id: int, *, adapter: TicketAdapter | None = None) -> str:
    """C2: open the request's approval ticket in the approval project and keep its key.
    Returns what happened ("opened", or why nothing was). Raises TicketError (the job is
    retried), with nothing stored; a failed search for its label opens nothing."""
    request = db.session.get(CustomizationRequest, request_id, with_for_update=True)
    if request is None:
        return "gone"
    if request.approval_ticket_key:
        return "already open"
    client = request.client
    asked_by = request.opened_by
    description = "\n\n".join(
        [
            f"The end result:\n{request.end_result}",
            f"Who will use it:\n{request.users}",
            f"How the client will know it is done:\n{request.done_when}",
            f"Wanted by: {request.wanted_by:%d %b %Y}",
            f"Client: {client.store_name} ({client.store_code})"
            + (f"\nAsked by: {asked_by.name} ({asked_by.email})" if asked_by else ""),
            f"In the portal: {portal_url('customizations.show', request_id=request.id)}",
        ]
    )
    draft = TicketDraft(
        project=ticket_project(APPROVAL),
        summary=f"{client.store_name}: {request.title}"[:SUMMARY_MAX],
        description=description,
    )
    ref = open_once(adapter or ticket_adapter(), draft, ticket_label(request.id, APPROVAL))
    was = request.reference
    request.approval_ticket_key = ref.key
    request.approval_ticket_url = ref.url
    request.approval_ticket_status = NEW_STATUS
    _opened(request, APPROVAL, ref.key, ref.url, note=f" for {was}: product decides there (C2)")
    return "opened"


def open_customization_ticket(request_id: int, *, adapter: TicketAdapter | None = None) -> str:
    """C6: open the paid request's customization ticket in the customization project,
    naming the invoice (number, total, its place in the portal) and the approval ticket;
    the two are linked by a job of its own. Returns what happened. Raises TicketError
    (the job is retried), with nothing stored."""
    request = db.session.get(CustomizationRequest, request_id, with_for_update=True)
    if request is None:
        return "gone"
    if request.customization_ticket_key:
        return "already open"
    if request.paid_at is None:
        return "not paid"
    client = request.client
    invoice = db.session.get(Invoice, request.invoice_id) if request.invoice_id else None
    lines = [
        f"{request.title}: paid, to deliver for {client.store_name} ({client.store_code}).",
        f"The end result:\n{request.end_result}",
    ]
    if invoice is not None:
        where = portal_url("clients.show", client_id=client.id, tab="renewals")
        where += f"#invoice-{invoice.id}"
        paid = invoice.paid_at or request.paid_at
        lines.append(
            f"Invoice {invoice.label}: {invoice.money}, paid {paid:%d %b %Y}"
            f"\nAttached: {invoice_filename(invoice)}\nIn the portal: {where}"
        )
    approval = request.approval_ticket_key or request.reference
    approval_url = request.approval_ticket_url or portal_url(
        "customizations.show", request_id=request.id
    )
    lines.append(f"Approval ticket: {approval} ({approval_url})")
    lines.append(f"In the portal: {portal_url('customizations.show', request_id=request.id)}")
    draft = TicketDraft(
        project=ticket_project(CUSTOMIZATION),
        summary=f"{client.store_name}: {request.title}"[:SUMMARY_MAX],
        description="\n\n".join(lines),
    )
    ref = open_once(adapter or ticket_adapter(), draft, ticket_label(request.id, CUSTOMIZATION))
    request.customization_ticket_key = ref.key
    request.customization_ticket_url = ref.url
    request.customization_ticket_status = NEW_STATUS
    _opened(request, CUSTOMIZATION, ref.key, ref.url, note=f", linked to {approval} (C6)")
    if request.approval_ticket_key:
        queue.enqueue_after_commit(
            db.session, LINK_JOB, request.id, job_id=job_id(request.id, "link-tickets")
        )
    if invoice is not None and invoice.number:
        queue.enqueue_after_commit(
            db.session, ATTACH_INVOICE_JOB, request.id, job_id=job_id(request.id, "invoice-pdf")
        )
    return "opened"


def link_tickets(request_id: int, *, adapter: TicketAdapter | None = None) -> str:
    """C6: link the customization ticket to the approval ticket it comes from."""
    request = db.session.get(CustomizationRequest, request_id)
    if request is None or not request.customization_ticket_key or not request.approval_ticket_key:
        return "nothing to link"
    (adapter or ticket_adapter()).link(
        request.customization_ticket_key, request.approval_ticket_key
    )
    return "linked"


def attach_invoice(request_id: int, *, adapter: TicketAdapter | None = None) -> str:
    """C6: attach the paid invoice's PDF ("invoice-<number>.pdf") to the customization
    ticket, once: the adapter looks for the file before sending it, so a retry after a
    lost answer attaches nothing twice. Returns what happened. Raises TicketError (the job
    is retried), with nothing stored."""
    request = db.session.get(CustomizationRequest, request_id, with_for_update=True)
    if request is None:
        return "gone"
    if request.invoice_attached_at is not None:
        return "already attached"
    invoice = db.session.get(Invoice, request.invoice_id) if request.invoice_id else None
    if invoice is None or not invoice.number:
        return "no invoice"
    key = request.customization_ticket_key
    if not key:
        raise TicketError(f"{request.reference} has no customization ticket yet: trying again.")
    filename = invoice_filename(invoice)
    (adapter or ticket_adapter()).attach(key, filename, PDF_TYPE, invoice_pdf(invoice))
    request.invoice_attached_at = clock.now()
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_INVOICE_ATTACHED,
        actor=None,
        summary=f"Invoice {invoice.label} attached to the customization ticket {key} (C6)",
        detail={"request_id": request.id, "invoice_id": invoice.id, "ticket_key": key},
    )
    db.session.flush()
    return "attached"


def comment_on_approval_ticket(
    request_id: int, text: str, *, which: str = APPROVAL, adapter: TicketAdapter | None = None
) -> str:
    """C3, C7: add `text` to the request's approval ticket (or its customization ticket:
    `which`). Raises TicketError while the ticket is not open yet (its own job is being
    retried) or the ticket system fails: retried."""
    key = _ticket_key(request_id, which)
    if key is None:
        return "gone"
    (adapter or ticket_adapter()).comment(key, text)
    return "commented"


def move_approval_ticket(
    request_id: int, status: str, *, which: str = APPROVAL, adapter: TicketAdapter | None = None
) -> str:
    """C3, C7: move the approval ticket (or the customization ticket: `which`) to
    `status`. Raises TicketError as the comment does, and when the workflow has no way
    there (the message names the ways it has)."""
    key = _ticket_key(request_id, which)
    if key is None:
        return "gone"
    (adapter or ticket_adapter()).transition(key, status)
    return "moved"


def _ticket_key(request_id: int, which: str) -> str | None:
    request = db.session.get(CustomizationRequest, request_id)
    if request is None:
        return None
    key = request.approval_ticket_key if which == APPROVAL else request.customization_ticket_key
    if not key:
        raise TicketError(
            f"{request.reference} has no {TICKET_NAMES[which].lower()} yet: trying again later."
        )
    return key


def _opened(
    request: CustomizationRequest, which: str, key: str, url: str | None, *, note: str
) -> None:
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_TICKET_OPENED,
        actor=None,
        summary=f"{TICKET_NAMES[which]} {key} opened{note}",
        detail={"request_id": request.id, "ticket": which, "ticket_key": key, "url": url},
    )
    db.session.flush()


def record_failure(request_id: int, what: str, error: TicketError, *, last: bool) -> None:
    """A job's call to the ticket system failed: on the client's timeline, saying whether
    it is tried again. The caller (the job, its own work rolled back) commits."""
    request = db.session.get(CustomizationRequest, request_id)
    if request is None:
        return
    then = (
        "it will not be tried again: ask an administrator to check the ticket system"
        if last
        else "it is tried again shortly"
    )
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_TICKET_FAILED,
        actor=None,
        summary=f"Customization {request.reference}: could not {what}: {error.message} ({then})",
        detail={"request_id": request.id, "what": what, "last": last},
    )


# --- The sync (C2, C6) ---------------------------------------------------------------------------


def tickets_to_sync() -> list[tuple[int, str]]:
    """(request id, "approval" or "customization") of the tickets whose status is synced:
    a request's approval ticket until its customization ticket opens, then that one, until
    the request is closed."""
    rows = db.session.execute(
        select(
            CustomizationRequest.id,
            CustomizationRequest.approval_ticket_key,
            CustomizationRequest.customization_ticket_key,
        )
        .where(
            or_(
                CustomizationRequest.approval_ticket_key.is_not(None),
                CustomizationRequest.customization_ticket_key.is_not(None),
            ),
            CustomizationRequest.stage.not_in(_SETTLED),
        )
        .order_by(CustomizationRequest.id)
    )
    return [(id_, CUSTOMIZATION if custom else APPROVAL) for id_, _, custom in rows]


def sync_ticket(
    request_id: int, which: str, *, now: datetime, adapter: TicketAdapter | None = None
) -> bool:
    """Read ticket `which`'s status in the ticket system; a change goes on the client's
    timeline. Returns True when it changed. Raises TicketError (nothing changed)."""
    request = db.session.get(CustomizationRequest, request_id)
    if request is None:
        return False
    key = getattr(request, f"{which}_ticket_key")
    if not key:
        return False
    status = (adapter or ticket_adapter()).status(key)
    request.tickets_synced_at = now
    was = getattr(request, f"{which}_ticket_status")
    if status.name == was:
        return False
    setattr(request, f"{which}_ticket_status", status.name)
    timeline.record(
        request.client,
        TimelineKind.CUSTOMIZATION_TICKET_STATUS,
        actor=None,
        summary=f"{TICKET_NAMES[which]} {key}: {was or NEW_STATUS} → {status.name}",
        detail={"request_id": request.id, "ticket_key": key, "from": was, "to": status.name},
        at=now,
    )
    return True


def portal_url(endpoint: str, **values: Any) -> str:
    """The portal's address of a page for a ticket's reader: under PUBLIC_URL when set,
    else its path (a job has no request to take a host from)."""
    if current_app.config.get("PUBLIC_URL"):
        return kyc.public_url(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)

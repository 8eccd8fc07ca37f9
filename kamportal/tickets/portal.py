"""The portal's own tickets (TICKETS_ADAPTER=portal, the default): for a team without Jira,
the portal is the tickets' record, numbered per project (SAL-1, CUST-1, SUP-1)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import String, cast, func, select

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import Ticket, TicketAttachment
from kamportal.tickets import (
    NEW_STATUS,
    TicketDraft,
    TicketError,
    TicketRef,
    TicketStatus,
    check_attachment,
    check_draft,
    split_key,
)

# The statuses of a portal ticket, as Jira's default workflow names them; the last is done.
STATUSES = (NEW_STATUS, "In Progress", "Done")
DONE = "Done"


class PortalTickets:
    """Tickets in the portal's `tickets` table, in the caller's transaction: what the
    caller commits or rolls back, the ticket goes with."""

    name = "portal"

    def create_issue(self, draft: TicketDraft) -> TicketRef:
        """The next ticket of `draft.project`, To Do. Raises TicketError for a draft without
        a summary, with an unknown priority or a label with a space."""
        draft = check_draft(draft)
        last = db.session.scalar(
            select(func.max(Ticket.number)).where(Ticket.project == draft.project)
        )
        now = clock.now()
        ticket = Ticket(
            project=draft.project,
            number=(last or 0) + 1,
            summary=draft.summary,
            description=draft.description,
            labels=list(draft.labels),
            priority=draft.priority,
            status=STATUSES[0],
            comments=[],
            created_at=now,
            updated_at=now,
        )
        db.session.add(ticket)
        db.session.flush()
        return TicketRef(key=ticket.key, url=None)

    def find_by_label(self, label: str) -> TicketRef | None:
        """The first ticket carrying `label`. `labels` is a JSON list: its text holds the
        label quoted, which narrows the search in the database; the list says for sure."""
        quoted = json.dumps(label)
        candidates = db.session.scalars(
            select(Ticket)
            .where(cast(Ticket.labels, String).contains(quoted, autoescape=True))
            .order_by(Ticket.id)
        )
        ticket = next((t for t in candidates if label in t.labels), None)
        return TicketRef(key=ticket.key, url=None) if ticket is not None else None

    def comment(self, key: str, text: str) -> None:
        if not (text or "").strip():
            raise TicketError("A comment needs some text.")
        ticket = self._ticket(key)
        now = clock.now()
        ticket.comments = [*ticket.comments, {"at": now.isoformat(), "text": text.strip()}]
        ticket.updated_at = now

    def transition(self, key: str, status: str) -> None:
        """Move ticket `key` to `status` (one of STATUSES, any case); a portal ticket may
        move between any of them."""
        ticket = self._ticket(key)
        wanted = next((s for s in STATUSES if s.casefold() == (status or "").casefold()), None)
        if wanted is None:
            raise TicketError(f"A ticket cannot move to {status!r}: choose {', '.join(STATUSES)}.")
        ticket.status = wanted
        ticket.updated_at = clock.now()

    def link(self, key: str, related_key: str) -> None:
        """A portal ticket has no links of its own: each names the other in a comment,
        once."""
        ticket, related = self._ticket(key), self._ticket(related_key)
        for one, other in ((ticket, related), (related, ticket)):
            text = f"Relates to {other.key}"
            if all(c.get("text") != text for c in one.comments):
                self.comment(one.key, text)

    def attach(self, key: str, filename: str, content_type: str, data: bytes) -> bool:
        """Keep the file with ticket `key`, its bytes under ATTACHMENTS_DIR with a generated
        name (never one a caller chose); a file of that name on the ticket stays as it is.
        Bytes written for a transaction that then rolls back stay unreferenced, never
        served."""
        name = check_attachment(filename, content_type, data)
        ticket = self._ticket(key)
        if any(a.filename == name for a in ticket.attachments):
            return False
        folder = Path(current_app.config["ATTACHMENTS_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        stored_name = secrets.token_hex(16)
        (folder / stored_name).write_bytes(data)
        now = clock.now()
        ticket.attachments.append(
            TicketAttachment(
                filename=name,
                stored_name=stored_name,
                content_type=content_type,
                size=len(data),
                attached_at=now,
            )
        )
        ticket.updated_at = now
        db.session.flush()
        return True

    def status(self, key: str) -> TicketStatus:
        ticket = self._ticket(key)
        return TicketStatus(name=ticket.status, done=ticket.status == DONE)

    def _ticket(self, key: str) -> Ticket:
        project, number = split_key(key)
        ticket = db.session.scalar(
            select(Ticket).where(Ticket.project == project, Ticket.number == number)
        )
        if ticket is None:
            raise TicketError(f"There is no ticket {key} in the portal.")
        return ticket

"""Tickets (C2, C6, G4): the portal's own tickets (TICKETS_ADAPTER=portal), and a client's
technical problems escalated to the support team, wherever their ticket lives (G4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.types import UTCDateTime


class Ticket(Base):
    """A ticket kept by the portal itself, numbered per project: SAL-1, CUST-1, SUP-1.
    `comments` is a list of {"at": ISO instant, "text": ...}, oldest first."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("project", "number", name="uq_tickets_project_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str] = mapped_column(String(10))
    number: Mapped[int]
    summary: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(40))
    comments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketAttachment.id"
    )

    @property
    def key(self) -> str:
        return f"{self.project}-{self.number}"

    def __repr__(self) -> str:
        return f"<Ticket {self.key}>"


class TicketAttachment(Base):
    """A file attached to one of the portal's own tickets (C6: the paid invoice), kept
    outside the web root under a generated name (ATTACHMENTS_DIR); `filename` is its name
    on the ticket, once per ticket, as a retried attachment adds nothing."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (
        UniqueConstraint("ticket_id", "filename", name="uq_ticket_attachments_ticket_filename"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")


class SupportTicket(Base):
    """G4: a client's technical problem the ACM escalated to the support team, in the
    ticket system (Jira, with the Enterprise label). `status` is the ticket system's, as
    last synced; `closed_at` is set once it reached a done status. `sla_due_at` is when the
    team's SLA for its priority runs out; `sla_flagged_at` when the portal first saw it
    open past that."""

    __tablename__ = "support_tickets"
    __table_args__ = (Index("ix_support_tickets_open_due", "closed_at", "sla_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    ticket_key: Mapped[str] = mapped_column(String(40), unique=True)
    url: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(String(255))
    priority: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    opened_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def past_sla(self, now: datetime) -> bool:
        """Still open at or after its SLA ran out."""
        return self.closed_at is None and now >= self.sla_due_at

    def __repr__(self) -> str:
        return f"<SupportTicket {self.ticket_key}>"

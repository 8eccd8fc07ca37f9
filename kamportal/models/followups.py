"""The no-reply ladder after an unanswered call (F2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.base import Base
from kamportal.models.clients import Client, Contact
from kamportal.models.messaging import OutboxMessage
from kamportal.models.timeline import TimelineEvent
from kamportal.models.types import UTCDateTime


class NoReplyLadder(Base):
    """F2: call not answered → follow-up email → (no reply for the team's business hours)
    WhatsApp asking the client to check the email. A reply logged on any channel stops it.
    """

    __tablename__ = "no_reply_ladders"
    __table_args__ = (Index("ix_no_reply_ladders_open_due", "stopped_at", "whatsapp_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    # The unanswered call that started it.
    call_event_id: Mapped[int] = mapped_column(
        ForeignKey("timeline_events.id", ondelete="CASCADE"), unique=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    whatsapp_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    whatsapp_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(200))

    client: Mapped[Client] = relationship()
    contact: Mapped[Contact | None] = relationship()
    call_event: Mapped[TimelineEvent] = relationship()
    email_message: Mapped[OutboxMessage | None] = relationship(foreign_keys=[email_message_id])
    whatsapp_message: Mapped[OutboxMessage | None] = relationship(
        foreign_keys=[whatsapp_message_id]
    )

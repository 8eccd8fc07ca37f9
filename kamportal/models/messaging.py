"""The outbox: every email and WhatsApp message, written with the change that causes it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kamportal.models.base import Base
from kamportal.models.types import UTCDateTime


class Channel(enum.StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # written, waiting for the delivery job
    SENDING = "sending"  # claimed by a delivery job; never sent again automatically
    SENT = "sent"
    FAILED = "failed"  # retries exhausted; visible to the ACM, can be retried by hand

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sender: Mapped[str | None] = mapped_column(String(254))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    to_addrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc_addrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    # Files sent with an email, kept with the row so a retry sends the same bytes:
    # [{"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST",
    #   "content": "<text>"}]
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # WhatsApp providers accept approved templates: a template name and its parameters.
    # An email a sweep queued by the thousand names here what composes it and with what
    # (messaging/outbox.py, `queue_emails_composed_later`); it has no subject until its
    # delivery composes it.
    template: Mapped[str | None] = mapped_column(String(80))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def delivery_status(self) -> DeliveryStatus:
        return DeliveryStatus(self.status)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} {self.status}>"

"""Customization requests (C1-C3): the scope of work, its attachments, and the approval
ticket product decides within 48 hours."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.types import UTCDateTime


class CustomizationStatus(enum.StrEnum):
    """Where the approval ticket stands (C2, C3)."""

    AWAITING_DECISION = "awaiting_decision"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"

    @property
    def label(self) -> str:
        return {
            "awaiting_decision": "Awaiting product's decision",
            "accepted": "Accepted",
            "rejected": "Rejected",
            "on_hold": "On hold: product asks for more",
        }[self.value]


class CustomizationRequest(Base):
    """C1: what the client asks for, as a scope of work (the end result in detail, who will
    use it, how the client will know it is done), and its approval ticket (C2): the
    portal's own record, named "SAL-<id>", that product decides by `decision_due_at`.

    `breach_flagged_at` is set once when the decision deadline passes undecided; an answer
    to a hold starts a new clock, and with it a new breach may be flagged.
    """

    __tablename__ = "customization_requests"
    __table_args__ = (
        Index("ix_customization_requests_status_opened", "status", "opened_at"),
        Index("ix_customization_requests_status_due", "status", "decision_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    end_result: Mapped[str] = mapped_column(Text)
    users: Mapped[str] = mapped_column(Text)
    done_when: Mapped[str] = mapped_column(Text)
    wanted_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(
        String(30), default=CustomizationStatus.AWAITING_DECISION.value
    )
    # When the current clock started (the request, or the ACM's answer to a hold).
    clock_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decision_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breach_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    hold_answer: Mapped[str | None] = mapped_column(Text)
    hold_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    attachments: Mapped[list[CustomizationAttachment]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="CustomizationAttachment.id",
    )

    @property
    def reference(self) -> str:
        """The approval ticket's name, as the sales proposal board (SAL) calls it."""
        return f"SAL-{self.id}"

    @property
    def customization_status(self) -> CustomizationStatus:
        return CustomizationStatus(self.status)

    @property
    def is_awaiting_decision(self) -> bool:
        return self.status == CustomizationStatus.AWAITING_DECISION.value

    def __repr__(self) -> str:
        return f"<CustomizationRequest {self.id} {self.status}>"


class CustomizationAttachment(Base):
    """A file given with a request (C1), stored outside the web root under a generated
    name; `filename` is what the ACM's file was called, shown and offered on download."""

    __tablename__ = "customization_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("customization_requests.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    request: Mapped[CustomizationRequest] = relationship(back_populates="attachments")

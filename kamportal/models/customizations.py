"""Customization requests (C1-C7): the scope of work, its attachments, the approval ticket
product decides within 48 hours, the quotation (period and price), the concept document the
client approves, the invoice, the delivery by milestones, the client's acceptance, closure
and the satisfaction survey."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


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


class CustomizationStage(enum.StrEnum):
    """Where a request stands in the whole process (C2-C7), one stage after the other; a
    rejected request stops at REJECTED."""

    DECISION = "decision"  # C2, C3: awaiting product, or on hold (see `status`)
    REJECTED = "rejected"  # C3: the reason goes to the client
    PRICING = "pricing"  # C4: product's period and commercial's price owed
    CONCEPT = "concept"  # C5: the concept document written, sent, approved
    INVOICING = "invoicing"  # C6: the invoice owed
    PAYMENT = "payment"  # C6: invoiced, waiting for the payment
    DELIVERY = "delivery"  # C7: paid, the customization ticket open, milestones under way
    CLOSING = "closing"  # C7: the client accepted; closure owed
    CLOSED = "closed"  # C7: closed; the satisfaction survey goes out

    @property
    def label(self) -> str:
        return {
            "decision": "Awaiting a decision",
            "rejected": "Rejected",
            "pricing": "Being priced",
            "concept": "Concept document",
            "invoicing": "To invoice",
            "payment": "Awaiting payment",
            "delivery": "In delivery",
            "closing": "Accepted: to close",
            "closed": "Closed",
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
        Index("ix_customization_requests_stage", "stage", "opened_at"),
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
    stage: Mapped[str] = mapped_column(String(20), default=CustomizationStage.DECISION.value)
    # C3: when the rejection's reason was emailed to the client.
    rejection_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # C4: product's estimated period, commercial's price; both set, the quotation is ready.
    estimated_days: Mapped[int | None] = mapped_column(Integer)
    estimated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    estimated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    price: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    priced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # C2, C6: the approval ticket and the customization ticket in the ticket system (the
    # portal's own, or Jira), with their status as last synced.
    approval_ticket_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    approval_ticket_url: Mapped[str | None] = mapped_column(String(500))
    approval_ticket_status: Mapped[str | None] = mapped_column(String(40))
    customization_ticket_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    customization_ticket_url: Mapped[str | None] = mapped_column(String(500))
    customization_ticket_status: Mapped[str | None] = mapped_column(String(40))
    tickets_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # C6: the invoice (alone, or with the renewal: R8) and when it was paid.
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL"), index=True
    )
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # C6: when the invoice's PDF reached the customization ticket.
    invoice_attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # C7: the client's acceptance, by link ("link": the typed name and the address it came
    # from) or recorded by the ACM ("acm", with the evidence in `acceptance_note` and an
    # attachment of purpose "acceptance_evidence").
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_via: Mapped[str | None] = mapped_column(String(10))
    accepted_name: Mapped[str | None] = mapped_column(String(200))
    accepted_address: Mapped[str | None] = mapped_column(String(64))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acceptance_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # C7: the satisfaction survey, answered by the client through its link.
    survey_score: Mapped[int | None] = mapped_column(Integer)
    survey_comment: Mapped[str | None] = mapped_column(Text)
    survey_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    attachments: Mapped[list[CustomizationAttachment]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="CustomizationAttachment.id",
    )
    estimated_by: Mapped[User | None] = relationship(foreign_keys=[estimated_by_id])
    priced_by: Mapped[User | None] = relationship(foreign_keys=[priced_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    concept: Mapped[ConceptDocument | None] = relationship(
        back_populates="request", cascade="all, delete-orphan", uselist=False
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="Milestone.position",
    )

    @property
    def reference(self) -> str:
        """The approval ticket's key in the ticket system (the sales proposal board, SAL);
        until it is opened there, the portal's own name for it."""
        return self.approval_ticket_key or f"SAL-{self.id}"

    @property
    def customization_stage(self) -> CustomizationStage:
        return CustomizationStage(self.stage)

    @property
    def price_money(self) -> Money | None:
        if self.price is None or self.price_currency is None:
            return None
        return Money(self.price, self.price_currency)

    @property
    def quotation_ready(self) -> bool:
        """C4: product's period and commercial's price are both set."""
        return self.estimated_days is not None and self.price is not None

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
    # What the file is: "request" (C1), "signed_concept" (C5), "acceptance_evidence" (C7).
    purpose: Mapped[str] = mapped_column(String(30), default="request")

    request: Mapped[CustomizationRequest] = relationship(back_populates="attachments")


class ConceptDocument(Base):
    """C5: the concept document of an accepted request: scope of work, activities, the
    milestones (basic functions and extras, on the request) and the exit criteria. The
    client approves it by link, typing their name (recorded with the time and the address
    it came from), or the ACM uploads the copy the client signed."""

    __tablename__ = "concept_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("customization_requests.id", ondelete="CASCADE"), unique=True
    )
    scope: Mapped[str] = mapped_column(Text)
    activities: Mapped[str] = mapped_column(Text)
    exit_criteria: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_via: Mapped[str | None] = mapped_column(String(20))  # "link" | "signed_copy"
    approved_name: Mapped[str | None] = mapped_column(String(200))
    approved_address: Mapped[str | None] = mapped_column(String(64))
    signed_copy_id: Mapped[int | None] = mapped_column(
        ForeignKey("customization_attachments.id", ondelete="SET NULL")
    )

    request: Mapped[CustomizationRequest] = relationship(back_populates="concept")
    written_by: Mapped[User | None] = relationship()
    signed_copy: Mapped[CustomizationAttachment | None] = relationship()

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None


class MilestoneStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @property
    def label(self) -> str:
        return {"planned": "Planned", "in_progress": "In progress", "done": "Done"}[self.value]


class Milestone(Base):
    """C5, C7: a milestone of the concept document ("basic" function or "extra"
    requirement), then tracked in delivery: its due date, owner and status. Late: not done
    after its due date (on the ACM's day)."""

    __tablename__ = "customization_milestones"
    __table_args__ = (Index("ix_customization_milestones_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("customization_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="basic")  # "basic" | "extra"
    due_on: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=MilestoneStatus.PLANNED.value)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[CustomizationRequest] = relationship(back_populates="milestones")
    owner: Mapped[User | None] = relationship()

    @property
    def milestone_status(self) -> MilestoneStatus:
        return MilestoneStatus(self.status)


class ClientLink(Base):
    """A link a client opens without a login to act on a request: approve the concept
    document (C5), accept the delivery or answer the survey (C7). The link carries a token
    signed with the app's secret naming this row and its nonce; it works until it expires,
    is revoked or replaced (a new nonce), or is used (services/client_links.py)."""

    __tablename__ = "customization_links"
    __table_args__ = (
        UniqueConstraint("request_id", "purpose", name="uq_customization_links_request_purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("customization_requests.id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(String(20))  # "concept" | "acceptance" | "survey"
    nonce: Mapped[str] = mapped_column(String(64))
    sent_to: Mapped[str] = mapped_column(String(320))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[CustomizationRequest] = relationship()

"""Escalations and their ladder (E1, E2, E3), and the complaint-handling queue (E3)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.messaging import OutboxMessage
from kamportal.models.timeline import TimelineEvent
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class EscalationTrigger(enum.StrEnum):
    """What the client did that makes it an escalation (E1)."""

    ASKED_FOR_MANAGER = "asked_for_manager"
    ASKED_TO_CHANGE_ACM = "asked_to_change_acm"
    REFUSES_ACM = "refuses_acm"

    @property
    def label(self) -> str:
        return {
            "asked_for_manager": "Asked for the ACM's manager",
            "asked_to_change_acm": "Asked to change the ACM",
            "refuses_acm": "Refuses to deal with the ACM",
        }[self.value]


class ContactChannel(enum.StrEnum):
    """Through which channel the client said it."""

    CALL = "call"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    MEETING = "meeting"
    OTHER = "other"

    @property
    def label(self) -> str:
        return "WhatsApp" if self is ContactChannel.WHATSAPP else self.value.capitalize()


class EscalationStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class LadderStep(enum.StrEnum):
    """The steps of the ladder, in order (E2): the ACM calls → email → WhatsApp → leader."""

    CALL = "call"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    LEADER = "leader"

    @property
    def label(self) -> str:
        return {
            "call": "Call the client",
            "email": "Email: we tried to call you",
            "whatsapp": "WhatsApp: please reply to our email",
            "leader": "With the team leader",
        }[self.value]

    @property
    def following(self) -> LadderStep | None:
        order = list(LadderStep)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


class StepKind(enum.StrEnum):
    """What one line of an escalation's history records: a ladder step or an event."""

    RAISED = "raised"
    CALL = "call"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    LEADER = "leader"
    NOTE = "note"  # the client said it again (a second raise), or the ACM's note
    PAUSED = "paused"
    RESUMED = "resumed"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return "WhatsApp" if self is StepKind.WHATSAPP else self.value.capitalize()


class ResolutionKind(enum.StrEnum):
    """How an escalation ended (E3)."""

    RESOLVED = "resolved"
    REASSIGNED = "reassigned"
    TAKEN_OVER = "taken_over"

    @property
    def label(self) -> str:
        return {
            "resolved": "Resolved",
            "reassigned": "Reassigned to another ACM",
            "taken_over": "Taken over by the leader",
        }[self.value]


class Escalation(Base):
    """E1: the client asked for the ACM's manager, to change the ACM, or refuses the ACM.

    `current_step` is the ladder step reached; `step_due_at` is when the next step comes
    due (None at the call step, which waits for the ACM, and with the leader, the top).
    """

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_status_due", "status", "step_due_at"),
        Index("ix_escalations_status_leader", "status", "waiting_for_leader", "raised_at"),
        # One open escalation per client (E1); a second raise adds to the first.
        Index(
            "uq_escalations_open_client",
            "client_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(30))
    said: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=EscalationStatus.OPEN.value)
    current_step: Mapped[str] = mapped_column(String(20), default=LadderStep.CALL.value)
    step_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_for_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    # A client reply pauses the ladder for the ACM to act (E2).
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_note: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    steps: Mapped[list[EscalationStep]] = relationship(
        back_populates="escalation",
        cascade="all, delete-orphan",
        order_by="(EscalationStep.at, EscalationStep.id)",
    )

    @property
    def is_open(self) -> bool:
        return self.status == EscalationStatus.OPEN.value

    @property
    def step(self) -> LadderStep:
        return LadderStep(self.current_step)

    @property
    def escalation_trigger(self) -> EscalationTrigger:
        return EscalationTrigger(self.trigger)

    @property
    def contact_channel(self) -> ContactChannel:
        return ContactChannel(self.channel)

    @property
    def resolution_kind(self) -> ResolutionKind | None:
        return ResolutionKind(self.resolution) if self.resolution else None

    def __repr__(self) -> str:
        return f"<Escalation {self.id} {self.status} {self.current_step}>"


class EscalationStep(Base):
    """One line of an escalation's history, with its proof (E2): the call's timeline event,
    the outbox message (its delivery status and provider id live there), who and when."""

    __tablename__ = "escalation_steps"
    __table_args__ = (Index("ix_escalation_steps_escalation_at", "escalation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None: the portal did it (a scheduled step).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    call_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_events.id", ondelete="SET NULL")
    )
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)

    escalation: Mapped[Escalation] = relationship(back_populates="steps")
    actor: Mapped[User | None] = relationship()
    call_event: Mapped[TimelineEvent | None] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()

    @property
    def kind(self) -> StepKind:
        return StepKind(self.step)


class ComplaintKind(enum.StrEnum):
    COMPLAINT = "complaint"
    CANCELLATION = "cancellation"
    REFUND = "refund"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    # A cancellation the client confirmed after complaint handling: the client churns.
    CONFIRMED = "confirmed"

    @property
    def label(self) -> str:
        if self is ComplaintStatus.CONFIRMED:
            return "Cancellation confirmed"
        return self.value.replace("_", " ").capitalize()


class RefundStatus(enum.StrEnum):
    """A refund request in finance's queue, until finance decides."""

    REQUESTED = "requested"
    REFUNDED = "refunded"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Complaint(Base):
    """E3: a complaint, cancellation or refund request, for the complaint-handling queue
    (never run through the escalation ladder)."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_status_raised", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    said: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=ComplaintStatus.OPEN.value)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    # A refund request: the amount asked, in the client's currency, and finance's decision.
    refund_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    refund_currency: Mapped[str | None] = mapped_column(String(3))
    refund_status: Mapped[str | None] = mapped_column(String(20), index=True)
    refund_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    refund_note: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    refund_decided_by: Mapped[User | None] = relationship(foreign_keys=[refund_decided_by_id])

    @property
    def refund(self) -> Money | None:
        if self.refund_amount is None or self.refund_currency is None:
            return None
        return Money(self.refund_amount, self.refund_currency)

    @property
    def complaint_kind(self) -> ComplaintKind:
        return ComplaintKind(self.kind)

    @property
    def complaint_status(self) -> ComplaintStatus:
        return ComplaintStatus(self.status)

    @property
    def contact_channel(self) -> ContactChannel:
        return ContactChannel(self.channel)

    def __repr__(self) -> str:
        return f"<Complaint {self.id} {self.kind} {self.status}>"

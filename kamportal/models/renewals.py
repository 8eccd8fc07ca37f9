"""Renewals (R1, R2): one `Renewal` per term of a client's subscription that comes due.

A client's subscription is its renewal date, recurring amount and currency (on `Client`).
Each term that comes due opens one `Renewal` (R1), followed until paid or lost; its
`Invoice` (models/invoices.py) comes from the billing system (R3).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.invoices import Invoice
from kamportal.models.messaging import OutboxMessage
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class RenewalStage(enum.StrEnum):
    """Where a renewal stands (R1-R4): due → client notified → date and amount confirmed
    → invoiced → paid, or lost (with a reason)."""

    DUE = "due"
    NOTIFIED = "notified"
    CONFIRMED = "confirmed"
    INVOICED = "invoiced"
    PAID = "paid"
    LOST = "lost"

    @property
    def label(self) -> str:
        return {
            "due": "Due",
            "notified": "Client notified",
            "confirmed": "Date and amount confirmed",
            "invoiced": "Invoiced",
            "paid": "Paid",
            "lost": "Lost",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self not in (RenewalStage.PAID, RenewalStage.LOST)

    # What the ACM may do at each stage (R2, R3): the services refuse the rest, and the
    # client page offers only these.
    @property
    def may_notify(self) -> bool:
        return self in (RenewalStage.DUE, RenewalStage.NOTIFIED)

    @property
    def may_confirm(self) -> bool:
        return self in (RenewalStage.DUE, RenewalStage.NOTIFIED, RenewalStage.CONFIRMED)

    @property
    def may_invoice(self) -> bool:
        return self is RenewalStage.CONFIRMED


class Renewal(Base):
    """One term of a client's subscription coming due (R1): opened once per term, 30 days
    ahead, and followed until paid (R4) or lost."""

    __tablename__ = "renewals"
    __table_args__ = (
        # Once per term: the sweep may run any number of times.
        UniqueConstraint("client_id", "due_on", name="uq_renewals_client_term"),
        # The client too on PostgreSQL: the leader's view counts renewals under way per
        # client off the index alone.
        Index("ix_renewals_stage_due", "stage", "due_on", postgresql_include=["client_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    # The subscription's renewal date for this term.
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MoneyAmount)
    currency: Mapped[str] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(20), default=RenewalStage.DUE.value)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    # R2: the date and amount the client confirmed.
    agreed_on: Mapped[date | None] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_reason: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()
    notice_message: Mapped[OutboxMessage | None] = relationship()
    confirmed_by: Mapped[User | None] = relationship()
    invoice: Mapped[Invoice | None] = relationship(foreign_keys=[invoice_id])

    @property
    def renewal_stage(self) -> RenewalStage:
        return RenewalStage(self.stage)

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    def __repr__(self) -> str:
        return f"<Renewal {self.id} {self.due_on} {self.stage}>"

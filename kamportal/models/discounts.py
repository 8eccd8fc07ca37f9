"""Discounts (R9): a `Quotation` commercial approves before its discount may go on an
invoice, once."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class QuotationStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Quotation(Base):
    """R9: a discount on a renewal or on customization fees, approved by commercial before
    it may appear on an invoice; used once."""

    __tablename__ = "quotations"
    __table_args__ = (Index("ix_quotations_status_requested", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    discount: Mapped[Decimal] = mapped_column(MoneyAmount)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=QuotationStatus.REQUESTED.value)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    used_on_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL")
    )

    client: Mapped[Client] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def quotation_status(self) -> QuotationStatus:
        return QuotationStatus(self.status)

    @property
    def money(self) -> Money:
        return Money(self.discount, self.currency)

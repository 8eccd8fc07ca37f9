"""Quotations (C4) and their discounts (R9): a customization request's price and period,
and the discount commercial approves before it may go on an invoice, once.

A quotation without a request is a stand-alone discount asked before quotations carried
them (legacy): an amount, still usable once on an invoice when approved."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.customizations import CustomizationRequest
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class QuotationStatus(enum.StrEnum):
    """Where the quotation's discount stands (R9)."""

    NONE = "none"
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return "No discount" if self is QuotationStatus.NONE else self.value.capitalize()


class DiscountCovers(enum.StrEnum):
    """What a quotation's discount is taken from on the invoice (R8, R9)."""

    FEE = "fee"
    FEE_AND_RENEWAL = "fee_and_renewal"

    @property
    def label(self) -> str:
        return {
            "fee": "the customization fee",
            "fee_and_renewal": "the customization fee and the renewal invoiced with it",
        }[self.value]


class Quotation(Base):
    """C4: the quotation of a customization request (`request_id`): commercial's price and
    product's period; R9: its discount, by `discount_percent` (of the lines it covers) or
    by amount (`discount`), approved by commercial before it may appear on an invoice;
    used once. `status` is the discount's (NONE while none is asked)."""

    __tablename__ = "quotations"
    __table_args__ = (Index("ix_quotations_status_requested", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("customization_requests.id", ondelete="CASCADE"), unique=True
    )
    description: Mapped[str] = mapped_column(String(300))
    price: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    period_days: Mapped[int | None] = mapped_column(Integer)
    discount: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    discount_covers: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=QuotationStatus.REQUESTED.value)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    used_on_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL")
    )

    client: Mapped[Client] = relationship()
    request: Mapped[CustomizationRequest | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def quotation_status(self) -> QuotationStatus:
        return QuotationStatus(self.status)

    @property
    def covers(self) -> DiscountCovers:
        return DiscountCovers(self.discount_covers or DiscountCovers.FEE.value)

    @property
    def has_discount(self) -> bool:
        return self.discount is not None or self.discount_percent is not None

    @property
    def discount_text(self) -> str:
        """The discount as people say it: "30%" or "1,200.00 USD"."""
        if self.discount_percent is not None:
            return f"{self.discount_percent.normalize():f}%"
        return str(self.money) if self.discount is not None else "none"

    @property
    def price_money(self) -> Money | None:
        return Money(self.price, self.currency) if self.price is not None else None

    @property
    def money(self) -> Money:
        return Money(self.discount or Decimal(0), self.currency)

"""Invoices and the payments that settle them (R3-R8, R10).

An `Invoice` comes from the billing system (R3), with lines for the renewal,
customization fees and an approved discount (R8, R9); `Payment`s settle it (online, wire
transfer, at the premises: R6, R7); a `PaymentIssue` hands it to finance (R5); a plan of
installment invoices may replace it (R10). An invoice and its payments name each other
(`Invoice.payments`, `Payment.invoice`), so they are one module: the rules on them are
two (services/invoices.py, services/payments.py).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.discounts import Quotation
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class InvoiceStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    # Replaced by a plan of installment invoices (R10).
    SPLIT = "split"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "unpaid": "Unpaid",
            "paid": "Paid",
            "split": "Split into installments",
            "cancelled": "Cancelled",
        }[self.value]


class PaymentMethod(enum.StrEnum):
    """How the client pays (R5-R7, R10)."""

    ONLINE = "online"
    WIRE = "wire"
    PREMISES = "premises"
    INSTALLMENTS = "installments"

    @property
    def label(self) -> str:
        return {
            "online": "Online",
            "wire": "Wire transfer",
            "premises": "At the premises",
            "installments": "Installments",
        }[self.value]


class Invoice(Base):
    """An invoice from the billing system (R3): a number, lines, total, currency, due date
    and status. An installment invoice (R10) has the invoice it splits as its parent."""

    __tablename__ = "invoices"
    __table_args__ = (
        # The client too on PostgreSQL: the leader's view counts unpaid invoices per client
        # off the index (R4).
        Index("ix_invoices_status_due", "status", "due_on", postgresql_include=["client_id"]),
        Index("ix_invoices_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set by the billing adapter once the row exists (the portal numbers from its id).
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    installment_no: Mapped[int | None] = mapped_column(Integer)
    installment_count: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(MoneyAmount)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.UNPAID.value)
    # How the client said they will pay; online unless told otherwise.
    method: Mapped[str] = mapped_column(String(20), default=PaymentMethod.ONLINE.value)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    billing_system: Mapped[str] = mapped_column(String(20), default="portal")
    external_id: Mapped[str | None] = mapped_column(String(64))
    # R4: reminders sent while it stays unpaid.
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    issued_by: Mapped[User | None] = relationship()
    parent: Mapped[Invoice | None] = relationship(remote_side=[id], back_populates="installments")
    installments: Mapped[list[Invoice]] = relationship(
        back_populates="parent", order_by="Invoice.installment_no"
    )
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", order_by="Payment.reported_at"
    )

    @property
    def invoice_status(self) -> InvoiceStatus:
        return InvoiceStatus(self.status)

    @property
    def payment_method(self) -> PaymentMethod:
        return PaymentMethod(self.method)

    @property
    def money(self) -> Money:
        return Money(self.total, self.currency)

    @property
    def label(self) -> str:
        if self.installment_no:
            return f"{self.number} (installment {self.installment_no} of {self.installment_count})"
        return self.number or f"#{self.id}"

    def __repr__(self) -> str:
        return f"<Invoice {self.number or self.id} {self.status}>"


class LineKind(enum.StrEnum):
    RENEWAL = "renewal"
    CUSTOMIZATION = "customization"
    # R9: only from an approved quotation.
    DISCOUNT = "discount"
    INSTALLMENT = "installment"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(300))
    # Signed: a discount line is negative.
    amount: Mapped[Decimal] = mapped_column(MoneyAmount)
    quotation_id: Mapped[int | None] = mapped_column(
        ForeignKey("quotations.id", ondelete="SET NULL")
    )

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    quotation: Mapped[Quotation | None] = relationship()

    @property
    def line_kind(self) -> LineKind:
        return LineKind(self.kind)


class PaymentStatus(enum.StrEnum):
    # R7: the ACM says the client sent a wire transfer; finance has not seen it yet.
    REPORTED = "reported"
    CONFIRMED = "confirmed"
    # R7: finance found no such transfer (a reason is given); it counts for nothing.
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {
            "reported": "Waiting for finance",
            "confirmed": "Confirmed",
            "rejected": "Rejected by finance",
        }[self.value]


class Payment(Base):
    """Money received against an invoice: online, a wire transfer (reported by the ACM,
    confirmed by finance, R7) or at the premises (recorded by finance with its receipt,
    R6)."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_method_status_reported", "method", "status", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(20))
    # What counts against the invoice: for a wire transfer, what the ACM reported until
    # finance confirms it, then what finance received.
    amount: Mapped[Decimal] = mapped_column(MoneyAmount)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    # R7: a wire transfer as the ACM reported it, and the day finance saw it arrive.
    reported_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    received_on: Mapped[date | None] = mapped_column(Date)
    # The bank's or gateway's reference; for a payment at the premises, the receipt given.
    reference: Mapped[str | None] = mapped_column(String(120))
    receipt_number: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # R7: still unconfirmed 4 days after it was reported; finance and the ACM were told.
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    rejected_by: Mapped[User | None] = relationship(foreign_keys=[rejected_by_id])

    @property
    def payment_method(self) -> PaymentMethod:
        return PaymentMethod(self.method)

    @property
    def payment_status(self) -> PaymentStatus:
        return PaymentStatus(self.status)

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def reported_money(self) -> Money:
        return Money(self.reported_amount or self.amount, self.currency)


class PaymentIssueStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class PaymentIssue(Base):
    """R5: the client cannot pay as invoiced; the ACM hands it to finance, who agree a new
    payment channel."""

    __tablename__ = "payment_issues"
    __table_args__ = (Index("ix_payment_issues_status_raised", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=PaymentIssueStatus.OPEN.value)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_method: Mapped[str | None] = mapped_column(String(20))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invoice: Mapped[Invoice] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def issue_status(self) -> PaymentIssueStatus:
        return PaymentIssueStatus(self.status)

"""P4: the monthly client report, one per client and month: its headline metrics frozen
when it is drafted, the ACM's commentary and next month's proposals, and its sending."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.messaging import OutboxMessage
from kamportal.models.types import MoneyAmount, UTCDateTime


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"  # drafted on the first working day, the ACM reviews it
    SENT = "sent"  # emailed to the client with the PDF, once

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ClientReport(Base):
    """One client's report on one month (`month`: its first day). The figures are the
    store's days of that month in the store's currency, as they stood when it was drafted:
    `days_with_figures` 0 means no figures came for the month (the other figures are then
    None, never zeros pretending). `gmv_change` is the month-on-month change in percent
    (None with nothing to compare to). Owed to the client by `due_at` while a draft."""

    __tablename__ = "client_reports"
    __table_args__ = (
        UniqueConstraint("client_id", "month", name="uq_client_reports_client_month"),
        Index("ix_client_reports_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    days_in_month: Mapped[int] = mapped_column(Integer)
    days_with_figures: Mapped[int] = mapped_column(Integer)
    gmv: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    orders: Mapped[int | None] = mapped_column(Integer)
    days_with_orders: Mapped[int | None] = mapped_column(Integer)
    gmv_change: Mapped[Decimal | None] = mapped_column(Numeric(9, 1))
    commentary: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=ReportStatus.DRAFT)
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )

    client: Mapped[Client] = relationship()
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    outbox_message: Mapped[OutboxMessage | None] = relationship()

    @property
    def report_status(self) -> ReportStatus:
        return ReportStatus(self.status)

    @property
    def has_figures(self) -> bool:
        return self.days_with_figures > 0

    def __repr__(self) -> str:
        return f"<ClientReport {self.id} client={self.client_id} {self.month:%Y-%m} {self.status}>"

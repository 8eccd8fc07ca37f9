"""The Online Store Manager's work (F6): the seed's store-manager duties done, period by
period, and the client's data-entry requests with their SLA."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.types import UTCDateTime


class DutyDone(Base):
    """F6: one store-manager duty done for a client in one period of its frequency (the day,
    the week or the month starting `period_start`, on the client's calendar)."""

    __tablename__ = "store_duties_done"
    __table_args__ = (
        UniqueConstraint("client_id", "duty", "period_start", name="uq_store_duties_done"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    duty: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()
    done_by: Mapped[User | None] = relationship()


class EntrySize(enum.StrEnum):
    """How big a data-entry request is; its SLA follows (DATA_ENTRY_SLA_HOURS)."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"

    @property
    def label(self) -> str:
        return {
            "small": "Small (a few products or fields)",
            "medium": "Medium (a category, up to about 50 products)",
            "large": "Large (a catalogue, more than 50 products)",
        }[self.value]


class DataEntryRequest(Base):
    """F6: a client's data-entry request to its store manager, due within the SLA of its
    size in business hours on the client's team calendar (recounted when it changes)."""

    __tablename__ = "data_entry_requests"
    __table_args__ = (Index("ix_data_entry_requests_open", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    size: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    @property
    def entry_size(self) -> EntrySize:
        return EntrySize(self.size)

"""Notifications: what a user newly owes, shown by the badge in the header (issue 14).
They are read in the portal only; none is emailed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kamportal.models.base import Base
from kamportal.models.types import UTCDateTime


class Notification(Base):
    """One item newly owed by one user: `kind` says what (an escalation with the leader, a
    wire flagged, a store not selling, a decision needed), `text` says it in one line and
    `link` is the portal page where it is done. `key` makes notifying idempotent: the same
    thing told twice to the same user is one notification."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("uq_notifications_user_key", "user_id", "key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

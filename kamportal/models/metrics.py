"""Store figures (F4): each store's daily orders and GMV, the integrations that push them,
and the "not selling" alerts raised from them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class Integration(Base):
    """F4: a system that pushes store figures through the API (the e-commerce platform, or
    one region of it). Its token is shown once when an admin creates it and kept only as a
    SHA-256 hash (`token_prefix`, its first characters, tells tokens apart); a revoked
    token is refused. It writes the figures of its own stores only (Client.integration_id).
    """

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StoreDay(Base):
    """F4: a store's orders and GMV on one day of the store's calendar, in the store's
    currency; one row per store and day, written again (not added) when the day is sent
    again. `source` says which door it came through: "api", "csv" or "demo"."""

    __tablename__ = "store_days"
    __table_args__ = (
        UniqueConstraint("client_id", "day", name="uq_store_days_client_day"),
        Index("ix_store_days_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    orders: Mapped[int] = mapped_column(Integer)
    gmv: Mapped[Decimal] = mapped_column(MoneyAmount)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(10))
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()

    @property
    def gmv_money(self) -> Money:
        return Money(self.gmv, self.currency)


class NotSellingAlert(Base):
    """F4: a store that stopped selling (no orders for the team's number of days) or whose
    GMV fell more than the team's share against its trailing four weeks. One alert per
    episode: it stays open until the store sells again (`cleared_at`). The ACM owes the
    reasons found and the actions agreed with the client (`recorded_at`)."""

    __tablename__ = "not_selling_alerts"
    __table_args__ = (Index("ix_not_selling_alerts_open", "cleared_at", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(String(20))  # "no_orders" | "gmv_drop"
    detail: Mapped[str] = mapped_column(String(300))
    reasons: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first day of the store's calendar the alert looks at (the first day without
    # orders, or the first of the 7 days whose GMV fell), and for a GMV drop the weekly
    # average of the 4 weeks before it, which the store must come back to.
    since_day: Mapped[date | None] = mapped_column(Date)
    baseline_gmv: Mapped[Decimal | None] = mapped_column(MoneyAmount)

    client: Mapped[Client] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class FiguresUpload(Base):
    """A CSV uploaded by a person, kept under ATTACHMENTS_DIR with a generated name: store
    figures (F4, `kind` "figures"), or clients or contacts to register ("clients",
    "contacts": issue 16, where `added` counts those registered). It is checked first
    (nothing written: `preview` holds the first bad rows with what is wrong with each, and
    the first good ones), then imported in one transaction. `status`: "checking" (a large
    file, in a job), "previewed", "importing", "done" or "failed". `rows_done` is the last
    progress kept here; while a job runs, the live count is in Redis
    (services/uploads.py)."""

    __tablename__ = "figures_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="figures", server_default="figures")
    status: Mapped[str] = mapped_column(String(20))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_good: Mapped[int] = mapped_column(Integer, default=0)
    rows_bad: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    preview: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    good_rows_only: Mapped[bool] = mapped_column(Boolean, default=False)
    added: Mapped[int | None] = mapped_column(Integer)
    changed: Mapped[int | None] = mapped_column(Integer)
    unchanged: Mapped[int | None] = mapped_column(Integer)
    failure: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User | None] = relationship()


class HealthBand(enum.StrEnum):
    """P2: a client's health at a glance, from its score (0-100): green from 70, amber from
    40, red below."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def lowest(self) -> int:
        """The lowest score in the band."""
        return HEALTH_BAND_LOWEST[self]

    @property
    def highest(self) -> int:
        """The highest score in the band."""
        return {HealthBand.GREEN: 100, HealthBand.AMBER: 69, HealthBand.RED: 39}[self]

    @classmethod
    def of(cls, score: int) -> HealthBand:
        return next(band for band in cls if score >= band.lowest)


HEALTH_BAND_LOWEST = {HealthBand.GREEN: 70, HealthBand.AMBER: 40, HealthBand.RED: 0}


class ClientHealth(Base):
    """P2: a client's health score on one day of the portal's calendar (UTC), with the
    reasons that made it: a list of {"points": -20, "reason": "No contact for 12 days",
    "rule": "F1"}. One row per client and day, written again while the day lasts; the
    latest is also kept on the client (Client.health_score) for the client list."""

    __tablename__ = "client_health"
    __table_args__ = (UniqueConstraint("client_id", "day", name="uq_client_health_client_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, index=True)
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()

    @property
    def band(self) -> HealthBand:
        return HealthBand.of(self.score)

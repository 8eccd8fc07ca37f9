"""Upsell and cross-sell opportunities (P3): what more a client could buy, followed through
a simple pipeline (identified → proposed → negotiating → won, or lost with a reason)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.customizations import CustomizationRequest
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class OpportunityKind(enum.StrEnum):
    """What the client could buy (P3)."""

    MARKETPLACE_APP = "marketplace_app"
    PLAN_UPGRADE = "plan_upgrade"
    CUSTOMIZATION = "customization"
    SERVICE = "service"

    @property
    def label(self) -> str:
        return {
            "marketplace_app": "Marketplace app",
            "plan_upgrade": "Plan upgrade",
            "customization": "Customization",
            "service": "Service",
        }[self.value]


class OpportunityStage(enum.StrEnum):
    """Where an opportunity stands (P3); won and lost close it."""

    IDENTIFIED = "identified"
    PROPOSED = "proposed"
    NEGOTIATING = "negotiating"
    WON = "won"
    LOST = "lost"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        return self not in (OpportunityStage.WON, OpportunityStage.LOST)


class Opportunity(Base):
    """An upsell or cross-sell opportunity of a client (P3): its kind, amount in a currency
    (the client's by default), stage and expected close date. Won or lost, `closed_on` is
    the day it closed (the ACM's date); a won customization keeps the request it started
    (C1)."""

    __tablename__ = "opportunities"
    __table_args__ = (
        # The pipeline and the forecast: by stage, soonest close first.
        Index("ix_opportunities_stage_close", "stage", "expected_close_on"),
        Index("ix_opportunities_stage_closed_on", "stage", "closed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # By ACM goes through the client (clients.acm_id is indexed).
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(MoneyAmount)
    currency: Mapped[str] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(20), default=OpportunityStage.IDENTIFIED.value)
    expected_close_on: Mapped[date] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(Text)
    won_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    customization_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("customization_requests.id", ondelete="SET NULL"), unique=True
    )

    client: Mapped[Client] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    customization_request: Mapped[CustomizationRequest | None] = relationship()

    @property
    def opportunity_kind(self) -> OpportunityKind:
        return OpportunityKind(self.kind)

    @property
    def opportunity_stage(self) -> OpportunityStage:
        return OpportunityStage(self.stage)

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    def __repr__(self) -> str:
        return f"<Opportunity {self.id} {self.kind} {self.stage}>"

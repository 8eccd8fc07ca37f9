"""Account plans (P1): each key account's living plan, every save a version, and its
quarterly reviews."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.types import UTCDateTime


class GoalStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    ACHIEVED = "achieved"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Influence(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class AccountPlan(Base):
    """P1: a client's account plan. Its content is its latest version's; `next_review_on`
    (the client's calendar) is when the quarterly review is owed."""

    __tablename__ = "account_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), unique=True
    )
    versions_saved: Mapped[int] = mapped_column(Integer, default=0)
    next_review_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    versions: Mapped[list[AccountPlanVersion]] = relationship(
        back_populates="plan",
        order_by="AccountPlanVersion.number.desc()",
        cascade="all, delete-orphan",
    )
    reviews: Mapped[list[AccountPlanReview]] = relationship(
        back_populates="plan",
        order_by="AccountPlanReview.reviewed_at.desc()",
        cascade="all, delete-orphan",
    )


class AccountPlanVersion(Base):
    """One save of a plan: its whole content then (value proposition, roadmap, goals,
    stakeholders; see services/account_plans.py) and what changed from the one before."""

    __tablename__ = "account_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_account_plan_versions"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("account_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    plan: Mapped[AccountPlan] = relationship(back_populates="versions")
    saved_by: Mapped[User | None] = relationship()


class AccountPlanReview(Base):
    """P1: a quarterly review of the plan, held with the client or within the team: what
    was found, on which version."""

    __tablename__ = "account_plan_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("account_plans.id", ondelete="CASCADE"), index=True
    )
    reviewed_on: Mapped[date] = mapped_column(Date)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version_number: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text)

    plan: Mapped[AccountPlan] = relationship(back_populates="reviews")
    reviewed_by: Mapped[User | None] = relationship()

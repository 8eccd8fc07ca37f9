"""Account planning and growth (issue 15). So far F5: the catalogue of marketplace apps and
marketing actions an ACM may recommend, and what was suggested to each client, with the
client's answer and the outcome."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client
from kamportal.models.escalations import ContactChannel
from kamportal.models.types import UTCDateTime


class RecommendationKind(enum.StrEnum):
    """F5: an app from the marketplace, or a marketing step the ACM helps the client take."""

    APP = "app"
    ACTION = "action"

    @property
    def label(self) -> str:
        return "App" if self is RecommendationKind.APP else "Marketing action"


class SuggestionAnswer(enum.StrEnum):
    """F5: what the client said of a suggestion."""

    INTERESTED = "interested"
    THINKING = "thinking"
    NOT_INTERESTED = "not_interested"

    @property
    def label(self) -> str:
        return {
            "interested": "Interested",
            "thinking": "Thinking it over",
            "not_interested": "Not interested",
        }[self.value]


class SuggestionOutcome(enum.StrEnum):
    """F5: where a suggestion ended. An app is installed, an action done; either may be
    declined, with the client's reason."""

    OPEN = "open"
    INSTALLED = "installed"
    DONE = "done"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Recommendation(Base):
    """F5: an entry of the catalogue an admin keeps: an app or a marketing action, with a
    description the ACM reads before suggesting it. A retired entry (`active` False) is
    offered no more and stays for the suggestions made of it."""

    __tablename__ = "recommendations"
    __table_args__ = (Index("ix_recommendations_offer", "active", "kind", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where it stands in its kind's list: the lower, the earlier.
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def kind_label(self) -> str:
        return RecommendationKind(self.kind).label


class Suggestion(Base):
    """F5: an app or action suggested to a client: when, by whom, how, the client's answer
    (None until they give one) and the outcome, `open` until installed, done or declined
    (with the reason). One open suggestion per client and catalogue entry."""

    __tablename__ = "suggestions"
    __table_args__ = (
        Index("ix_suggestions_client_at", "client_id", "suggested_at"),
        Index(
            "uq_suggestions_open_client_recommendation",
            "client_id",
            "recommendation_id",
            unique=True,
            sqlite_where=text("outcome = 'open'"),
            postgresql_where=text("outcome = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), index=True)
    suggested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20), default=ContactChannel.MEETING.value)
    note: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(String(20))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(20), default=SuggestionOutcome.OPEN.value)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship()
    recommendation: Mapped[Recommendation] = relationship()
    suggested_by: Mapped[User | None] = relationship(foreign_keys=[suggested_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    outcome_by: Mapped[User | None] = relationship(foreign_keys=[outcome_by_id])

    @property
    def is_open(self) -> bool:
        return self.outcome == SuggestionOutcome.OPEN.value

    @property
    def channel_label(self) -> str:
        return ContactChannel(self.channel).label

    @property
    def answer_label(self) -> str | None:
        return SuggestionAnswer(self.answer).label if self.answer else None

    @property
    def outcome_label(self) -> str:
        return SuggestionOutcome(self.outcome).label

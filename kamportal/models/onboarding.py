"""Onboarding and store launch (O1, O2, L1-L5).

A client on the Enterprise plan is owed a welcome email within 48 business hours
(`WelcomeEmail`, O2), answers a KYC questionnaire through a link (`KycQuestionnaire`, O1),
and goes through the launch checklists, one `ChecklistItem` row per item (L1, L3-L5).
What the contract allows during the launch is counted in `ContractUsage` rows, with a
leader's agreed `ContractException`s on top (L2).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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
from kamportal.models.messaging import OutboxMessage
from kamportal.models.types import UTCDateTime


class WelcomeEmail(Base):
    """O2: the welcome email a client on the Enterprise plan is owed, due 48 business hours
    after the subscription, until the ACM sends it."""

    __tablename__ = "welcome_emails"
    __table_args__ = (Index("ix_welcome_emails_owed", "sent_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), unique=True
    )
    # The subscription to the Enterprise plan the 48 business hours count from.
    subscribed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )

    client: Mapped[Client] = relationship()
    sent_by: Mapped[User | None] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()


class KycStatus(enum.StrEnum):
    NOT_SENT = "not_sent"
    SENT = "sent"
    STARTED = "started"
    SUBMITTED = "submitted"

    @property
    def label(self) -> str:
        return {
            "not_sent": "Not sent",
            "sent": "Link sent",
            "started": "Started",
            "submitted": "Submitted",
        }[self.value]


class KycQuestionnaire(Base):
    """O1: a client's KYC answers, and the one link that lets the client fill them in.

    The link is a signed token naming this row and `link_nonce`; sending a new link or
    revoking it changes or clears the nonce, so older links stop working."""

    __tablename__ = "kyc_questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), unique=True
    )
    # Question key → answer text, as the questionnaire's data defines the keys.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link_nonce: Mapped[str | None] = mapped_column(String(32))
    link_sent_to: Mapped[str | None] = mapped_column(String(254))
    link_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who last saved answers: a user (the ACM during a call), or nobody (the client's link).
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    client: Mapped[Client] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])

    @property
    def status(self) -> KycStatus:
        if self.submitted_at is not None:
            return KycStatus.SUBMITTED
        if any(str(v).strip() for v in (self.answers or {}).values()):
            return KycStatus.STARTED
        if self.link_nonce is not None:
            return KycStatus.SENT
        return KycStatus.NOT_SENT


class ChecklistItem(Base):
    """One item of a client's launch checklist (L1, L3, L4, L5), copied from the
    checklist's data when the client's onboarding starts: ticked with who and when, a
    note and evidence links (emails, screenshots, tickets)."""

    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("client_id", "checklist", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    checklist: Mapped[str] = mapped_column(String(30))
    item_key: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(400))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    @property
    def done(self) -> bool:
        return self.done_at is not None


class UsageKind(enum.StrEnum):
    """What the launch delivers that the contract counts (L2)."""

    LOGO = "logo"
    LOGO_CHANGE = "logo_change"
    SLIDES = "slides"
    LAYOUT_CHANGE = "layout_change"
    PRODUCTS = "products"
    CATEGORIES = "categories"

    @property
    def label(self) -> str:
        return {
            "logo": "Logo designed",
            "logo_change": "Logo revised (its one change)",
            "slides": "Slides and banners designed",
            "layout_change": "Slides and banners revised (their one change)",
            "products": "Products added",
            "categories": "Categories added",
        }[self.value]


class ContractUsage(Base):
    """L2: something the launch delivered, counted against the contract's limits."""

    __tablename__ = "contract_usage"
    __table_args__ = (Index("ix_contract_usage_client_kind", "client_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    # Recorded while the store was being launched (LMS): the 200-product limit counts these.
    during_lms: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    recorded_by: Mapped[User | None] = relationship()


class ContractException(Base):
    """L2: a leader's agreed exception: `extra` more than the contract allows on one limit."""

    __tablename__ = "contract_exceptions"
    __table_args__ = (Index("ix_contract_exceptions_client_limit", "client_id", "limit_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    limit_key: Mapped[str] = mapped_column(String(20))
    extra: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    granted_by: Mapped[User | None] = relationship()

"""Client stores and their contacts."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base, trigram_indexes
from kamportal.models.types import Money, MoneyAmount, UTCDateTime


class LifecycleStatus(enum.StrEnum):
    """A client's place in its life with us: onboarding → launching → live → at risk → churned."""

    ONBOARDING = "onboarding"
    LAUNCHING = "launching"
    LIVE = "live"
    AT_RISK = "at_risk"
    CHURNED = "churned"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# A client being launched (L1-L5): its checklists, its welcome email and the launch's
# contract limits apply while it is in one of these.
IN_LAUNCH = (LifecycleStatus.ONBOARDING.value, LifecycleStatus.LAUNCHING.value)
# The path the client page draws: onboarding → launching → live.
LAUNCH_PATH = (LifecycleStatus.ONBOARDING, LifecycleStatus.LAUNCHING, LifecycleStatus.LIVE)


class Plan(enum.StrEnum):
    BUSINESS = "business"
    PROFESSIONAL = "professional"
    ULTIMATE = "ultimate"
    ENTERPRISE = "enterprise"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (
        # With what the leader's view counts of an ACM's clients on PostgreSQL (P2, F1, the
        # workload), read off the index alone.
        Index(
            "ix_clients_acm_status",
            "acm_id",
            "status",
            postgresql_include=["id", "last_contact_at", "health_score"],
        ),
        # The client list's orders (issue 17): each in the list's own order, the id breaking
        # ties, so the first page is read off the index. A client never contacted comes
        # first when ascending, last when descending: NULLS FIRST, which SQLite has anyway.
        Index("ix_clients_store_name", "store_name", "id"),
        Index("ix_clients_last_contact_order", text("last_contact_at NULLS FIRST"), "id").ddl_if(
            dialect="postgresql"
        ),
        # The substring search (`%text%`) of the client list and the header's box: trigram
        # indexes, PostgreSQL's pg_trgm (the migration creates the extension).
        *trigram_indexes("clients", "store_name", "store_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_name: Mapped[str] = mapped_column(String(200))
    store_code: Mapped[str] = mapped_column(String(40), unique=True)
    plan: Mapped[str] = mapped_column(String(20), index=True)
    has_store_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    # F6: the store manager doing the plan's store-manager duties (has_store_manager).
    store_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    country: Mapped[str] = mapped_column(String(2), index=True)
    # Indexed for the zones in use (database.each_value), read a zone at a time.
    timezone: Mapped[str] = mapped_column(String(64), index=True)
    # Indexed for the admin's industry filter (database.each_value), read a value
    # at a time.
    industry: Mapped[str | None] = mapped_column(String(120), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(20), index=True, default=LifecycleStatus.ONBOARDING)
    acm_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewal_date: Mapped[date | None] = mapped_column(Date, index=True)
    recurring_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # F4: the integration that pushes this store's daily figures (None: CSV uploads only).
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), index=True
    )
    # R3: the client's account in the billing system (WHMCS's user id), when it has one.
    billing_account_id: Mapped[str | None] = mapped_column(String(40))
    # The last answered call, held meeting or email sent (rule F1); kept by services/clients.py.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # L1: the launch (LMS) started (onboarding → launching); L5: the store went live.
    lms_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Churn (services/churn.py): when the client left and why; the monthly churn counts it.
    churned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    churn_reason: Mapped[str | None] = mapped_column(Text)
    # P2: the latest health score (0-100) and when it was computed (services/health.py),
    # and the store's GMV over its last 30 days, in its currency and in the GMV bands'
    # reference currency (GMV_BAND_CURRENCY; None without a rate for the currency). Kept by
    # the health sweep so that the client list filters and sorts on them.
    health_score: Mapped[int | None] = mapped_column(Integer, index=True)
    health_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gmv_30d: Mapped[Decimal | None] = mapped_column(MoneyAmount)
    gmv_30d_ref: Mapped[Decimal | None] = mapped_column(MoneyAmount, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    acm: Mapped[User | None] = relationship(foreign_keys=[acm_id])
    store_manager: Mapped[User | None] = relationship(foreign_keys=[store_manager_id])
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        order_by="(Contact.is_primary.desc(), Contact.name)",
    )

    @property
    def lifecycle(self) -> LifecycleStatus:
        return LifecycleStatus(self.status)

    @property
    def in_launch(self) -> bool:
        return self.status in IN_LAUNCH

    @property
    def launch_steps_reached(self) -> int:
        """How many steps of LAUNCH_PATH the client has reached (1 to 3)."""
        if self.launched_at is not None or self.status in ("live", "at_risk"):
            return 3
        if self.status == LifecycleStatus.LAUNCHING.value or self.lms_started_at is not None:
            return 2
        return 1

    @property
    def plan_label(self) -> str:
        return Plan(self.plan).label

    @property
    def recurring(self) -> Money | None:
        if self.recurring_amount is None:
            return None
        return Money(self.recurring_amount, self.currency)

    @property
    def primary_contact(self) -> Contact | None:
        return next((c for c in self.contacts if c.is_primary), None)

    def reachable_contact(
        self, attribute: str, *, preferred: Contact | None = None
    ) -> Contact | None:
        """Whom to reach by `attribute` ("email", "whatsapp"): `preferred` (the contact just
        called) if they have it, else the primary contact, else any contact that has it."""
        candidates = [preferred] if preferred is not None else []
        candidates += sorted(self.contacts, key=lambda c: (not c.is_primary, c.id))
        return next((c for c in candidates if getattr(c, attribute)), None)

    def __repr__(self) -> str:
        return f"<Client {self.store_code}>"


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = tuple(trigram_indexes("contacts", "name", "email", "phone"))

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # Phone numbers are stored in E.164 (+201001234567).
    phone: Mapped[str | None] = mapped_column(String(32))
    whatsapp: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(120))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    is_decision_maker: Mapped[bool] = mapped_column(Boolean, default=False)

    client: Mapped[Client] = relationship(back_populates="contacts")

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"

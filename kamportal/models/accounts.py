"""Users, their roles, and teams."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.base import Base
from kamportal.models.types import UTCDateTime


class Role(enum.StrEnum):
    ACM = "acm"
    LEADER = "leader"
    FINANCE = "finance"
    PRODUCT = "product"
    COMMERCIAL = "commercial"
    ADMIN = "admin"
    # F6: the Online Store Manager of the clients whose plan includes one.
    STORE_MANAGER = "store_manager"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ACM: "Account manager",
    Role.LEADER: "Team leader",
    Role.FINANCE: "Finance",
    Role.PRODUCT: "Product",
    Role.COMMERCIAL: "Commercial",
    Role.ADMIN: "Admin",
    Role.STORE_MANAGER: "Store manager",
}

# ISO weekday numbers (Monday=1 ... Sunday=7), as `date.isoweekday()` gives them.
WEEKDAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
WORKING_WEEKS = {
    "sun-thu": (7, 1, 2, 3, 4),
    "mon-fri": (1, 2, 3, 4, 5),
}


def weekdays_in(working_days: str) -> tuple[int, ...]:
    """ "7,1,2,3,4" as ISO weekday numbers."""
    return tuple(int(d) for d in working_days.split(",") if d)


@dataclass(frozen=True)
class TeamRules:
    """The rule settings a new team starts with, and those that apply to a client whose
    ACM has no team: written once, here."""

    working_days: str = "1,2,3,4,5"
    workday_starts: time = time(9, 0)
    workday_ends: time = time(17, 0)
    # F3: the meeting confirmation goes this many hours before the start (never under 4).
    confirmation_lead_hours: int = 24
    # F2: send the follow-up email after an unanswered call without asking the ACM.
    followup_email_auto: bool = False
    # F2: business hours without any reply before the WhatsApp "please check your email".
    no_reply_whatsapp_after_hours: int = 24
    # E2: business hours after the "we tried to call you" email before the WhatsApp step,
    # and after the WhatsApp before the escalation goes to the leader.
    escalation_whatsapp_after_hours: int = 4
    escalation_leader_after_hours: int = 8
    # R4: days between reminders of an unpaid invoice.
    invoice_reminder_days: int = 3
    # G4: calendar hours the support team has to close a client's ticket, by its priority.
    support_sla_highest_hours: int = 4
    support_sla_high_hours: int = 8
    support_sla_medium_hours: int = 24
    support_sla_low_hours: int = 72
    support_sla_lowest_hours: int = 120
    # F4: a live store is "not selling" after this many whole days of its calendar without
    # an order, or when its last 7 days' GMV is more than this share under the weekly
    # average of the 4 weeks before (README, Settings).
    not_selling_days: int = 7
    not_selling_drop_percent: int = 50

    @property
    def working_weekdays(self) -> tuple[int, ...]:
        return weekdays_in(self.working_days)


TEAM_RULES = TeamRules()


# G4: the team setting holding the SLA of each ticket priority.
SUPPORT_SLA_FIELDS = {
    "Highest": "support_sla_highest_hours",
    "High": "support_sla_high_hours",
    "Medium": "support_sla_medium_hours",
    "Low": "support_sla_low_hours",
    "Lowest": "support_sla_lowest_hours",
}


def rules_of(team: Team | None) -> Team | TeamRules:
    """The rule settings that apply under `team`: its own, or the defaults without one."""
    return team if team is not None else TEAM_RULES


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    # Comma-separated ISO weekday numbers, e.g. "7,1,2,3,4" for Sunday to Thursday. The rule
    # settings below start as TeamRules says.
    working_days: Mapped[str] = mapped_column(String(20), default=TEAM_RULES.working_days)
    workday_starts: Mapped[time] = mapped_column(Time, default=TEAM_RULES.workday_starts)
    workday_ends: Mapped[time] = mapped_column(Time, default=TEAM_RULES.workday_ends)
    shared_mailbox: Mapped[str | None] = mapped_column(String(254))
    confirmation_lead_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.confirmation_lead_hours
    )
    followup_email_auto: Mapped[bool] = mapped_column(
        Boolean, default=TEAM_RULES.followup_email_auto
    )
    no_reply_whatsapp_after_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.no_reply_whatsapp_after_hours
    )
    escalation_whatsapp_after_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.escalation_whatsapp_after_hours
    )
    escalation_leader_after_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.escalation_leader_after_hours
    )
    invoice_reminder_days: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.invoice_reminder_days
    )
    support_sla_highest_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.support_sla_highest_hours
    )
    support_sla_high_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.support_sla_high_hours
    )
    support_sla_medium_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.support_sla_medium_hours
    )
    support_sla_low_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.support_sla_low_hours
    )
    support_sla_lowest_hours: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.support_sla_lowest_hours
    )
    not_selling_days: Mapped[int] = mapped_column(Integer, default=TEAM_RULES.not_selling_days)
    not_selling_drop_percent: Mapped[int] = mapped_column(
        Integer, default=TEAM_RULES.not_selling_drop_percent
    )

    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id], post_update=True)
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by="User.name"
    )

    @property
    def working_weekdays(self) -> tuple[int, ...]:
        return weekdays_in(self.working_days)

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    booking_link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
    # Loaded when read: most users a page loads are named (a client's ACM, who reported a
    # payment), their roles never read; the signed-in user's come in its own query
    # (services.sessions), the lists that show them ask for them.
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", order_by="UserRole.role"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    # The id the cookies of this request's sign-in carry ("<sign-in id>:<secret>"): set by
    # services.sessions when the user signs in or a cookie is accepted, never stored.
    # (Not annotated: it is no column.)
    sign_in_cookie_id = None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login puts in the session and "keep me signed in" cookies: the
        sign-in, never the bare user id (a sign-out must end every copy of them)."""
        if self.sign_in_cookie_id is None:
            raise RuntimeError("Only a signed-in user has a cookie id: sessions.start() first")
        return self.sign_in_cookie_id

    # Flask-Login's UserMixin compares users by get_id(); a user is the same user whatever
    # the sign-in it was loaded under.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), index=True)


class UserSession(Base):
    """One sign-in. The session cookie and the "keep me signed in" cookie both carry its id
    and a random secret, of which only a hash is stored. Signing out ends it, on every
    copy of those cookies; a password reset or a deactivation ends all of a user's."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the secret, hex: a copy of this table opens no session.
    secret_hash: Mapped[str] = mapped_column(String(64))
    remembered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended: signed out, password reset, deactivated.
    end_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at


class CalendarDay(Base):
    """A day an admin sets for a country's teams: a holiday added (`is_holiday`), or a
    working day where the public-holiday list or the weekend says otherwise (a holiday
    moved). Business hours follow these over the `holidays` package."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("country", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    day: Mapped[date] = mapped_column(Date)
    is_holiday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

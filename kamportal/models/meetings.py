"""Client meetings on Zoom (G2, F3) and the minutes owed after them or after a call (G5)."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kamportal.models.accounts import User
from kamportal.models.base import Base
from kamportal.models.clients import Client, Contact
from kamportal.models.messaging import OutboxMessage
from kamportal.models.timeline import TimelineEvent
from kamportal.models.types import UTCDateTime


class MeetingType(enum.StrEnum):
    ONBOARDING = "onboarding"
    WEEKLY = "weekly"
    QBR = "qbr"
    HANDOVER = "handover"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "onboarding": "Onboarding",
            "weekly": "Weekly follow-up",
            "qbr": "Quarterly business review",
            "handover": "Hand-over",
            "other": "Other",
        }[self.value]

    @property
    def title(self) -> str:
        """The meeting as the client reads it ("Onboarding meeting"): a meeting of no
        particular kind is just a "Meeting", never an "Other meeting"."""
        return "Meeting" if self is MeetingType.OTHER else f"{self.label} meeting"


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


meeting_attendees = Table(
    "meeting_attendees",
    Base.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
)


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_client_starts", "client_id", "starts_at"),
        Index("ix_meetings_organizer_starts", "organizer_id", "starts_at"),
        Index("ix_meetings_status_confirmation_due", "status", "confirmation_due_at"),
        # The scheduled meetings by client, with what the leader's view counts of them
        # (F3, the week ahead): read off the index alone on PostgreSQL.
        Index(
            "ix_meetings_status_client",
            "status",
            "client_id",
            postgresql_include=[
                "id",
                "sequence",
                "confirmed_sequence",
                "confirmation_due_at",
                "starts_at",
            ],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    # The ACM who runs it (the client's ACM when it was scheduled).
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    zoom_link: Mapped[str] = mapped_column(String(500))
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.SCHEDULED)
    recording_link: Mapped[str | None] = mapped_column(String(500))
    # iCalendar: one UID for the meeting's life; SEQUENCE raised on every change (F3).
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # F3: booked less than 4 hours ahead only with a reason, kept here and on the timeline.
    short_notice_reason: Mapped[str | None] = mapped_column(Text)
    # F3: when the confirmation for the current sequence is due, and what was confirmed.
    confirmation_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_sequence: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    client: Mapped[Client] = relationship()
    organizer: Mapped[User | None] = relationship()
    attendees: Mapped[list[Contact]] = relationship(
        secondary=meeting_attendees, order_by="Contact.name"
    )
    minutes: Mapped[Minutes | None] = relationship(back_populates="meeting")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def meeting_type(self) -> MeetingType:
        return MeetingType(self.kind)

    @property
    def meeting_status(self) -> MeetingStatus:
        return MeetingStatus(self.status)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.kind} {self.starts_at:%Y-%m-%d %H:%M}Z>"


class MinutesStatus(enum.StrEnum):
    OWED = "owed"
    SENT = "sent"
    # The ACM marked it a regular follow-up in which the client had no requests (G5).
    NO_REQUESTS = "no_requests"

    @property
    def label(self) -> str:
        return {"owed": "Owed", "sent": "Sent", "no_requests": "No requests (not sent)"}[self.value]


class Minutes(Base):
    """Minutes of meeting (MOM), owed after a held meeting or an answered call (G5)."""

    __tablename__ = "minutes"
    __table_args__ = (
        # The client too on PostgreSQL: the leader's view counts late minutes per client
        # off the index alone (G5).
        Index(
            "ix_minutes_status_owed_since",
            "status",
            "owed_since",
            postgresql_include=["client_id"],
        ),
        Index("ix_minutes_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    # Owed to the ACM who held the meeting or made the call.
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), unique=True
    )
    call_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_events.id", ondelete="CASCADE"), unique=True
    )
    owed_since: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=MinutesStatus.OWED)
    agreed_points: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )

    client: Mapped[Client] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    meeting: Mapped[Meeting | None] = relationship(back_populates="minutes")
    call_event: Mapped[TimelineEvent | None] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="minutes", cascade="all, delete-orphan", order_by="ActionItem.due_on"
    )

    @property
    def minutes_status(self) -> MinutesStatus:
        return MinutesStatus(self.status)


class ActionOwner(enum.StrEnum):
    ACM = "acm"
    CLIENT = "client"
    OTHER_TEAM = "other_team"

    @property
    def label(self) -> str:
        return {"acm": "ACM", "client": "Client", "other_team": "Another team"}[self.value]


class ActionItem(Base):
    """An action agreed in the minutes, with its owner and due date, shown until done."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index("ix_action_items_client_done", "client_id", "done_at"),
        Index("ix_action_items_done_due", "done_at", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(
        ForeignKey("minutes.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(20))
    # Which team, when the owner is another team (design, development, finance...).
    owner_team: Mapped[str | None] = mapped_column(String(120))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    minutes: Mapped[Minutes] = relationship(back_populates="action_items")
    client: Mapped[Client] = relationship()

    @property
    def action_owner(self) -> ActionOwner:
        return ActionOwner(self.owner)


class ContactHandover(Base):
    """P5: the client's point of contact changed (its primary contact): a hand-over meeting
    with the new one is owed by `due_at` (HANDOVER_BUSINESS_DAYS on the client's team
    calendar, recounted when it changes) until a hand-over meeting of the client is held
    after the change (`held_at`, `meeting_id`). The names are kept as they were."""

    __tablename__ = "contact_handovers"
    __table_args__ = (Index("ix_contact_handovers_open", "held_at", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    from_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    to_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    from_name: Mapped[str] = mapped_column(String(120))
    to_name: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))

    client: Mapped[Client] = relationship()
    to_contact: Mapped[Contact | None] = relationship(foreign_keys=[to_contact_id])

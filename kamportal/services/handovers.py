"""P5: a change of the client's point of contact owes a hand-over meeting with the new one.

Making another contact the client's primary contact (services/clients.py) records the
change and owes a hand-over meeting within HANDOVER_BUSINESS_DAYS business days on the
client's team calendar (the day of the change not counted; recounted, like every pending
deadline, when that calendar changes: services/deadlines.py). The ACM books it through
the meetings as a "Hand-over" meeting, so F3's confirmation applies; the hand-over stays
owed, on the ACM's day, until a hand-over meeting of the client held after the change.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from kamportal.extensions import db
from kamportal.models import (
    Client,
    Contact,
    ContactHandover,
    LifecycleStatus,
    Meeting,
    MeetingStatus,
    MeetingType,
    User,
)
from kamportal.services import calendar


def due_at(changed_at: datetime, business: calendar.BusinessCalendar) -> datetime:
    """When the hand-over meeting is owed by: the close of the HANDOVER_BUSINESS_DAYS-th
    business day after the change."""
    return business.end_of_business_days(changed_at, current_app.config["HANDOVER_BUSINESS_DAYS"])


def owe_handover(
    client: Client, previous: Contact, new: Contact, *, actor: User | None, at: datetime
) -> ContactHandover:
    """Record that `new` replaced `previous` as the client's point of contact and owe the
    hand-over meeting. A hand-over still owed for the same client is answered by the same
    meeting: the earlier one stays, with its own due time."""
    handover = ContactHandover(
        client=client,
        from_contact_id=previous.id,
        to_contact_id=new.id,
        from_name=previous.name,
        to_name=new.name,
        changed_at=at,
        changed_by_id=actor.id if actor is not None else None,
        due_at=due_at(at, calendar.calendar_for_client(client)),
    )
    db.session.add(handover)
    return handover


def meeting_held(meeting: Meeting) -> list[ContactHandover]:
    """A hand-over meeting was held: every hand-over of its client owed since before the
    meeting started is done."""
    if meeting.kind != MeetingType.HANDOVER.value:
        return []
    done = list(
        db.session.scalars(
            select(ContactHandover).where(
                ContactHandover.client_id == meeting.client_id,
                ContactHandover.held_at.is_(None),
                ContactHandover.changed_at <= meeting.starts_at,
            )
        )
    )
    for handover in done:
        handover.held_at = meeting.starts_at
        handover.meeting_id = meeting.id
    return done


def owed() -> list[ContactHandover]:
    """Every hand-over still owed on a client that has not churned, with its client, ACM
    and team (for the calendar recount)."""
    return list(
        db.session.scalars(
            select(ContactHandover)
            .join(ContactHandover.client)
            .options(contains_eager(ContactHandover.client).joinedload(Client.acm))
            .where(
                ContactHandover.held_at.is_(None),
                Client.status != LifecycleStatus.CHURNED.value,
            )
            .order_by(ContactHandover.id)
        )
    )


def booked_meetings(client_ids: list[int]) -> dict[int, Meeting]:
    """The next scheduled hand-over meeting of each of these clients, by client id."""
    if not client_ids:
        return {}
    meetings = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.client_id.in_(client_ids),
            Meeting.kind == MeetingType.HANDOVER.value,
            Meeting.status == MeetingStatus.SCHEDULED.value,
        )
        .order_by(Meeting.starts_at.desc())
    )
    return {meeting.client_id: meeting for meeting in meetings}

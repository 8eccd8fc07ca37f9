"""The weekly cadence (rule F1): every live client, at-risk ones included, is contacted at
least once a week.

A client's week runs from its last contact (an answered call, a held meeting or an email
sent: `Client.last_contact_at`, kept by services/clients.py). A live client never
contacted is overdue at once. The lists answer "who needs a touch"; the sweep writes each
lapse on the client's timeline once, however often it runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import joinedload

from kamportal.extensions import db
from kamportal.models import Client, LifecycleStatus, TimelineEvent, TimelineKind, User
from kamportal.services import access, timeline

WEEK = timedelta(days=7)
# Two days' warning: enough to book a call or a meeting before the week runs out, even
# when the last working day of the week falls in between.
DUE_SOON = timedelta(days=2)
# F1: live clients, and at-risk ones, which need contact most.
HELD_TO_CADENCE = (LifecycleStatus.LIVE.value, LifecycleStatus.AT_RISK.value)


def due_at(client: Client) -> datetime:
    """When `client`'s week runs (or ran) out: overdue since then, or due by then (F1).

    A client never contacted has owed a touch since the portal has known it."""
    if client.last_contact_at is None:
        return client.created_at
    return client.last_contact_at + WEEK


def record_contact(client: Client, at: datetime) -> None:
    """F1: an answered call, a held meeting or an email sent counts as contact."""
    if client.last_contact_at is None or at > client.last_contact_at:
        client.last_contact_at = at


def overdue_before(now: datetime) -> datetime:
    """F1: a client last contacted at or before this instant is overdue at `now`."""
    return now - WEEK


def due_soon_before(now: datetime) -> datetime:
    """F1: a client last contacted at or before this instant (and after `overdue_before`)
    is due soon at `now`."""
    return now - (WEEK - DUE_SOON)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Live and at-risk clients with no contact for a week or more, or none ever (F1)."""
    return overdue_since(overdue_before(now))


def due_soon_clause(now: datetime) -> ColumnElement[bool]:
    """Live and at-risk clients whose week runs out within DUE_SOON (F1)."""
    return due_soon_between(overdue_before(now), due_soon_before(now))


def overdue_since(contacted_by: Any) -> ColumnElement[bool]:
    """`overdue_clause` with its instant given (a value, or a parameter of a statement
    built once)."""
    return and_(
        Client.status.in_(HELD_TO_CADENCE),
        or_(Client.last_contact_at.is_(None), Client.last_contact_at <= contacted_by),
    )


def due_soon_between(overdue_by: Any, soon_by: Any) -> ColumnElement[bool]:
    """`due_soon_clause` with its instants given."""
    return and_(
        Client.status.in_(HELD_TO_CADENCE),
        Client.last_contact_at > overdue_by,
        Client.last_contact_at <= soon_by,
    )


def overdue_clients(user: User, *, now: datetime) -> list[Client]:
    """The live and at-risk clients `user` may see that are overdue for their weekly contact (F1),
    longest overdue first; `due_at(client)` says since when."""
    query = (
        select(Client)
        .options(joinedload(Client.acm))
        .where(overdue_clause(now), access.visible_clients_clause(user))
        .order_by(Client.last_contact_at.asc().nulls_first(), Client.store_name)
    )
    return list(db.session.scalars(query))


def due_soon_clients(user: User, *, now: datetime) -> list[Client]:
    """The live and at-risk clients `user` may see whose week runs out within DUE_SOON (F1), soonest
    first; `due_at(client)` says by when."""
    query = (
        select(Client)
        .options(joinedload(Client.acm))
        .where(due_soon_clause(now), access.visible_clients_clause(user))
        .order_by(Client.last_contact_at.asc(), Client.store_name)
    )
    return list(db.session.scalars(query))


def _latest_lapse() -> ColumnElement[datetime | None]:
    """When the client's latest FOLLOWUP_OVERDUE event was written, if ever."""
    return (
        select(func.max(TimelineEvent.at))
        .where(
            TimelineEvent.client_id == Client.id,
            TimelineEvent.kind == TimelineKind.FOLLOWUP_OVERDUE.value,
        )
        .correlate(Client)
        .scalar_subquery()
    )


def record_overdue(now: datetime) -> int:
    """The F1 sweep: write one FOLLOWUP_OVERDUE timeline event per lapse; returns how many.

    A lapse starts when the client's week runs out (`due_at`) and is on the timeline once
    an event was written since then. Counting from the lapse's start, not from the last
    contact's time, keeps a lapse written while a meeting was under way (the contact dates
    from the meeting's start, the "held" click comes later) from hiding the next one.
    Idempotent: running it hourly records a lapse once; a new contact followed by a new
    lapse records again. Flushes; the caller commits."""
    query = (
        select(Client, _latest_lapse())
        .where(overdue_clause(now))
        .order_by(Client.id)
        .with_for_update(of=Client, skip_locked=True)
    )
    lapses = []
    for client, latest in db.session.execute(query).tuples():
        since = due_at(client)
        if latest is not None and latest >= since:
            continue  # this lapse is on the timeline already
        if client.last_contact_at is None:
            summary: timeline.Summary = "Weekly follow-up overdue: never contacted (F1)"
        else:
            summary = (
                "Weekly follow-up overdue: no contact since ",
                client.last_contact_at,
                " (F1)",
            )
        lapses.append(
            timeline.Entry(
                client.id,
                summary,
                {"last_contact_at": client.last_contact_at, "overdue_since": since},
            )
        )
    # In bulk: the first sweep after an outage may find thousands.
    return timeline.record_many(TimelineKind.FOLLOWUP_OVERDUE, lapses, actor=None, at=now)

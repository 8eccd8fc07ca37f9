"""Notifications (issue 14): the items newly owed by a user, counted by the badge in the
header and listed on their own page to be marked read. Raised where the thing happens (an
escalation reaching the leader, a wire flagged, a store not selling, a decision needed),
in the same transaction. They are never emailed: the place that owes an email sends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import Client, Notification, Quotation, Role, User, UserRole

ESCALATION, WIRE_FLAGGED, NOT_SELLING, DECISION = (
    "escalation",
    "wire_flagged",
    "not_selling",
    "decision",
)
KIND_LABELS = {
    ESCALATION: "Escalation",
    WIRE_FLAGGED: "Wire transfer",
    NOT_SELLING: "Not selling",
    DECISION: "Decision needed",
}
TEXT_MAX = 300
PER_PAGE = 25


def link_to(endpoint: str, **values: Any) -> str:
    """The portal path of a page, from a request, a job or the CLI alike (no request
    needed: a notification raised by a sweep links to the same page)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def users_with(role: Role) -> list[User]:
    """The active users holding `role`: those a team's notice goes to."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True))
            .where(User.role_rows.any(UserRole.role == role.value))
            .order_by(User.id)
        )
    )


def notify(
    users: User | int | Iterable[User | int | None] | None,
    *,
    kind: str,
    text: str,
    link: str,
    key: str,
) -> list[Notification]:
    """Tell each of `users` (users or their ids; None and repeats skipped) that `text` is
    theirs to act on at `link`. Idempotent by `key`: a user told under the same key
    already is not told again. One INSERT, no read (a sweep raising many stays a few
    statements). Returns the notifications added."""
    return notify_many(users, kind=kind, notes=[Note(text, link, key)])


@dataclass(frozen=True)
class Note:
    """What a notification says, where it leads, and its key (`notify`)."""

    text: str
    link: str
    key: str


def notify_many(
    users: User | int | Iterable[User | int | None] | None, *, kind: str, notes: list[Note]
) -> list[Notification]:
    """`notify` of each of `notes` at once (a sweep's hundreds). Returns the notifications
    added."""
    if users is None or isinstance(users, (User, int)):
        users = [users]
    user_ids = sorted({user.id if isinstance(user, User) else user for user in users} - {None})
    return notify_each(((user_id, note) for note in notes for user_id in user_ids), kind=kind)


def notify_each(
    notes: Iterable[tuple[User | int | None, Note]], *, kind: str
) -> list[Notification]:
    """`notify` of each note to its own user (a sweep's, each client's ACM; None skipped),
    in one INSERT per thousand notifications. Returns the notifications added."""
    now = clock.now()
    rows = [
        {
            "user_id": user.id if isinstance(user, User) else user,
            "kind": kind,
            "text": _line(note.text),
            "link": note.link,
            "key": note.key,
            "created_at": now,
        }
        for user, note in notes
        if user is not None
    ]
    if not rows:
        return []
    insert = _INSERTS[db.session.get_bind().dialect.name]
    statement = insert(Notification).on_conflict_do_nothing().returning(Notification)
    added = db.session.scalars(statement, rows).all()
    return sorted(added, key=lambda notification: (notification.key, notification.user_id))


# Told once per user and key: the unique (user_id, key) index decides, in one statement.
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def unread_count(user: User) -> int:
    """The badge: how many of the user's notifications are unread (one statement)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def recent(user: User, *, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The user's notifications, the newest first, a page at a time."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def notification_of(user: User, notification_id: int) -> Notification | None:
    """The user's notification by id (None when it is someone else's or none)."""
    found = db.session.get(Notification, notification_id)
    return found if found is not None and found.user_id == user.id else None


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications `ids` read (all of them when None); another user's
    ids change nothing. Returns how many were unread. Flushes; the caller commits."""
    query = (
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        query = query.where(Notification.id.in_(ids))
    return db.session.execute(query).rowcount


def discount_awaits_commercial(quotation: Quotation, client: Client) -> None:
    """R9: a discount asked of commercial (on a renewal or a customization's quotation)
    is a decision commercial owes; asked again after a rejection, it is a new one."""
    notify(
        users_with(Role.COMMERCIAL),
        kind=DECISION,
        text=f"Discount of {quotation.discount_text} for {client.store_code} waits for "
        "your decision",
        link=link_to("discounts.queue"),
        key=f"quotation-{quotation.id}-requested-{quotation.requested_at:%Y%m%d%H%M%S%f}",
    )

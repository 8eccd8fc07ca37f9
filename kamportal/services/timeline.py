"""The client's timeline (rule P6) and the audit log: every state change writes both."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import AuditEvent, Client, OutboxMessage, TimelineEvent, TimelineKind, User
from kamportal.models.timeline import TIMES_KEY

# What a timeline event says: text, or text and instants ("WhatsApp step due ", due_at),
# each instant shown later in the reader's zone.
Summary = str | Sequence[str | datetime]


def record(
    client: Client,
    kind: TimelineKind,
    *,
    actor: User | None,
    summary: Summary,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
    outbox_message: OutboxMessage | None = None,
) -> TimelineEvent:
    """Append an event to `client`'s timeline (P6): what happened, by whom, when.

    An instant in `summary` is kept as an instant, not as text in one zone: the page shows
    it in the reader's zone (`TimelineEvent.summary_parts`)."""
    text, times = _compose(summary)
    event = TimelineEvent(
        client_id=client.id,
        kind=kind.value,
        actor=actor,
        at=at or clock.now(),
        summary=text,
        detail=_detail(detail, times),
        outbox_message=outbox_message,
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class Entry:
    """One client's event of a sweep that records many (`record_many`)."""

    client_id: int
    summary: Summary
    detail: dict[str, Any] | None = None
    outbox_message_id: int | None = None


def record_many(
    kind: TimelineKind, entries: Iterable[Entry], *, actor: User | None, at: datetime
) -> int:
    """`record` for many clients at once, in a few statements (a sweep's thousands); returns
    how many were recorded. Flushes."""
    if kind in (TimelineKind.WHATSAPP_RECEIVED, TimelineKind.WHATSAPP_SENT):
        # In bulk, past the ORM's events that keep G6's open requests (contact_log).
        raise ValueError(f"{kind.value} events are recorded one at a time")
    rows = []
    for entry in entries:
        text, times = _compose(entry.summary)
        rows.append(
            {
                "client_id": entry.client_id,
                "kind": kind.value,
                "actor_id": actor.id if actor is not None else None,
                "at": at,
                "summary": text,
                "detail": _detail(entry.detail, times),
                "outbox_message_id": entry.outbox_message_id,
            }
        )
    if rows:
        db.session.execute(insert(TimelineEvent), rows)
    return len(rows)


def _detail(detail: dict[str, Any] | None, times: list[str]) -> dict[str, Any]:
    return jsonable((detail or {}) | ({TIMES_KEY: times} if times else {}))


def _compose(summary: Summary) -> tuple[str, list[str]]:
    """The stored text of `summary`, each instant a numbered placeholder ("{0}", braces of
    the text doubled), and the instants in UTC."""
    if isinstance(summary, str):
        return summary[:500], []
    text, times = [], []
    for part in summary:
        if isinstance(part, datetime):
            if part.tzinfo is None or part.utcoffset() is None:
                raise ValueError("a timeline instant must be aware")
            text.append(f"{{{len(times)}}}")
            times.append(part.astimezone(UTC).isoformat())
        else:
            text.append(str(part).replace("{", "{{").replace("}", "}}"))
    return "".join(text)[:500], times


def audit(
    actor: User | None,
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append to the audit log: who did `action` to `obj`, with the fields before and after."""
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        at=clock.now(),
    )
    db.session.add(event)
    return event


def audit_many(
    actor: User | None, action: str, changes: Iterable[tuple[Any, dict[str, Any] | None]]
) -> None:
    """`audit` of `action` on many objects at once, each given with its fields after (none
    before: what a sweep creates), in a few statements. Flushes."""
    at = clock.now()
    rows = [
        {
            "actor_id": actor.id if actor is not None else None,
            "action": action,
            "object_type": type(obj).__name__.lower(),
            "object_id": getattr(obj, "id", None),
            "before": None,
            "after": jsonable(after) if after is not None else None,
            "at": at,
        }
        for obj, after in changes
    ]
    if rows:
        db.session.execute(insert(AuditEvent), rows)


@contextmanager
def audited(
    actor: User | None, action: str, obj: Any, fields: tuple[str, ...] | list[str]
) -> Iterator[None]:
    """Audit what the block changes on `obj`: `fields` before it and after it."""
    before = snapshot(obj, fields)
    yield
    audit(actor, action, obj, before=before, after=snapshot(obj, fields))


def snapshot(obj: Any, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The named fields of `obj`, ready for the audit log."""
    return jsonable({name: getattr(obj, name) for name in fields})


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs between two snapshots."""
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime) and value.utcoffset() is not None:
        # One instant, one text: the same instant typed in another zone is no change.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Compare amounts, not their scale: 24000.000 from the database equals 24000.00.
        return format(value.normalize(), "f")
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value

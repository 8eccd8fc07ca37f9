"""The client's timeline (rule P6) and the audit log: every state change writes both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from kamportal.extensions import db
from kamportal.models import AuditEvent, Client, OutboxMessage, TimelineEvent, TimelineKind, User
from kamportal.services import clock


def record(
    client: Client,
    kind: TimelineKind,
    *,
    actor: User | None,
    summary: str,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
    outbox_message: OutboxMessage | None = None,
) -> TimelineEvent:
    """Append an event to `client`'s timeline (P6): what happened, by whom, when."""
    event = TimelineEvent(
        client_id=client.id,
        kind=kind.value,
        actor=actor,
        at=at or clock.now(),
        summary=summary[:500],
        detail=jsonable(detail or {}),
        outbox_message=outbox_message,
    )
    db.session.add(event)
    return event


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
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Compare amounts, not their scale: 24000.000 from the database equals 24000.00.
        return format(value.normalize(), "f")
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value

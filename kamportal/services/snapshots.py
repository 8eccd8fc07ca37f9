"""Platform-wide figures kept as a sweep last computed them (issue 17).

Summing over every client grows with the portfolio whatever the indexes: the renewal
forecast of finance and admins reads every renewal due within 90 days, the admin's every
team every client, a team's 12 weeks of trends its history. A sweep (`jobs.snapshots`)
computes those figures every `REFRESHED_EVERY` and keeps them here; the pages read a few
rows and say "as of" when. A snapshot older than `FRESH_FOR` (the sweep has stopped), or
one this code no longer reads (kept before a deploy changed its shape), is not shown: the
page sums live instead, as it would with no sweep at all. A leader's late counts and an
ACM's or a leader's forecast are always live: their scope is small, and they act on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, select

from kamportal.extensions import db
from kamportal.models import FiguresSnapshot

REFRESHED_EVERY = timedelta(minutes=5)
# Three refreshes missed: the sweep is down, and the figures could mislead.
FRESH_FOR = timedelta(minutes=15)
# PostgreSQL's advisory lock of the sweep: one run at a time, whatever the workers.
SWEEP_LOCK = 1_707_170_017

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    figures: T
    computed_at: datetime


def one_sweep_at_a_time() -> None:
    """Wait, until the current transaction ends, for any other run of the sweep to end
    (PostgreSQL; SQLite writes one transaction at a time anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(SWEEP_LOCK)))


def keep_only(prefix: str, kept: dict[str, Any], *, now: datetime) -> None:
    """Keep each of `kept`'s figures (plain JSON: lists, dicts, strings, numbers) under its
    name, computed at `now`, in place of the last ones; drop the other snapshots named
    `prefix`... (yesterday's forecast, a team's trends in its former leader's zone)."""
    for name, figures in kept.items():
        db.session.merge(FiguresSnapshot(name=name, computed_at=now, figures=figures))
    db.session.execute(
        delete(FiguresSnapshot).where(
            FiguresSnapshot.name.startswith(prefix, autoescape=True),
            FiguresSnapshot.name.not_in(list(kept)),
        )
    )


def fresh(name: str, *, now: datetime, decode: Callable[[Any], T]) -> Snapshot[T] | None:
    """The figures kept as `name`, through `decode`; None if there are none, they are older
    than `FRESH_FOR` at `now`, or `decode` cannot read them."""
    row = db.session.execute(
        select(FiguresSnapshot.figures, FiguresSnapshot.computed_at).where(
            FiguresSnapshot.name == name, FiguresSnapshot.computed_at >= now - FRESH_FOR
        )
    ).first()
    if row is None:
        return None
    try:
        return Snapshot(decode(row.figures), row.computed_at)
    except (AttributeError, KeyError, TypeError, ValueError, ArithmeticError):
        return None

"""Platform-wide figures kept as a sweep last computed them (issue 17).

Summing over every client grows with the portfolio whatever the indexes: the renewal
forecast of finance and admins reads every renewal due within 90 days, the admin's every
team every client. A sweep (`jobs.snapshots`) computes those figures every
`REFRESHED_EVERY` and keeps them here; the pages read a few rows and say "as of" when.
A snapshot older than `FRESH_FOR` (the sweep has stopped) is not shown: the page sums
live instead, as it would with no sweep at all. A leader's or an ACM's own figures are
always live: their scope is small, and they act on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from kamportal.extensions import db
from kamportal.models import FiguresSnapshot

REFRESHED_EVERY = timedelta(minutes=5)
# Three refreshes missed: the sweep is down, and the figures could mislead.
FRESH_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Snapshot:
    figures: Any
    computed_at: datetime


def keep(name: str, figures: Any, *, now: datetime) -> None:
    """Keep `figures` (plain JSON: lists, dicts, strings, numbers) as `name`, computed at
    `now`, in place of the last ones."""
    db.session.merge(FiguresSnapshot(name=name, computed_at=now, figures=figures))


def fresh(name: str, *, now: datetime) -> Snapshot | None:
    """The figures kept as `name`, unless there are none or they are older than
    `FRESH_FOR` at `now`."""
    row = db.session.execute(
        select(FiguresSnapshot.figures, FiguresSnapshot.computed_at).where(
            FiguresSnapshot.name == name, FiguresSnapshot.computed_at >= now - FRESH_FOR
        )
    ).first()
    return Snapshot(row.figures, row.computed_at) if row else None


def forget_all_but(prefix: str, kept: set[str]) -> None:
    """Drop the snapshots named `prefix`... other than `kept` (yesterday's forecast)."""
    db.session.execute(
        delete(FiguresSnapshot).where(
            FiguresSnapshot.name.startswith(prefix, autoescape=True),
            FiguresSnapshot.name.not_in(kept),
        )
    )

"""What the portal asks of the database server beyond its queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from kamportal.extensions import db


def plan_once() -> None:
    """For the rest of the current transaction (the request's: its page's header lookups
    too), PostgreSQL runs a statement it has prepared with the plan it made for it once
    (`plan_cache_mode`), not one made again for each execution's values; nothing on
    SQLite.

    psycopg prepares a statement run five times on one connection. For the day's
    statements, an EXISTS per section over the user's clients, planning is most of the
    cost: at 50,000 clients the leader's one question took 12.8 ms, 3.3 with the plan
    kept (bench/README.md). Everything else is planned for each execution's values
    (`POSTGRES_OPTIONS`): a search's text, a status that is rare or common."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))


def each_value(column: Any) -> list[Any]:
    """Every value of `column` but NULL, in order, in one query that reads the column's
    index a value at a time (a loose index scan: a probe per value, where `DISTINCT`
    reads every row): the clients' zones (R4, F4) and industries."""
    first = select(func.min(column).label("value")).cte("values_in_use", recursive=True)
    following = select(func.min(column)).where(column > first.c.value).scalar_subquery()
    values = first.union_all(select(following.label("value")).where(first.c.value.is_not(None)))
    return list(
        db.session.scalars(
            select(values.c.value).where(values.c.value.is_not(None)).order_by(values.c.value)
        )
    )

"""What the portal asks of the database server beyond its queries: per connection
(SQLite's foreign keys, psycopg's prepared statements), per transaction (its plans kept,
ended with COMMIT when it only read), and the loose index scan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CompoundSelect, Select, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.visitors import iterate

from kamportal.extensions import db


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The engine's options from the app's settings: on PostgreSQL, the server settings
    per connection (`POSTGRES_OPTIONS`, README Settings), whatever the server's defaults,
    and the pool handing out the connection used last: a few stay busy, and the
    statements psycopg prepares on them (from the fifth use) are reused, where taking them
    in turn spread the uses thinly over the whole pool."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return options
    options = {"pool_use_lifo": True, **options}
    connect_args = {**options.get("connect_args", {})}
    connect_args.setdefault("options", config["POSTGRES_OPTIONS"])
    return {**options, "connect_args": connect_args}


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


# The statements psycopg keeps prepared on a connection, the least used dropped past it:
# psycopg's 100 dropped the day's between two of its requests; one round of the bench's
# pages asks 118 different ones, and 2,000 measured no better than 500.
PREPARED_PER_CONNECTION = 500


@event.listens_for(Engine, "connect")
def _per_connection(dbapi_connection, connection_record) -> None:
    # SQLite ignores foreign keys unless asked, per connection.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
    elif hasattr(dbapi_connection, "prepared_max"):
        dbapi_connection.prepared_max = PREPARED_PER_CONNECTION


# Whether the connection's transaction sent anything but a read (SELECT, SHOW, or a SET
# LOCAL, which ends with the transaction however it ends): noted as statements go, so
# that ending a request asks the database nothing more.
_WROTE = "kamportal.wrote"
_READS = ("SELECT", "SHOW", "SET LOCAL ")
# Kept on a compiled form: whether it only reads.
_ONLY_READS = "kamportal_only_reads"


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(connection, cursor, statement, parameters, context, executemany) -> None:
    if not _only_reads(statement, context):
        connection.info[_WROTE] = True


def _only_reads(statement: str, context) -> bool:
    """Whether `statement` only reads: it says so (SELECT, SHOW, SET LOCAL), or it is a
    SELECT or a UNION the portal built WITH a query before it (the clients' zones a zone
    at a time, the leader's view's counts over its clients found once) and nothing in it
    writes. Read once per compiled form (SQLAlchemy keeps those): walking a large
    statement costs a millisecond or two."""
    if statement.lstrip()[:10].upper().startswith(_READS):
        return True
    compiled = getattr(context, "compiled", None)
    if compiled is None or not isinstance(compiled.statement, (Select, CompoundSelect)):
        return False
    known = compiled.__dict__.get(_ONLY_READS)
    if known is None:
        known = not any(
            getattr(element, "is_dml", False) for element in iterate(compiled.statement)
        )
        compiled.__dict__[_ONLY_READS] = known
    return known


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_ended(connection) -> None:
    connection.info.pop(_WROTE, None)


def end_reading_with_commit(error: BaseException | None) -> None:
    """On PostgreSQL, end a transaction that only read with COMMIT rather than the ROLLBACK
    the session's removal sends next. To the database the two are the same; but psycopg
    drops every statement it prepared on the connection at a ROLLBACK, and each request
    ends with one: no statement would stay prepared (planned once, not at each request)
    from one request to the next. At 50,400 clients this takes 11-15 ms off the day of an
    ACM or a leader (bench/README.md).

    A transaction that sent anything but a read (an INSERT, an UPDATE, a statement WITH a
    write in it...), holds changes not flushed, waits for a rollback, or ends on an error
    is left to the rollback. The commit goes to the driver's connection, under the
    session: the session's own commit would expire every object the request loaded, and
    its removal next then rolls back a transaction already ended, which sends nothing."""
    if error is not None:
        return
    session = db.session()
    if not (session.in_transaction() and session.is_active):
        return
    if session.new or session.dirty or session.deleted:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and not connection.info.get(_WROTE):
        connection.connection.dbapi_connection.commit()

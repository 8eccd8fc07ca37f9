"""Lists a page at a time (issue 17): a page that holds several lists (finance's queue)
counts them all in one statement, then reads each list's page of rows. A long list picks
its page's ids first, then reads those rows with what they show (`picked_page`)."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, lazyload
from sqlalchemy.sql.elements import True_

from kamportal.extensions import db


class PageSteps:
    """What the shared pager (`_pager.html`) reads of a page whose rows are at hand: the
    subclass gives `page`, `per_page` and `total`. From a page past the last, "previous"
    leads to the last."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return min(self.page, self.pages + 1) - 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int:
        return self.page + 1


class _Counted(Pagination):
    """A page of a list whose total is counted already: only its rows are read."""

    def _query_items(self) -> list[Any]:
        query = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(db.session.execute(query).unique().scalars())

    def _query_count(self) -> int:
        return self._query_args["total"]


class _Picked(Pagination):
    """A page of a list read in two steps within one statement: the ids of the page's rows,
    ordered and limited, then those rows with the joins that only display them."""

    def _query_items(self) -> list[Any]:
        key = self._query_args["key"]
        ids = self._query_args["ids"].limit(self.per_page).offset(self._query_offset)
        query = self._query_args["rows"].where(key.in_(ids.scalar_subquery()))
        return list(db.session.execute(query).unique().scalars())

    def _query_count(self) -> int:
        ids = self._query_args["ids"].order_by(None).subquery()
        return db.session.execute(select(func.count()).select_from(ids)).scalar_one()


def picked_page(
    ids: Select, rows: Select, key: InstrumentedAttribute[int], *, page: int, per_page: int
) -> Pagination:
    """The page `page` of a list: `ids` selects the list's `key`s in its order, `rows` reads
    the rows (with what they display, in the same order). Two statements, the count and the
    rows, whose joins touch only the page's rows, not the whole list's."""
    return _Picked(page=page, per_page=per_page, error_out=False, ids=ids, rows=rows, key=key)


def to_visible_clients(query: Select, client: Any, clause: ColumnElement[bool]) -> Select:
    """`query` kept to the rows of the clients `clause` (on Client) allows, joined to them
    through `client` only when the clause narrows: for whoever sees every client (its
    `true()`) the clients table is left out of the filtering, however long the list."""
    if isinstance(clause, True_):
        return query
    return query.join(client).where(clause)


def totals(queries: dict[str, Select]) -> dict[str, int]:
    """How many rows each of `queries` has (one statement, whatever their number)."""
    counts = [
        select(func.count())
        .select_from(query.options(lazyload("*")).order_by(None).subquery())
        .scalar_subquery()
        .label(name)
        for name, query in queries.items()
    ]
    return dict(db.session.execute(select(*counts)).one()._mapping)


def pages_of(
    queries: dict[str, Select], pages: dict[str, int], *, per_page: int
) -> dict[str, Pagination]:
    """The page `pages[name]` (the first if not given) of each of `queries`: one statement
    for their totals, then one for each page's rows. A page past the last is empty."""
    counted = totals(queries) if queries else {}
    return {
        name: _Counted(
            page=pages.get(name, 1),
            per_page=per_page,
            error_out=False,
            select=query,
            total=counted[name],
        )
        for name, query in queries.items()
    }

"""Lists a page at a time (issue 17): a page that holds several lists (finance's queue)
counts them all in one statement, then reads each list's page of rows."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from kamportal.extensions import db


class _Counted(Pagination):
    """A page of a list whose total is counted already: only its rows are read."""

    def _query_items(self) -> list[Any]:
        query = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(db.session.execute(query).unique().scalars())

    def _query_count(self) -> int:
        return self._query_args["total"]


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

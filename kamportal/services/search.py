"""Searching lists by what the user typed: every LIKE in the portal goes through here, so
that `%`, `_` and `\\` in a search match themselves, never "anything"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

# The escape character of every LIKE pattern built here.
ESCAPE = "\\"
# The shortest text looked for anywhere in a name (`contains`): a trigram index
# (PostgreSQL's pg_trgm) answers three characters or more; fewer would read every row.
MIN_LENGTH = 3


def literal_pattern(text: str) -> str:
    """`text` for a LIKE pattern, matching itself: the escape character and LIKE's
    wildcards (`%` any run, `_` any one character) are escaped."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(column: InstrumentedAttribute[Any], text: str) -> ColumnElement[bool]:
    """`column` contains `text`, case-insensitively, every character taken literally."""
    return column.ilike(f"%{literal_pattern(text)}%", escape=ESCAPE)


def starts_with(
    column: InstrumentedAttribute[Any] | ColumnElement[Any], text: str, *, any_case: bool = True
) -> ColumnElement[bool]:
    """`column` starts with `text`, every character taken literally. `any_case=False`
    for a column kept in capitals (codes, numbers, keys) searched with `text` in capitals:
    a prefix LIKE of one case is one an index can answer."""
    pattern = f"{literal_pattern(text)}%"
    if any_case:
        return column.ilike(pattern, escape=ESCAPE)
    return column.like(pattern, escape=ESCAPE)


def ends_with(column: InstrumentedAttribute[Any], text: str) -> ColumnElement[bool]:
    """`column` ends with `text`, every character taken literally."""
    return column.like(f"%{literal_pattern(text)}", escape=ESCAPE)

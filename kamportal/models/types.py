"""Column types every model shares: aware-UTC instants and money; the text at a key of a
JSON column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_currency, get_currency_precision
from sqlalchemy import ColumnElement, DateTime, Numeric, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, always timezone-aware UTC in Python.

    SQLite drops the offset, so values are stored as naive UTC there and made aware again
    on the way out. A naive datetime is refused: its zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Enough for any amount the portal invoices, and for the three-decimal Gulf currencies
# (KWD, BHD, OMR) that a Numeric(12, 2) would round.
MoneyAmount = Numeric(14, 3, asdecimal=True)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency` (0.01 for USD, 0.001 for KWD, 1 for JPY)."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one ISO 4217 currency, rounded to the currency's minor unit."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise TypeError("Money takes a Decimal or a string, never a float")
        currency = self.currency.upper()
        amount = Decimal(self.amount).quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "amount", amount)

    def __str__(self) -> str:
        return format_currency(self.amount, self.currency, locale="en")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Shorthand for an aware UTC instant (demo data and tests)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class json_text(FunctionElement[str]):
    """The text at `key` of the JSON column `column`, the key written into the statement
    rather than bound: PostgreSQL's `column ->> 'key'`, as a partial index's condition
    says it (so the planner can match the two), and SQLite's json_extract (any version)."""

    type = String()
    inherit_cache = True

    def __init__(self, column: ColumnElement, key: str) -> None:
        if not key.isidentifier():
            raise ValueError(f"not a plain JSON key: {key!r}")
        super().__init__(column, literal_column(f"'{key}'"))


@compiles(json_text)
def _json_text(element: json_text, compiler, **kw) -> str:
    column, key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_extract({column}, '$.' || {key})"


@compiles(json_text, "postgresql")
def _json_text_postgresql(element: json_text, compiler, **kw) -> str:
    column, key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({column} ->> {key})"

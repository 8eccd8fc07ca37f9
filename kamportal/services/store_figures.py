"""Store figures in (F4): each store's daily orders and GMV, from the platform's API or a
CSV upload, read the same way and written the same way.

A row names a store by its code, a day of the store's calendar, the day's orders and GMV,
and the currency (the store's). `check_rows` reads rows as they came (text or JSON values)
and says, field by field, what is wrong with each; `upsert` writes the good ones, one row
per store and day: a day sent again replaces what was there (the same figures change
nothing), so sending twice is harmless. Who may write a store: an integration its own
stores (Client.integration_id), a person the stores they work on (admins: all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, tuple_, update

from kamportal import clock
from kamportal.errors import ValidationError
from kamportal.extensions import db
from kamportal.models import Client, Integration, StoreDay, User
from kamportal.services import access, validation

# The fields of a row, as the API's JSON and the CSV's header name them.
FIELDS = ("store_code", "day", "orders", "gmv", "currency")
SOURCES = ("api", "csv", "demo")
MAX_ORDERS = 10_000_000
# How far back a day may be sent (the figures of older days are history, not news).
MAX_DAYS_BACK = 3 * 366
# Rows looked up or written per statement.
CHUNK = 500


@dataclass(frozen=True)
class DayFigures:
    """One store's day, checked: the store, the day, its orders and GMV (its currency)."""

    client: Client
    day: date
    orders: int
    gmv: Decimal

    @property
    def currency(self) -> str:
        return self.client.currency


@dataclass(frozen=True)
class CheckedRow:
    """A row as it came (`number`: its place, from 1), and either its figures or what is
    wrong with it, by field ("row" for the row as a whole)."""

    number: int
    figures: DayFigures | None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    """What an upsert did: days added, days changed, days sent again unchanged."""

    added: int
    changed: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.added + self.changed + self.unchanged


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""  # never a figure, whatever JSON says
    return str(value).strip()


def _day(value: object, client: Client | None) -> date:
    text = _text(value)
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError("Give the day as YYYY-MM-DD.", field="day")
    today = clock.today(client.timezone) if client is not None else clock.today("UTC")
    validation.date_between(
        day,
        field="day",
        earliest=today - timedelta(days=MAX_DAYS_BACK),
        latest=today,
        message="Give a day of the last three years, today at the latest (the store's calendar).",
    )
    return day


def _orders(value: object) -> int:
    text = _text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif text.isascii() and text.isdigit():
        number = int(text)
    else:
        raise ValidationError("Give the number of orders, a whole number.", field="orders")
    validation.whole_number(number, field="orders", low=0, high=MAX_ORDERS)
    return number


def _gmv(value: object, currency: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)  # JSON numbers arrive as floats: read what was written
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    amount = validation.amount_of(value, currency, field="gmv", positive=False)
    if amount < 0:
        raise ValidationError("The GMV is zero or more.", field="gmv")
    return amount


def check_rows(
    rows: Iterable[Mapping[str, object]],
    *,
    integration: Integration | None = None,
    actor: User | None = None,
) -> list[CheckedRow]:
    """Each row read and checked, in order. A store must exist and be writable by
    `integration` (its own stores) or `actor` (the stores they work on); the day, the
    store's calendar's, within the last three years; orders a whole number; the GMV an
    amount of the store's currency, zero or more; the currency, if given, the store's.
    Reads the stores in chunks: a few statements whatever the number of rows."""
    rows = list(rows)
    codes = {_text(row.get("store_code")).upper() for row in rows if isinstance(row, Mapping)}
    stores = _stores(codes - {""})
    checked = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            checked.append(CheckedRow(number, None, {"row": "Each row is an object of fields."}))
            continue
        errors: dict[str, str] = {}
        code = _text(row.get("store_code")).upper()
        client = stores.get(code)
        if not code:
            errors["store_code"] = "Give the store's code."
        elif client is None or not _may_write(client, integration=integration, actor=actor):
            # The same answer for a store that does not exist and one that is not yours.
            errors["store_code"] = f"No store {code[:40]} that you may write."
            client = None
        values = _read_fields(row, client, errors)
        currency = _text(row.get("currency")).upper()
        if client is not None and currency and currency != client.currency:
            errors["currency"] = f"This store's figures are in {client.currency}."
        if errors or client is None:
            checked.append(CheckedRow(number, None, errors))
            continue
        checked.append(
            CheckedRow(number, DayFigures(client, values["day"], values["orders"], values["gmv"]))
        )
    return checked


def _read_fields(
    row: Mapping[str, object], client: Client | None, errors: dict[str, str]
) -> dict[str, object]:
    """The day, orders and GMV read (on the store's calendar and in its currency); what
    is wrong with each goes in `errors`."""
    readers = {
        "day": lambda value: _day(value, client),
        "orders": _orders,
        "gmv": lambda value: _gmv(value, client.currency if client else "USD"),
    }
    values: dict[str, object] = {}
    for name, read in readers.items():
        try:
            values[name] = read(row.get(name))
        except ValidationError as error:
            errors[name] = error.message
    return values


def _stores(codes: set[str]) -> dict[str, Client]:
    found: dict[str, Client] = {}
    # What cannot be a store code names no store (and NUL would not reach PostgreSQL).
    ordered = sorted(c for c in codes if len(c) <= 40 and validation.is_code(c))
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for client in db.session.scalars(select(Client).where(Client.store_code.in_(chunk))):
            found[client.store_code.upper()] = client
    return found


def _may_write(client: Client, *, integration: Integration | None, actor: User | None) -> bool:
    if integration is not None:
        return integration.is_active and client.integration_id == integration.id
    return actor is not None and access.can_work_on_client(actor, client)


def upsert(
    figures: Sequence[DayFigures], *, source: str, integration: Integration | None = None
) -> Written:
    """Write each store's day: added, or replaced when it differs from what is there; the
    last of two rows for the same store and day wins. The caller commits (one
    transaction for the whole lot)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    latest = {(f.client.id, f.day): f for f in figures}
    now = clock.now()
    by = integration.id if integration else None
    added: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    keys = list(latest)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        existing = {
            (client_id, day): (row_id, (orders, gmv, currency))
            for row_id, client_id, day, orders, gmv, currency in db.session.execute(
                select(
                    StoreDay.id,
                    StoreDay.client_id,
                    StoreDay.day,
                    StoreDay.orders,
                    StoreDay.gmv,
                    StoreDay.currency,
                ).where(tuple_(StoreDay.client_id, StoreDay.day).in_(chunk))
            )
        }
        for key in chunk:
            new = latest[key]
            values = {
                "orders": new.orders,
                "gmv": new.gmv,
                "currency": new.currency,
                "source": source,
                "integration_id": by,
                "updated_at": now,
            }
            if key not in existing:
                added.append({"client_id": key[0], "day": key[1], **values})
            elif existing[key][1] != (new.orders, new.gmv, new.currency):
                changed.append({"id": existing[key][0], **values})
    # Many rows a statement (executemany), not one statement a row.
    for start in range(0, len(added), CHUNK):
        db.session.execute(insert(StoreDay), added[start : start + CHUNK])
    for start in range(0, len(changed), CHUNK):
        db.session.execute(update(StoreDay), changed[start : start + CHUNK])
    return Written(len(added), len(changed), len(latest) - len(added) - len(changed))


def days_of(client: Client, *, first: date, last: date) -> list[StoreDay]:
    """The store's days from `first` to `last` that have figures, in order."""
    return list(
        db.session.scalars(
            select(StoreDay)
            .where(StoreDay.client_id == client.id, StoreDay.day.between(first, last))
            .order_by(StoreDay.day)
        )
    )

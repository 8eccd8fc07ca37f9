"""The demo's store figures (F4): 180 days of orders and GMV for every live and at-risk
store, as the platform would have sent them (a day missing now and then). Each store has a
shape, drawn from the seed: most sell steadily, some grow, some fall, some stopped selling
(no orders for the last 10 days or more) and some dipped and are recovering. Stores being
onboarded or launched sell nothing yet, and churned ones are gone: they get none."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from kamportal import clock
from kamportal.demo.common import SeedReport
from kamportal.extensions import db
from kamportal.models import Client, LifecycleStatus, StoreDay
from kamportal.models.types import minor_unit

DAYS = 180
CHUNK = 1000
# A day the platform did not send, now and then: the client page shows it as missing.
MISSING_SHARE = 0.02
# A typical order, by currency (GMV: the orders times about this).
ORDER_VALUE = {
    "EGP": 900,
    "SAR": 260,
    "AED": 250,
    "QAR": 250,
    "USD": 70,
    "KWD": 21,
    "BHD": 26,
    "OMR": 27,
    "JOD": 50,
}


def _steady(rng: random.Random) -> Callable[[int], float]:
    return lambda age: 1.0


def _growing(rng: random.Random) -> Callable[[int], float]:
    start = rng.uniform(0.4, 0.6)
    return lambda age: start + (1.6 - start) * (DAYS - age) / DAYS


def _falling(rng: random.Random) -> Callable[[int], float]:
    since = rng.randint(45, 70)  # days ago the fall began
    floor = rng.uniform(0.2, 0.4)
    return lambda age: 1.0 if age > since else floor + (1 - floor) * age / since


def _stopped(rng: random.Random) -> Callable[[int], float]:
    since = rng.randint(10, 25)  # the last day with orders was `since` + 1 days ago
    return lambda age: 0.0 if age <= since else 1.0


def _recovering(rng: random.Random) -> Callable[[int], float]:
    bottom = rng.randint(45, 60)  # days ago the store was at its lowest
    width = 20

    def shape(age: int) -> float:
        distance = abs(age - bottom)
        return 1.0 if distance >= width else 0.1 + 0.9 * distance / width

    return shape


SHAPES: dict[str, Callable[[random.Random], Callable[[int], float]]] = {
    "steady": _steady,
    "growing": _growing,
    "falling": _falling,
    "stopped": _stopped,
    "recovering": _recovering,
}
# How many of every 20 live stores and of every 10 at-risk ones have each shape: dealt like
# cards, so that each shape is there as soon as there are 20 live stores.
DECKS = {
    LifecycleStatus.LIVE: {
        "steady": 12,
        "growing": 3,
        "falling": 2,
        "stopped": 1,
        "recovering": 2,
    },
    LifecycleStatus.AT_RISK: {
        "steady": 1,
        "growing": 1,
        "falling": 3,
        "stopped": 3,
        "recovering": 2,
    },
}


def shapes_of(stores: list[Client], seed: int) -> dict[int, str]:
    """Each store's shape (by client id), dealt in the order of `stores` from a shuffled
    deck per lifecycle: the same for the same stores and seed."""
    shapes: dict[int, str] = {}
    for status, counts in DECKS.items():
        rng = random.Random(f"{seed}:figures-shapes:{status.value}")
        deck: list[str] = []
        for store in (s for s in stores if s.lifecycle is status):
            if not deck:
                deck = [name for name, count in counts.items() for _ in range(count)]
                rng.shuffle(deck)
            shapes[store.id] = deck.pop()
    return shapes


def stores_to_seed() -> list[Client]:
    """The live and at-risk stores without figures yet, in the order they were created."""
    with_figures = select(StoreDay.client_id).distinct()
    return list(
        db.session.scalars(
            select(Client)
            .where(
                Client.status.in_([s.value for s in DECKS]),
                Client.id.not_in(with_figures),
            )
            .order_by(Client.id)
        )
    )


def seed_store_figures(seed: int, now: datetime, report: SeedReport) -> None:
    """The last 180 days (to yesterday, each store's calendar) of the live and at-risk stores
    that have no figures yet; many rows a statement."""
    stores = stores_to_seed()
    shapes = shapes_of(stores, seed)
    rows: list[dict[str, Any]] = []
    for client in stores:
        rows += _days_of(client, SHAPES[shapes[client.id]], seed, now)
    for start in range(0, len(rows), CHUNK):
        # The table's insert, not the ORM's: tens of thousands of rows, nothing to track.
        db.session.execute(insert(StoreDay.__table__), rows[start : start + CHUNK])
    report.store_days += len(rows)


def _days_of(
    client: Client,
    shaped: Callable[[random.Random], Callable[[int], float]],
    seed: int,
    now: datetime,
) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:figures:{client.store_code}")
    shape = shaped(rng)
    usual = rng.choice((4, 8, 15, 30, 60, 120))
    places = -minor_unit(client.currency).as_tuple().exponent
    # The value of an order in the currency's minor unit (cents, fils).
    order_value = ORDER_VALUE.get(client.currency, 100) * rng.uniform(0.7, 1.4) * 10**places
    yesterday = clock.today(client.timezone, at=now) - timedelta(days=1)
    rows = []
    for age in range(DAYS - 1, -1, -1):  # age 0: yesterday
        noise = rng.random()  # one draw a day: the demo seeds in seconds
        if noise < MISSING_SHARE and age > 0:
            continue
        day = yesterday - timedelta(days=age)
        weekend = 1.25 if day.weekday() in (3, 4) else 1.0  # Thursday and Friday evenings
        orders = max(0, round(usual * shape(age) * weekend * (0.75 + noise / 2)))
        basket = 1.15 - (noise * 7 % 1) * 0.3  # the day's basket, 0.85 to 1.15 of usual
        rows.append(
            {
                "client_id": client.id,
                "day": day,
                "orders": orders,
                "gmv": Decimal(round(orders * order_value * basket)).scaleb(-places),
                "currency": client.currency,
                "source": "demo",
                "integration_id": None,
                "updated_at": now,
            }
        )
    return rows

"""Store figures out (F4): a store's last 90 days of orders and GMV, and how its last week
and month compare with the ones before, on the store's own calendar.

The days shown end with yesterday, the store's last whole day: today's figures, when some
were sent, are "today so far" and stay out of the series and the comparisons (half a day
would read as a fall). A day without figures is missing, not zero: a store that sold
nothing sends zero, and a day nobody sent is unknown, so the chart leaves a gap there.

A comparison sets the average day of one period against the average day of the period
before, each over the days that have figures: with every day present that is the change of
the totals; with a day missing it does not read the gap as a fall. It is None when either
period has no figures, or the one before averaged nothing (no change to measure from).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from kamportal import clock
from kamportal.extensions import db
from kamportal.models import Client, Money, StoreDay

WINDOW_DAYS = 90
WEEK_DAYS = 7
MONTH_DAYS = 30
_PERCENT = Decimal("0.1")


@dataclass(frozen=True)
class DayFigures:
    """One day of the store's calendar: its orders and GMV, or None for both when no
    figures came for it."""

    day: date
    orders: int | None
    gmv: Decimal | None

    @property
    def has_figures(self) -> bool:
        return self.orders is not None


@dataclass(frozen=True)
class Period:
    """The totals of consecutive days, `first` to `last`, over the days with figures."""

    first: date
    last: date
    orders: int
    gmv: Decimal
    days_with_figures: int

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Comparison:
    """A period against the one before it: each figure's change in percent (one decimal),
    or None when there is nothing to compare to."""

    current: Period
    previous: Period
    orders_change: Decimal | None
    gmv_change: Decimal | None


@dataclass(frozen=True)
class StoreTrends:
    """What the client page shows of a store's figures (F4)."""

    currency: str
    today: date
    days: list[DayFigures]
    today_so_far: DayFigures | None
    week: Comparison
    month: Comparison

    @property
    def has_figures(self) -> bool:
        return self.today_so_far is not None or any(d.has_figures for d in self.days)

    @property
    def days_with_figures(self) -> int:
        return sum(d.has_figures for d in self.days)

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)


def store_trends(client: Client) -> StoreTrends:
    """The store's last 90 whole days (ending yesterday, its calendar), today so far, and
    its week-on-week and month-on-month changes of orders and GMV (F4). One query.

    Only days in the store's currency count: a day sent in a currency the store no longer
    uses cannot be added to the others (the figures' door refuses a wrong currency)."""
    today = clock.today(client.timezone)
    first = today - timedelta(days=WINDOW_DAYS)
    found = {
        day: (orders, gmv)
        for day, orders, gmv in db.session.execute(
            select(StoreDay.day, StoreDay.orders, StoreDay.gmv).where(
                StoreDay.client_id == client.id,
                StoreDay.currency == client.currency,
                StoreDay.day.between(first, today),
            )
        )
    }

    def figures_of(day: date) -> DayFigures:
        orders, gmv = found.get(day, (None, None))
        return DayFigures(day, orders, gmv)

    days = [figures_of(first + timedelta(days=n)) for n in range(WINDOW_DAYS)]
    so_far = figures_of(today)
    return StoreTrends(
        currency=client.currency,
        today=today,
        days=days,
        today_so_far=so_far if so_far.has_figures else None,
        week=compare(days, WEEK_DAYS),
        month=compare(days, MONTH_DAYS),
    )


def compare(days: list[DayFigures], length: int) -> Comparison:
    """The last `length` of `days` (oldest first, consecutive) against the `length` before."""
    current = _period(days[-length:])
    previous = _period(days[-2 * length : -length])
    return Comparison(
        current,
        previous,
        orders_change=average_day_change(
            current, previous, Decimal(current.orders), Decimal(previous.orders)
        ),
        gmv_change=average_day_change(current, previous, current.gmv, previous.gmv),
    )


def _period(days: list[DayFigures]) -> Period:
    with_figures = [d for d in days if d.has_figures]
    return Period(
        first=days[0].day,
        last=days[-1].day,
        orders=sum(d.orders or 0 for d in with_figures),
        gmv=sum((d.gmv or Decimal(0) for d in with_figures), Decimal(0)),
        days_with_figures=len(with_figures),
    )


def average_day_change(
    current: Period, previous: Period, now_total: Decimal, before_total: Decimal
) -> Decimal | None:
    """The change in percent (one decimal) of a figure's average day over the days with
    figures, from `previous` to `current`; None when either has no figures or the one
    before averaged nothing. The store's trends (F4) and the monthly report (P4) use it."""
    if not current.days_with_figures or not previous.days_with_figures or not before_total:
        return None
    now_average = now_total / current.days_with_figures
    before_average = before_total / previous.days_with_figures
    return ((now_average - before_average) * 100 / before_average).quantize(
        _PERCENT, rounding=ROUND_HALF_UP
    )

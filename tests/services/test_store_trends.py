"""Store figures out (F4), without HTTP: the last 90 whole days of a store's calendar, and
its week-on-week and month-on-month changes of orders and GMV, with days missing or zero."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from kamportal.models import StoreDay
from kamportal.models.types import utc
from kamportal.services.store_trends import WINDOW_DAYS, store_trends
from tests.blueprints.test_query_counts import counting_queries

# 23:30 UTC on 1 Dec: already 2 Dec in Cairo, still 1 Dec in Los Angeles.
NOW = utc(2026, 12, 1, 23, 30)
CAIRO_YESTERDAY = date(2026, 12, 1)


@pytest.fixture
def store(make_client, frozen_clock):
    frozen_clock(NOW)
    return make_client(store_code="CAIRO1", timezone="Africa/Cairo", currency="EGP")


def sold(db, client, figures: dict[date, tuple[int, str]], currency: str | None = None):
    """The store's figures: {day: (orders, GMV)}."""
    db.session.add_all(
        StoreDay(
            client_id=client.id,
            day=day,
            orders=orders,
            gmv=Decimal(gmv),
            currency=currency or client.currency,
            source="demo",
            updated_at=NOW,
        )
        for day, (orders, gmv) in figures.items()
    )
    db.session.commit()


def each_day(last: date, count: int, orders: int, gmv: str) -> dict[date, tuple[int, str]]:
    return {last - timedelta(days=n): (orders, gmv) for n in range(count)}


def test_the_90_days_end_with_yesterday_and_a_day_without_figures_is_missing_F4(db, store):
    sold(db, store, {CAIRO_YESTERDAY: (4, "400"), date(2026, 11, 1): (0, "0")})
    trends = store_trends(store)
    assert trends.today == date(2026, 12, 2)
    assert len(trends.days) == WINDOW_DAYS
    assert [d.day for d in trends.days] == [
        CAIRO_YESTERDAY - timedelta(days=n) for n in range(WINDOW_DAYS - 1, -1, -1)
    ]
    by_day = {d.day: d for d in trends.days}
    assert (by_day[CAIRO_YESTERDAY].orders, by_day[CAIRO_YESTERDAY].gmv) == (4, Decimal("400"))
    # Zero sold is a figure; a day nobody sent is unknown.
    assert by_day[date(2026, 11, 1)].has_figures and by_day[date(2026, 11, 1)].orders == 0
    assert not by_day[date(2026, 11, 2)].has_figures and by_day[date(2026, 11, 2)].gmv is None
    assert trends.days_with_figures == 2


def test_at_2330_utc_cairo_has_finished_the_day_los_angeles_has_not_F4(db, store, make_client):
    """The same UTC day is yesterday for a store in Cairo and today, not over, in LA."""
    la = make_client(timezone="America/Los_Angeles", country="US", currency="USD")
    sold(db, store, {CAIRO_YESTERDAY: (5, "500")})
    sold(db, la, {date(2026, 12, 1): (7, "70"), date(2026, 11, 30): (3, "30")})

    cairo = store_trends(store)
    assert cairo.days[-1].day == date(2026, 12, 1) and cairo.days[-1].orders == 5
    assert cairo.week.current.orders == 5 and cairo.today_so_far is None

    los_angeles = store_trends(la)
    assert los_angeles.today == date(2026, 12, 1)
    assert los_angeles.days[-1].day == date(2026, 11, 30) and los_angeles.days[-1].orders == 3
    assert los_angeles.week.current.orders == 3  # today's 7 orders are not a whole day yet
    assert (los_angeles.today_so_far.orders, los_angeles.today_so_far.gmv) == (7, Decimal("70"))


def test_the_store_midnight_moves_the_window_by_one_day_F4(db, store, frozen_clock):
    sold(db, store, {date(2026, 12, 1): (9, "90")})
    # Cairo is UTC+2 in December: its 1 December ends at 22:00 UTC.
    frozen_clock(utc(2026, 12, 1, 21, 59))
    before = store_trends(store)
    assert before.days[-1].day == date(2026, 11, 30) and before.today_so_far.orders == 9
    frozen_clock(utc(2026, 12, 1, 22, 0))
    after = store_trends(store)
    assert after.days[-1].day == date(2026, 12, 1) and after.today_so_far is None
    assert after.week.current.orders == 9


def test_week_on_week_and_month_on_month_compare_the_totals_F4(db, store):
    sold(db, store, each_day(CAIRO_YESTERDAY, 7, 12, "90.00"))
    sold(db, store, each_day(CAIRO_YESTERDAY - timedelta(days=7), 53, 10, "100.00"))
    trends = store_trends(store)
    week = trends.week
    assert (week.current.first, week.current.last) == (date(2026, 11, 25), CAIRO_YESTERDAY)
    assert (week.current.orders, week.previous.orders) == (84, 70)
    assert (week.current.gmv, week.previous.gmv) == (Decimal("630.00"), Decimal("700.00"))
    assert (week.orders_change, week.gmv_change) == (Decimal("20.0"), Decimal("-10.0"))
    month = trends.month
    assert (month.current.orders, month.previous.orders) == (84 + 23 * 10, 300)
    assert month.orders_change == Decimal("4.7")  # 314 against 300
    assert month.gmv_change == Decimal("-2.3")  # 2930 against 3000


def test_a_missing_day_is_not_read_as_a_fall_F4(db, store):
    """Six of the last seven days came, 12 orders each; the week before, 10 a day: the
    average day rose 20%, whatever the day nobody sent."""
    week = each_day(CAIRO_YESTERDAY, 7, 12, "120")
    del week[CAIRO_YESTERDAY - timedelta(days=3)]
    sold(db, store, week | each_day(CAIRO_YESTERDAY - timedelta(days=7), 7, 10, "100"))
    comparison = store_trends(store).week
    assert comparison.current.orders == 72 and comparison.current.days_with_figures == 6
    assert comparison.current.days == 7
    assert (comparison.orders_change, comparison.gmv_change) == (Decimal("20.0"), Decimal("20.0"))


def test_zeros_compare_and_nothing_to_compare_to_is_none_F4(db, store):
    # Sold nothing this week after 10 a day: a fall of 100%.
    sold(db, store, each_day(CAIRO_YESTERDAY, 7, 0, "0"))
    sold(db, store, each_day(CAIRO_YESTERDAY - timedelta(days=7), 7, 10, "100"))
    # The month before sold nothing at all: no change to measure from.
    sold(db, store, each_day(CAIRO_YESTERDAY - timedelta(days=30), 30, 0, "0"))
    trends = store_trends(store)
    assert (trends.week.orders_change, trends.week.gmv_change) == (
        Decimal("-100.0"),
        Decimal("-100.0"),
    )
    assert trends.month.orders_change is None and trends.month.gmv_change is None


def test_a_period_without_figures_has_nothing_to_compare_F4(db, store, make_client):
    sold(db, store, each_day(CAIRO_YESTERDAY, 7, 3, "30"))
    trends = store_trends(store)
    assert trends.week.previous.days_with_figures == 0
    assert trends.week.orders_change is None and trends.week.gmv_change is None

    empty = store_trends(make_client())
    assert not empty.has_figures and empty.days_with_figures == 0
    assert empty.week.orders_change is None and empty.month.gmv_change is None
    assert empty.week.current.gmv == Decimal(0)


def test_only_days_in_the_stores_currency_count_and_in_one_query_F4(db, store):
    sold(db, store, each_day(CAIRO_YESTERDAY, 3, 2, "20"))
    sold(db, store, {CAIRO_YESTERDAY - timedelta(days=5): (50, "5000")}, currency="USD")
    db.session.refresh(store)  # the store as the page has it, loaded
    with counting_queries(db.engine) as statements:
        trends = store_trends(store)
    assert len(statements) == 1
    assert trends.week.current.orders == 6 and trends.days_with_figures == 3
